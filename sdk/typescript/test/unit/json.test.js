import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson, stringifyJson } from '../../dist/index.js';

test('integers past 2^53 come back exact, as bigint', () => {
  const text = '{"a":9007199254740993,"b":[-9223372036854775808,18446744073709551615],"c":"9007199254740993"}';
  assert.deepEqual(parseJson(text), { a: 9007199254740993n, b: [-9223372036854775808n, 18446744073709551615n], c: '9007199254740993' });
});

test('everything else parses as JSON.parse does', () => {
  const samples = [
    '{"x":1.5e300,"y":-0.25,"z":1234567890123456.5,"w":12345678901234567e2}',
    '["a\\"b\\\\c\\u00e9\\n", true, false, null, {}, [], 0, -1, 9007199254740991]',
    ' { "k" : [ 1 , { "n" : "1234567890123456789" } ] } ',
  ];
  for (const text of samples) assert.deepEqual(parseJson(text + ' 1234567890123456'.slice(0, 0)), JSON.parse(text));
});

test('malformed text is a SyntaxError', () => {
  for (const bad of ['{"a":12345678901234567', '[12345678901234567,]', '{"a" 12345678901234567}', '12345678901234567 x']) {
    assert.throws(() => parseJson(bad), SyntaxError, bad);
  }
});

test('stringifyJson writes bigints as literals', () => {
  assert.equal(stringifyJson({ a: 2n ** 63n - 1n, b: [1, 'x', null, undefined], c: undefined }),
    '{"a":9223372036854775807,"b":[1,"x",null,null]}');
});
