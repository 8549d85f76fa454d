import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Time } from '@peculiar/asn1-x509';
import { encodeLength, encodeTlv, readTlv } from './der';
import { encodeTime, newSerial, wholeSeconds } from './certificate';

test('encodeTime gives the bytes asn1-schema gives: UTCTime to 2049, GeneralizedTime from 2050, whole seconds', () => {
  const dates = [
    '1950-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '1999-12-31T23:59:59.500Z',
    '2000-02-29T12:34:56.789Z', '2026-11-27T16:40:05.001Z', '2049-12-31T23:59:59.999Z', '2050-01-01T00:00:00.000Z',
    '2099-07-04T01:02:03.000Z', '9999-12-31T23:59:59.000Z',
  ].map((s) => new Date(s));
  for (let i = 0; i < 200; i++) dates.push(new Date(Date.UTC(1950, 0, 1) + Math.floor(Math.random() * (Date.UTC(2200, 0, 1) - Date.UTC(1950, 0, 1)))));
  for (const d of dates) {
    const expected = new Uint8Array(AsnConvert.serialize(new Time(wholeSeconds(d))));
    assert.deepEqual(encodeTime(d), expected, d.toISOString());
  }
});

test('encodeTime refuses dates outside 1950–9999 and invalid dates', () => {
  assert.throws(() => encodeTime(new Date('1949-12-31T23:59:59Z')), /between 1950 and 9999 \(got 1949\)/);
  assert.throws(() => encodeTime(new Date(Date.UTC(10000, 0, 1))), /got 10000/);
  assert.throws(() => encodeTime(new Date(NaN)), /got NaN/);
});

test('DER lengths: short form to 127, then the shortest long form', () => {
  const cases: Array<[number, number[]]> = [
    [0, [0x00]], [127, [0x7f]], [128, [0x81, 0x80]], [255, [0x81, 0xff]], [256, [0x82, 0x01, 0x00]],
    [65535, [0x82, 0xff, 0xff]], [65536, [0x83, 0x01, 0x00, 0x00]], [16_777_216, [0x84, 0x01, 0x00, 0x00, 0x00]],
  ];
  for (const [n, bytes] of cases) {
    assert.deepEqual([...encodeLength(n)], bytes, `length ${n}`);
    const tlv = encodeTlv(0x04, [new Uint8Array(Math.min(n, 70_000))]);
    if (n <= 70_000) {
      const t = readTlv(tlv, 0);
      assert.equal(t.end - t.contentStart, n);
      assert.equal(t.end, tlv.length);
    }
  }
  assert.deepEqual([...encodeTlv(0x30, [Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)])], [0x30, 3, 1, 2, 3]);
});

test('serials are 16 bytes, positive, never zero-led, and distinct', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const s = newSerial();
    assert.equal(s.length, 16);
    assert.ok(s[0] >= 1 && s[0] <= 0x7f, `first byte ${s[0]}`);
    const hex = Buffer.from(s).toString('hex');
    assert.ok(!seen.has(hex), 'a serial repeated');
    seen.add(hex);
  }
});
