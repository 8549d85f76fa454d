/**
 * parseAndVerifyCsr walks a request as DER and decodes only its subject and attributes. What it
 * returns must be what @peculiar/asn1-csr reads from the same bytes, for requests OpenSSL makes
 * (with and without an extension request, EC and RSA), and a malformed request is CSR_INVALID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { Extensions } from '@peculiar/asn1-x509';
import { parseAndVerifyCsr } from './csr';
import { children, encodeTlv, slice, whole } from './der';
import { pemOrDer } from './pem';

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

function opensslCsr(args: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-csr-'));
  try {
    const out = join(dir, 'r.csr');
    const r = spawnSync('openssl', ['req', '-new', '-nodes', '-keyout', join(dir, 'k.pem'), '-outform', 'DER', '-out', out, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

test('key, subject, signed part and requested extensions are those asn1-csr decodes, for OpenSSL requests', () => {
  const requests = {
    'EC P-256 with subjectAltName': opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=a.example', '-addext', 'subjectAltName=DNS:a.example,DNS:b.example']),
    'EC P-384 without attributes in use': opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-subj', '/C=DE/O=Example Org/CN=two.example']),
    'RSA 2048 with two extensions': opensslCsr(['-newkey', 'rsa:2048', '-subj', '/CN=rsa.example', '-addext', 'subjectAltName=DNS:rsa.example', '-addext', 'keyUsage=digitalSignature']),
  };
  for (const [what, der] of Object.entries(requests)) {
    const p = parseAndVerifyCsr(der);
    const c = AsnConvert.parse(der, CertificationRequest);
    const info = c.certificationRequestInfo;
    assert.equal(hex(p.spki), hex(AsnConvert.serialize(info.subjectPKInfo)), `${what}: public key`);
    assert.equal(hex(AsnConvert.serialize(p.subject)), hex(AsnConvert.serialize(info.subject)), `${what}: subject`);
    assert.equal(hex(p.info), hex(slice(der, children(der, whole(der))[0])), `${what}: the signed part`);
    const theirs = [...info.attributes].filter((a) => a.type === OID_EXTENSION_REQUEST).flatMap((a) => a.values.flatMap((v) => [...AsnConvert.parse(v, Extensions)]));
    assert.deepEqual(p.requestedExtensions.map((e) => [e.extnID, e.critical, hex(e.extnValue.buffer)]), theirs.map((e) => [e.extnID, e.critical, hex(e.extnValue.buffer)]), `${what}: requested extensions`);
  }
  assert.equal(parseAndVerifyCsr(requests['EC P-256 with subjectAltName']).requestedExtensions.length, 1);
  assert.equal(parseAndVerifyCsr(requests['RSA 2048 with two extensions']).requestedExtensions.length, 2);
});

test('a request without its attributes field, a signature with unused bits, or a fourth element is CSR_INVALID or refused', () => {
  const der = opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=c.example']);
  const [info, alg, sig] = children(der, whole(der));
  const infoFields = children(der, info);
  const seq = (parts: Uint8Array[]) => encodeTlv(0x30, parts);
  // Without [0] attributes the signature no longer matches: read as a request, then refused for its signature.
  const noAttributes = seq([seq(infoFields.slice(0, 3).map((f) => slice(der, f))), slice(der, alg), slice(der, sig)]);
  assert.throws(() => parseAndVerifyCsr(noAttributes), (e: { code?: string }) => e.code === 'CSR_SIGNATURE_INVALID');
  const bits = slice(der, sig);
  const unusedBits = Uint8Array.from(bits);
  unusedBits[bits.length - der.subarray(sig.contentStart, sig.end).length] = 1;
  assert.throws(() => parseAndVerifyCsr(seq([slice(der, info), slice(der, alg), unusedBits])), (e: { code?: string; message: string }) => e.code === 'CSR_INVALID' && /unused bits/.test(e.message));
  assert.throws(() => parseAndVerifyCsr(seq([slice(der, info), slice(der, alg), slice(der, sig), slice(der, alg)])), (e: { code?: string }) => e.code === 'CSR_INVALID');
  // And the request as made passes, so the refusals above are the changes' doing.
  assert.equal(parseAndVerifyCsr(pemOrDer(der, ['CERTIFICATE REQUEST'])).keyAlgorithm, 'ec-p256');
});
