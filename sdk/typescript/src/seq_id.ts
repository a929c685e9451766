// A `_seq`: the 64-bit, commit-ordered version number the server gives every row version
// (a snowflake: 41 bits of milliseconds since 2024-01-01, 10 bits of node, 12 of counter).
// Kept as a bigint, because every `_seq` is past 2^53.

const EPOCH_MS = 1704067200000n;

export class SeqId {
  readonly #value: bigint;

  private constructor(value: bigint) {
    this.#value = value;
  }

  /** From a bigint, an integer number, or a decimal string (a stored checkpoint). */
  static from(value: SeqId | bigint | number | string): SeqId {
    if (value instanceof SeqId) return value;
    if (typeof value === 'bigint') return new SeqId(value);
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`SeqId.from: ${value} is not an exact integer; pass a string or bigint`);
      }
      return new SeqId(BigInt(value));
    }
    const text = String(value).trim();
    if (!/^-?\d+$/.test(text)) throw new SyntaxError(`SeqId.from: "${text}" is not an integer`);
    return new SeqId(BigInt(text));
  }

  static zero(): SeqId {
    return new SeqId(0n);
  }

  toBigInt(): bigint {
    return this.#value;
  }

  /** As a number: exact only below 2^53, so rarely; prefer toString() or toBigInt(). */
  toNumber(): number {
    return Number(this.#value);
  }

  /** The commit time the snowflake carries, in milliseconds since the Unix epoch. */
  timestampMillis(): number {
    return Number((BigInt.asUintN(64, this.#value) >> 22n) + EPOCH_MS);
  }

  toDate(): Date {
    return new Date(this.timestampMillis());
  }

  equals(other: SeqId): boolean {
    return this.#value === other.#value;
  }

  compareTo(other: SeqId): number {
    return this.#value < other.#value ? -1 : this.#value > other.#value ? 1 : 0;
  }

  /** The decimal digits: what to store as a checkpoint. */
  toString(): string {
    return this.#value.toString();
  }

  /** JSON has no 64-bit integers: a SeqId serializes as its decimal string. */
  toJSON(): string {
    return this.toString();
  }
}
