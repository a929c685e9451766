// JSON that keeps 64-bit integers exact.
//
// kalamdb-server writes BIGINT values and `_seq` as JSON numbers with all their digits
// (`_seq` is a 63-bit snowflake, always past 2^53). `JSON.parse` would round them to the
// nearest double, and the reviver that sees a number's source text is not in Node 20. So
// parsing goes through this small parser: an integer literal outside the safe range
// becomes a `bigint`; every other value is what `JSON.parse` gives. Text without a run of
// 16 digits can't hold such an integer and takes the native parser.

export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const SIXTEEN_DIGITS = /\d{16}/;

/** Parses JSON text; integers beyond Number.MAX_SAFE_INTEGER come back as bigint. */
export function parseJson(text: string): JsonValue {
  if (!SIXTEEN_DIGITS.test(text)) return JSON.parse(text) as JsonValue;
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value();
  parser.skipSpace();
  if (parser.at < text.length) parser.fail('unexpected text after the value');
  return value;
}

/** Serializes like JSON.stringify, but writes a bigint as its integer literal. */
export function stringifyJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function' && !(value instanceof Date)) {
    return stringifyJson(withToJson.toJSON());
  }
  if (value instanceof Date) return JSON.stringify(value);
  if (Array.isArray(value)) {
    return '[' + value.map((item) => (item === undefined ? 'null' : stringifyJson(item))).join(',') + ']';
  }
  const parts: string[] = [];
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function') continue;
    parts.push(JSON.stringify(key) + ':' + stringifyJson(item));
  }
  return '{' + parts.join(',') + '}';
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

class Parser {
  at = 0;
  constructor(private readonly text: string) {}

  fail(why: string): never {
    throw new SyntaxError(`JSON: ${why} at position ${this.at}`);
  }

  skipSpace(): void {
    const text = this.text;
    let at = this.at;
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      else break;
    }
    this.at = at;
  }

  value(): JsonValue {
    const c = this.text.charCodeAt(this.at);
    if (c === QUOTE) return this.string();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.text.startsWith('true', this.at)) { this.at += 4; return true; }
    if (this.text.startsWith('false', this.at)) { this.at += 5; return false; }
    if (this.text.startsWith('null', this.at)) { this.at += 4; return null; }
    return this.fail('unexpected character');
  }

  object(): { [key: string]: JsonValue } {
    const out: { [key: string]: JsonValue } = {};
    this.at++;  // {
    this.skipSpace();
    if (this.text.charCodeAt(this.at) === 0x7d) { this.at++; return out; }
    for (;;) {
      if (this.text.charCodeAt(this.at) !== QUOTE) this.fail('expected a key');
      const key = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.at) !== 0x3a) this.fail("expected ':'");
      this.at++;
      this.skipSpace();
      out[key] = this.value();
      this.skipSpace();
      const c = this.text.charCodeAt(this.at++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) this.fail("expected ',' or '}'");
      this.skipSpace();
    }
  }

  array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.at++;  // [
    this.skipSpace();
    if (this.text.charCodeAt(this.at) === 0x5d) { this.at++; return out; }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const c = this.text.charCodeAt(this.at++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail("expected ',' or ']'");
      this.skipSpace();
    }
  }

  string(): string {
    const text = this.text;
    const start = this.at + 1;
    const end = text.indexOf('"', start);
    if (end < 0) this.fail('unterminated string');
    // Most strings hold no escape: take them as a slice.
    const slash = text.indexOf('\\', start);
    if (slash < 0 || slash > end) {
      this.at = end + 1;
      return text.slice(start, end);
    }
    // Otherwise find the real closing quote and let JSON.parse unescape.
    let at = slash;
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === BACKSLASH) at += 2;
      else if (c === QUOTE) break;
      else if (at >= text.length) this.fail('unterminated string');
      else at++;
    }
    this.at = at + 1;
    return JSON.parse(text.slice(start - 1, at + 1)) as string;
  }

  number(): number | bigint {
    const text = this.text;
    const start = this.at;
    let at = start;
    if (text.charCodeAt(at) === 0x2d) at++;
    const digitsStart = at;
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c >= 0x30 && c <= 0x39) at++;
      else break;
    }
    if (at === digitsStart) this.fail('expected a digit');
    let integer = true;
    let c = text.charCodeAt(at);
    if (c === 0x2e) {
      integer = false;
      at++;
      while (at < text.length && (c = text.charCodeAt(at)) >= 0x30 && c <= 0x39) at++;
      c = text.charCodeAt(at);
    }
    if (c === 0x65 || c === 0x45) {
      integer = false;
      at++;
      c = text.charCodeAt(at);
      if (c === 0x2b || c === 0x2d) at++;
      while (at < text.length && (c = text.charCodeAt(at)) >= 0x30 && c <= 0x39) at++;
    }
    this.at = at;
    const literal = text.slice(start, at);
    const value = Number(literal);
    if (integer && at - digitsStart > 15 && !Number.isSafeInteger(value)) return BigInt(literal);
    return value;
  }
}
