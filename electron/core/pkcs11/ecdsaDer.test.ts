import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ECDSASigValue } from '@peculiar/asn1-ecc';
import { ecdsaRawToDer } from './signer';

test('r‖s from a real signature becomes the DER that verifies, on every curve', () => {
  for (const [curve, hash] of [['P-256', 'sha256'], ['P-384', 'sha384'], ['P-521', 'sha512']] as const) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    for (let i = 0; i < 50; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);
      assert.ok(verify(hash, data, publicKey, der), `${curve} signature ${i} does not verify`);
    }
  }
});

test('leading zeros are dropped, a high bit gets a 0x00 pad, and a long SEQUENCE uses the 0x81 length form', () => {
  const cases: Array<[string, number[], number[]]> = [
    ['high bits set', [0x80, ...Array(31).fill(1)], [0xff, ...Array(31).fill(2)]],
    ['leading zeros', [0, 0, 0x7f, ...Array(29).fill(3)], [0, 0x80, ...Array(30).fill(4)]],
    ['all zero but the last byte', [...Array(31).fill(0), 5], [...Array(31).fill(0), 0x90]],
    ['P-521 sized with high bits', [0x01, ...Array(65).fill(0xff)], [0x00, 0x80, ...Array(64).fill(0xee)]],
    ['P-521 top bytes 0xff', [0xff, ...Array(65).fill(0x11)], [0xff, ...Array(65).fill(0x22)]],
  ];
  for (const [name, r, s] of cases) {
    const der = ecdsaRawToDer(Uint8Array.from([...r, ...s]));
    const parsed = AsnConvert.parse(der, ECDSASigValue);
    const strip = (v: number[]) => { let i = 0; while (i < v.length - 1 && v[i] === 0) i++; const t = v.slice(i); return t[0] & 0x80 ? [0, ...t] : t; };
    assert.deepEqual([...new Uint8Array(parsed.r)], strip(r), `${name}: r`);
    assert.deepEqual([...new Uint8Array(parsed.s)], strip(s), `${name}: s`);
    // Re-encoding what was parsed gives the same bytes: the DER is canonical.
    assert.deepEqual(new Uint8Array(AsnConvert.serialize(parsed)), der, `${name}: not canonical DER`);
  }
});

test('a signature of odd or zero length is refused', () => {
  assert.throws(() => ecdsaRawToDer(new Uint8Array(63)), /odd length 63/);
  assert.throws(() => ecdsaRawToDer(new Uint8Array(0)), /odd length 0/);
});
