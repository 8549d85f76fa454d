/**
 * The prepared document is what gets signed: signing adds nothing but the signature (and, for
 * Catalyst, the altSignatureValue extension), and the check refuses every signed document that is
 * not the prepared one with valid signatures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { generateSoftwareKey, signerFromPkcs8 } from '../keys/software';
import type { Signer } from '../keys/signer';
import { newSerial, prepareCertificate } from './certificate';
import { prepareCrl } from './crl';
import { checkSigned, checkSignedAsync, signPrepared, type IssuerKeys, type PreparedDocument } from './tbs';
import { children, slice, whole } from './der';
import { stripAltSignatureValue } from './catalyst';

const storage = { type: 'software', path: 'mem', encrypted: false } as const;
const name = AsnConvert.parse(new Uint8Array(AsnConvert.serialize(new Name([]))), Name);
const ec = signerFromPkcs8(generateSoftwareKey('ec-p256').pkcs8, storage);
const other = signerFromPkcs8(generateSoftwareKey('ec-p256').pkcs8, storage);
const ml = signerFromPkcs8(generateSoftwareKey('ml-dsa-44').pkcs8, storage);
const now = new Date('2026-12-01T00:00:00Z');
const later = new Date('2027-12-01T00:00:00Z');
const content = { serial: newSerial(), issuer: name, subject: name, notBefore: now, notAfter: later, spki: ec.spki, extensions: [], signatureAlgorithm: 'ecdsa-sha256' as const };

const tbsOf = (der: Uint8Array) => slice(der, children(der, whole(der))[0]);
const codeOf = (code: string) => (e: { code?: string }) => e.code === code;

test('a signed certificate carries the prepared TBS byte for byte and passes the check', async () => {
  const p = prepareCertificate(content);
  const der = await signPrepared(p, ec);
  assert.deepEqual(tbsOf(der), p.tbs);
  checkSigned(der, p, { spki: ec.spki });
});

test('the check refuses a signature by another key, a signer that signed other bytes, and another TBS', async () => {
  const p = prepareCertificate(content);
  const byOther = await signPrepared(p, other);
  assert.throws(() => checkSigned(byOther, p, { spki: ec.spki }), codeOf('SIGNATURE_INVALID'));
  const liar: Signer = { ...ec, sign: (alg, data) => ec.sign(alg, Uint8Array.from([...data, 1])) };
  const lied = await signPrepared(p, liar);
  assert.throws(() => checkSigned(lied, p, { spki: ec.spki }), /does not verify against the issuer's public key/);
  const forOther = await signPrepared(prepareCertificate({ ...content, serial: newSerial() }), ec);
  assert.throws(() => checkSigned(forOther, p, { spki: ec.spki }), /differs from the reviewed content/);
});

test('Catalyst: signing appends only altSignatureValue; both signatures are checked', async () => {
  const p = prepareCertificate({ ...content, subjectAltSpki: ml.spki, altSignatureAlgorithm: 'ml-dsa-44' });
  const der = await signPrepared(p, ec, ml);
  const { tbs, altSignature } = stripAltSignatureValue(tbsOf(der), 'certificate');
  assert.deepEqual(tbs, p.tbs);
  assert.ok(altSignature && altSignature.length === 2420, 'an ML-DSA-44 signature is 2420 bytes');
  checkSigned(der, p, { spki: ec.spki, altSpki: ml.spki });
  const otherMl = signerFromPkcs8(generateSoftwareKey('ml-dsa-44').pkcs8, storage);
  assert.throws(() => checkSigned(der, p, { spki: ec.spki, altSpki: otherMl.spki }), /alternative \(ml-dsa-44\) signature does not verify/);
  assert.throws(() => checkSigned(der, p, { spki: ec.spki }), /no alternative public key/);
});

test('CRLs: the same guarantees, Catalyst included', async () => {
  const c = { issuer: name, issuerKeyId: new Uint8Array(20), thisUpdate: now, nextUpdate: later, crlNumber: 5n, revoked: [{ serial: Uint8Array.of(1, 2), date: now, reason: 'keyCompromise' as const }], signatureAlgorithm: 'ecdsa-sha256' as const };
  const p = prepareCrl(c);
  const der = await signPrepared(p, ec);
  assert.deepEqual(tbsOf(der), p.tbs);
  checkSigned(der, p, { spki: ec.spki });
  assert.throws(() => checkSigned(der, p, { spki: other.spki }), codeOf('SIGNATURE_INVALID'));
  const h = prepareCrl({ ...c, altSignatureAlgorithm: 'ml-dsa-44' });
  const hd = await signPrepared(h, ec, ml);
  assert.deepEqual(stripAltSignatureValue(tbsOf(hd), 'crl').tbs, h.tbs);
  checkSigned(hd, h, { spki: ec.spki, altSpki: ml.spki });
});

test('the check on another thread gives the same verdict and the same refusal as the check here', async () => {
  const verdict = (f: () => void) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      return `${(e as { code?: string }).code}: ${(e as Error).message}`;
    }
  };
  const pooled = (der: Uint8Array, p: PreparedDocument, k: IssuerKeys) => checkSignedAsync(der, p, k).then(() => 'ok', (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);
  const cases: [string, Uint8Array, PreparedDocument, IssuerKeys][] = [];
  for (const alg of ['ec-p256', 'ec-p384', 'rsa-2048', 'ed25519'] as const) {
    const key = signerFromPkcs8(generateSoftwareKey(alg).pkcs8, storage);
    const sigAlg = ({ 'ec-p256': 'ecdsa-sha256', 'ec-p384': 'ecdsa-sha384', 'rsa-2048': 'rsa-pss-sha256', ed25519: 'ed25519' } as const)[alg];
    const p = prepareCertificate({ ...content, signatureAlgorithm: sigAlg });
    const der = await signPrepared(p, key);
    cases.push([`${alg} good`, der, p, { spki: key.spki }], [`${alg} other key`, der, p, { spki: other.spki }]);
    const liar: Signer = { ...key, sign: (a, data) => key.sign(a, Uint8Array.from([...data, 1])) };
    cases.push([`${alg} other bytes`, await signPrepared(p, liar), p, { spki: key.spki }]);
  }
  const p = prepareCertificate(content);
  cases.push(['another TBS', await signPrepared(prepareCertificate({ ...content, serial: newSerial() }), ec), p, { spki: ec.spki }]);
  const h = prepareCertificate({ ...content, subjectAltSpki: ml.spki, altSignatureAlgorithm: 'ml-dsa-44' });
  const hd = await signPrepared(h, ec, ml);
  const otherMl = signerFromPkcs8(generateSoftwareKey('ml-dsa-44').pkcs8, storage);
  cases.push(['catalyst good', hd, h, { spki: ec.spki, altSpki: ml.spki }], ['catalyst other alt key', hd, h, { spki: ec.spki, altSpki: otherMl.spki }]);
  cases.push(['catalyst, both keys wrong: the alternative is named first', hd, h, { spki: other.spki, altSpki: otherMl.spki }], ['catalyst without alt key', hd, h, { spki: ec.spki }]);
  let refused = 0;
  for (const [what, der, doc, keys] of cases) {
    const here = verdict(() => checkSigned(der, doc, keys));
    assert.equal(await pooled(der, doc, keys), here, what);
    if (here !== 'ok') refused++;
    assert.equal(here === 'ok', / good$/.test(what), `${what}: ${here}`);
  }
  assert.equal(refused, cases.length - 5);
});
