/**
 * describeDocument (qpki cert show) on hybrid and malformed documents made in-process: the cases
 * where a verifier that only checks "a signature verifies" would be fooled.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, CertificateList, Name, AttributeTypeAndValue, RelativeDistinguishedName, AttributeValue } from '@peculiar/asn1-x509';
import { generateSoftwareKey, signerFromPkcs8 } from '../../electron/core/keys/software';
import { signatureAlgorithmIdentifierObject } from '../../electron/core/keys/verify';
import { buildCertificate, newSerial } from '../../electron/core/x509/certificate';
import { buildCrl } from '../../electron/core/x509/crl';
import { describeDocument } from '../../electron/core/x509/describe';
import { OID_ALT_SIGNATURE_ALGORITHM } from '../../electron/core/x509/catalyst';

const storage = { type: 'software', path: 'mem', encrypted: false } as const;
const now = new Date();
const later = new Date(now.getTime() + 86_400_000);
const name = new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: 'Describe Test' }) })])]);

function keys() {
  const ec = generateSoftwareKey('ec-p256');
  const ml = generateSoftwareKey('ml-dsa-44');
  return { ec, ml, ecSigner: signerFromPkcs8(ec.pkcs8, storage), mlSigner: signerFromPkcs8(ml.pkcs8, storage) };
}

async function hybridSelfSigned(k = keys()) {
  return buildCertificate({ serial: newSerial(), issuer: name, subject: name, notBefore: now, notAfter: later, spki: k.ec.spki, extensions: [], signer: k.ecSigner, signatureAlgorithm: 'ecdsa-sha256', subjectAltSpki: k.ml.spki, alt: { signer: k.mlSigner, signatureAlgorithm: 'ml-dsa-44' } });
}

const summary = (d: ReturnType<typeof describeDocument>) => d.signatures.map((s) => [s.which, s.valid]);

describe('cert show on Catalyst and malformed documents', () => {
  test('a self-signed Catalyst certificate: both signatures VALID against itself; the alt key and signature read as text', async () => {
    const d = describeDocument(await hybridSelfSigned());
    assert.deepEqual(summary(d), [['primary', true], ['alternative', true]]);
    assert.equal(d.altPublicKey?.algorithm, 'ml-dsa-44');
    const ext = (oid: string) => d.extensions.find((e) => e.oid === oid)!;
    assert.deepEqual(ext('2.5.29.73').value, ['ml-dsa-44']);
    assert.match(ext('2.5.29.74').value[0], /^2420-byte signature$/);
    assert.match(ext('2.5.29.72').value[0], /^ml-dsa-44, 1334 bytes, SHA-256 [0-9a-f]{64}$/);
  });

  test('the alternative signature is checked with the ISSUER alternative key: another hybrid issuer fails, a classical issuer cannot check it', async () => {
    const k = keys();
    const cert = await hybridSelfSigned(k);
    // Same EC key, other ML-DSA key: primary VALID, alternative INVALID.
    const other = await hybridSelfSigned({ ...keys(), ec: k.ec, ecSigner: k.ecSigner });
    assert.deepEqual(summary(describeDocument(cert, other)), [['primary', true], ['alternative', false]]);
    const classical = await buildCertificate({ serial: newSerial(), issuer: name, subject: name, notBefore: now, notAfter: later, spki: k.ec.spki, extensions: [], signer: k.ecSigner, signatureAlgorithm: 'ecdsa-sha256' });
    const d = describeDocument(cert, classical);
    assert.deepEqual(summary(d), [['primary', true], ['alternative', null]]);
    assert.match(d.signatures[1].against, /has no alternative key/);
  });

  test('a Catalyst CRL without an issuer is not checked; with the issuer, both signatures are', async () => {
    const k = keys();
    const ca = await hybridSelfSigned(k);
    const crl = await buildCrl({ issuer: name, issuerKeyId: new Uint8Array(20), thisUpdate: now, nextUpdate: later, crlNumber: 300n, revoked: [{ serial: Uint8Array.of(0x12, 0x34), date: now, reason: 'cACompromise' }], signer: k.ecSigner, signatureAlgorithm: 'ecdsa-sha256', alt: { signer: k.mlSigner, signatureAlgorithm: 'ml-dsa-44' } });
    assert.deepEqual(summary(describeDocument(crl)), [['primary', null], ['alternative', null]]);
    const d = describeDocument(crl, ca);
    assert.deepEqual(summary(d), [['primary', true], ['alternative', true]]);
    assert.deepEqual(d.extensions.find((e) => e.oid === '2.5.29.20')!.value, ['300']);
    assert.deepEqual(d.revoked, [{ serial: '1234', date: d.revoked![0].date, reason: 'cACompromise' }]);
  });

  test('altSignatureValue without altSignatureAlgorithm is an INVALID alternative signature, not a silent skip', async () => {
    const c = AsnConvert.parse(await hybridSelfSigned(), Certificate);
    c.tbsCertificate.extensions = c.tbsCertificate.extensions!.filter((e) => e.extnID !== OID_ALT_SIGNATURE_ALGORITHM);
    const d = describeDocument(new Uint8Array(AsnConvert.serialize(c)));
    const alt = d.signatures.find((s) => s.which === 'alternative')!;
    assert.equal(alt.valid, false);
    assert.match(alt.reason!, /must come together/);
  });

  test('the TBS signature field must match the outer signatureAlgorithm (RFC 5280 4.1.1.2), even when the signature verifies', async () => {
    const k = keys();
    const c = AsnConvert.parse(await buildCertificate({ serial: newSerial(), issuer: name, subject: name, notBefore: now, notAfter: later, spki: k.ec.spki, extensions: [], signer: k.ecSigner, signatureAlgorithm: 'ecdsa-sha256' }), Certificate);
    // Claim SHA-384 inside, sign with SHA-256 and say SHA-256 outside.
    c.tbsCertificate.signature = signatureAlgorithmIdentifierObject('ecdsa-sha384');
    const tbs = new Uint8Array(AsnConvert.serialize(c.tbsCertificate));
    c.signatureValue = (await k.ecSigner.sign('ecdsa-sha256', tbs)).slice().buffer as ArrayBuffer;
    const d = describeDocument(new Uint8Array(AsnConvert.serialize(c)));
    assert.equal(d.signatures[0].valid, false);
    assert.match(d.signatures[0].reason!, /differs from the outer one/);
  });

  test('a CRL whose inner algorithm differs from the outer one is INVALID too', async () => {
    const k = keys();
    const ca = await hybridSelfSigned(k);
    const crl = AsnConvert.parse(await buildCrl({ issuer: name, issuerKeyId: new Uint8Array(20), thisUpdate: now, nextUpdate: later, crlNumber: 1n, revoked: [], signer: k.ecSigner, signatureAlgorithm: 'ecdsa-sha256' }), CertificateList);
    crl.tbsCertList.signature = signatureAlgorithmIdentifierObject('ecdsa-sha512');
    crl.signature = (await k.ecSigner.sign('ecdsa-sha256', new Uint8Array(AsnConvert.serialize(crl.tbsCertList)))).slice().buffer as ArrayBuffer;
    const d = describeDocument(new Uint8Array(AsnConvert.serialize(crl)), ca);
    assert.deepEqual(summary(d), [['primary', false]]);
  });
});
