import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalJson, canonicalSha256 } from './canonical';

// The `canonicalize` package is ESM-only (import condition only), so it is loaded dynamically
// here to hold our synchronous RFC 8785 encoder to the reference implementation.
async function reference(): Promise<(v: unknown) => string | undefined> {
  const mod = (await import('canonicalize')) as unknown as { default: ((v: unknown) => string | undefined) | { default: (v: unknown) => string | undefined } };
  return typeof mod.default === 'function' ? mod.default : mod.default.default;
}

test('matches the canonicalize package (RFC 8785) on varied inputs', async () => {
  const ref = await reference();
  const samples: unknown[] = [
    null, true, false, 0, -0, 1, -1, 1.5, 1e21, 1e-7, 123456789012345680000, 5e-324, 0.1 + 0.2, Number.MAX_SAFE_INTEGER,
    '', 'plain', 'quote " backslash \\ slash /', 'control \u0000\u0001\b\f\n\r\t\u001f', 'unicode é € 𝄞 \u2028\u2029', '<script>',
    [], [1, [2, [3]]], {}, { b: 1, a: 2 }, { '\u20ac': 1, '\r': 2, '1': 3, 'ö': 4, '\ud83d\ude00': 5, '\u0080': 6, 'a': 7 },
    { nested: { z: [{ y: 1, x: 2 }], a: null }, arr: [true, 'x', 0.5] },
    { skip: undefined, keep: 1 },
    [undefined, 1],
  ];
  // RFC 8785 appendix example for property sorting and number forms
  samples.push({ numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001], string: '\u20ac$\u000f\u000aA\'\u0042\u0022\u005c\\"/', literals: [null, true, false] });
  for (const s of samples) assert.equal(canonicalJson(s), ref(s), JSON.stringify(s));
});

test('RFC 8785 §3.2.2.3 sample: keys sorted by UTF-16 code units', () => {
  const input = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
  // Object.keys would put the integer-like "1" first, so read the order from the text itself.
  const order = [...canonicalJson(input).matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`));
  assert.deepEqual(order, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
});

test('refuses values that have no canonical form', () => {
  assert.throws(() => canonicalJson(NaN));
  assert.throws(() => canonicalJson({ x: Infinity }));
  assert.throws(() => canonicalJson('\ud800'));
  assert.throws(() => canonicalJson({ f: () => 1 }));
  const cyc: unknown[] = [];
  cyc.push(cyc);
  assert.throws(() => canonicalJson(cyc));
});

test('canonicalSha256 hashes the UTF-8 bytes of the canonical text', () => {
  const v = { b: 'é', a: 1 };
  assert.equal(canonicalSha256(v), createHash('sha256').update(Buffer.from('{"a":1,"b":"é"}', 'utf8')).digest('hex'));
});
