/**
 * decodeOid reads arcs as numbers until they pass 2^45 and as BigInt after: it must give the text
 * a plain BigInt reading gives, for the OIDs certificates carry, for arcs around the switch, and
 * for UUID OIDs (2.25.<128 bits>), compared also with OpenSSL's own reading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { decodeOid } from './model';

/** The reading decodeOid had before (BigInt for every byte), as the reference. */
function reference(content: Uint8Array): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (const b of content) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0n;
    }
  }
  if (!arcs.length) return '';
  const first = arcs[0] < 40n ? 0n : arcs[0] < 80n ? 1n : 2n;
  return [first, arcs[0] - first * 40n, ...arcs.slice(1)].join('.');
}

function encodeArc(v: bigint): number[] {
  const out = [Number(v & 0x7fn)];
  for (v >>= 7n; v > 0n; v >>= 7n) out.unshift(Number(v & 0x7fn) | 0x80);
  return out;
}

function content(arcs: bigint[]): Uint8Array {
  return Uint8Array.from([...encodeArc(arcs[0] * 40n + arcs[1]), ...arcs.slice(2).flatMap(encodeArc)]);
}

test('decodeOid reads every arc size as a BigInt reading does', () => {
  const cases: bigint[][] = [[1n, 2n, 840n, 10045n, 2n, 1n], [2n, 5n, 29n, 32n, 0n], [0n, 9n, 2342n, 19200300n, 100n, 1n, 1n], [2n, 999n, 3n]];
  for (const e of [44n, 45n, 46n, 52n, 53n, 54n, 63n, 64n]) cases.push([1n, 3n, 2n ** e - 1n, 2n ** e, 2n ** e + 1n]);
  cases.push([2n, 25n, BigInt('0x' + 'f'.repeat(32))], [2n, 2n ** 60n, 1n]);
  for (let i = 0; i < 200; i++) {
    const r = randomBytes(40);
    cases.push([BigInt(r[0] % 3), BigInt(r[1] % 40), ...Array.from({ length: 1 + (r[2] % 6) }, (_, k) => BigInt('0x' + r.subarray(3 + k * 6, 3 + k * 6 + 1 + (r[3 + k] % 6)).toString('hex')))]);
  }
  for (const arcs of cases) {
    const c = content(arcs);
    assert.equal(decodeOid(c), reference(c), arcs.join('.'));
    assert.equal(decodeOid(c), arcs.join('.'));
  }
  // A truncated last arc is left out, as before.
  assert.equal(decodeOid(Uint8Array.from([0x2a, 0x86])), reference(Uint8Array.from([0x2a, 0x86])));
  assert.equal(decodeOid(new Uint8Array(0)), '');
});

test('a UUID OID reads as OpenSSL reads it', () => {
  const arcs = [2n, 25n, BigInt('0x' + randomBytes(16).toString('hex'))];
  const c = content(arcs);
  const der = Buffer.from([0x06, c.length, ...c]);
  const printed = execFileSync('openssl', ['asn1parse', '-inform', 'DER', '-oid', '/dev/null'], { input: der, encoding: 'utf8' });
  assert.match(printed, new RegExp(`OBJECT\\s*:${decodeOid(c).replace(/\./g, '\\.')}\\s*$`, 'm'));
});
