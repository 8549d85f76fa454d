import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithm } from './algorithms';
import { generateSoftwareKey, signerFromPkcs8 } from './software';
import { keyAlgorithmOfSpki, signatureAlgorithmFromIdentifier, signatureAlgorithmIdentifier, verifySignature } from './verify';
import { codeOf } from '../../../test/codes';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const storage = { type: 'software', path: 'mem', encrypted: false } as const;
const dir = mkdtempSync(join(tmpdir(), 'qpki-verify-'));
after(() => rmSync(dir, { recursive: true, force: true }));


// The encodings other implementations write (RFC 5758, RFC 4055 / OpenSSL's RSASSA-PSS, RFC 8410, RFC 9881).
const EXPECTED: Record<SignatureAlgorithm, string> = {
  'ecdsa-sha256': '300a06082a8648ce3d040302',
  'ecdsa-sha384': '300a06082a8648ce3d040303',
  'ecdsa-sha512': '300a06082a8648ce3d040304',
  'rsa-pkcs1-sha256': '300d06092a864886f70d01010b0500',
  'rsa-pkcs1-sha384': '300d06092a864886f70d01010c0500',
  'rsa-pkcs1-sha512': '300d06092a864886f70d01010d0500',
  'rsa-pss-sha256':
    '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
  'rsa-pss-sha384':
    '304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130',
  'rsa-pss-sha512':
    '304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108300d06096086480165030402030500a203020140',
  ed25519: '300506032b6570',
  'ml-dsa-44': '300b0609608648016503040311',
  'ml-dsa-65': '300b0609608648016503040312',
  'ml-dsa-87': '300b0609608648016503040313',
};

describe('signature algorithm identifiers', () => {
  for (const alg of SIGNATURE_ALGORITHMS) {
    test(`${alg}: exact DER and back`, () => {
      const der = signatureAlgorithmIdentifier(alg);
      assert.equal(hex(der), EXPECTED[alg]);
      assert.equal(signatureAlgorithmFromIdentifier(der), alg);
    });
  }

  test('RSA PKCS#1 v1.5 with absent parameters is tolerated', () => {
    assert.equal(signatureAlgorithmFromIdentifier(unhex('300b06092a864886f70d01010b')), 'rsa-pkcs1-sha256');
  });

  test('PSS hash identifiers with absent parameters are accepted', () => {
    const der = '303d06092a864886f70d01010a3030a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040201a203020120';
    assert.equal(signatureAlgorithmFromIdentifier(unhex(der)), 'rsa-pss-sha256');
  });

  const invalid: Array<[string, string]> = [
    ['ML-DSA-44 with NULL parameters', '300d06096086480165030403110500'],
    ['Ed25519 with NULL parameters', '300706032b65700500'],
    ['ECDSA with NULL parameters', '300c06082a8648ce3d0403020500'],
    ['unknown OID (sha1WithRSAEncryption)', '300d06092a864886f70d0101050500'],
    ['RSASSA-PSS without parameters', '300b06092a864886f70d01010a'],
    ['RSASSA-PSS with defaults (SHA-1)', '300d06092a864886f70d01010a3000'],
    [
      'RSASSA-PSS SHA-256 with salt 20',
      '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020114',
    ],
    [
      'RSASSA-PSS SHA-256 with MGF1-SHA-384',
      '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020120',
    ],
    ['trailing bytes', '300b06096086480165030403110000'],
    ['not DER at all', '0102'],
  ];
  for (const [name, der] of invalid) {
    test(`CERT_INVALID: ${name}`, () => {
      assert.equal(codeOf(() => signatureAlgorithmFromIdentifier(unhex(der))), 'CERT_INVALID');
    });
  }
});

describe('keyAlgorithmOfSpki', () => {
  test('supported keys', () => {
    assert.equal(keyAlgorithmOfSpki(generateSoftwareKey('ec-p384').spki), 'ec-p384');
    assert.equal(keyAlgorithmOfSpki(generateSoftwareKey('ed25519').spki), 'ed25519');
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(keyAlgorithmOfSpki(pss), 'rsa-2048');
  });

  test('unsupported RSA size, unknown curve, other algorithms and garbage are KEY_INVALID', () => {
    const spki = (k: { publicKey: KeyObject }) => new Uint8Array(k.publicKey.export({ type: 'spki', format: 'der' }));
    assert.equal(codeOf(() => keyAlgorithmOfSpki(spki(generateKeyPairSync('rsa', { modulusLength: 1024 })))), 'KEY_INVALID');
    assert.equal(codeOf(() => keyAlgorithmOfSpki(spki(generateKeyPairSync('rsa', { modulusLength: 2056 })))), 'KEY_INVALID');
    assert.equal(codeOf(() => keyAlgorithmOfSpki(spki(generateKeyPairSync('ec', { namedCurve: 'secp256k1' })))), 'KEY_INVALID');
    assert.equal(codeOf(() => keyAlgorithmOfSpki(spki(generateKeyPairSync('ed448')))), 'KEY_INVALID');
    assert.equal(codeOf(() => keyAlgorithmOfSpki(unhex('3003020100'))), 'KEY_INVALID');
    const good = generateSoftwareKey('ec-p256').spki;
    const offCurve = Uint8Array.from(good);
    offCurve[offCurve.length - 1] ^= 1;
    assert.equal(codeOf(() => keyAlgorithmOfSpki(offCurve)), 'KEY_INVALID');
  });
});

describe('verifySignature', () => {
  test('wrong key family, malformed signatures and other data give false, never a throw', async () => {
    const ec = generateSoftwareKey('ec-p256');
    const rsa = generateSoftwareKey('rsa-2048');
    const data = new TextEncoder().encode('data');
    const sig = await signerFromPkcs8(ec.pkcs8, storage).sign('ecdsa-sha256', data);
    assert.equal(verifySignature(ec.spki, 'ecdsa-sha256', data, sig), true);
    assert.equal(verifySignature(ec.spki, 'ecdsa-sha384', data, sig), false);
    assert.equal(verifySignature(ec.spki, 'rsa-pkcs1-sha256', data, sig), false);
    assert.equal(verifySignature(rsa.spki, 'rsa-pkcs1-sha256', data, sig), false);
    assert.equal(verifySignature(ec.spki, 'ecdsa-sha256', data, new Uint8Array(0)), false);
    assert.equal(verifySignature(ec.spki, 'ecdsa-sha256', data, sig.subarray(0, 10)), false);
    assert.equal(verifySignature(ec.spki, 'ml-dsa-44', data, sig), false);
  });

  test('certificates made by OpenSSL (ECDSA, RSA PKCS#1, RSA-PSS, Ed25519) verify with their own keys', () => {
    const cases: Array<[string[], string[]]> = [
      [['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-sha384'], []],
      [['-newkey', 'rsa:2048', '-sha256'], []],
      [['-newkey', 'rsa:2048', '-sha384'], ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48', '-sigopt', 'rsa_mgf1_md:sha384']],
      [['-newkey', 'ed25519'], []],
    ];
    const seen: string[] = [];
    for (const [i, [keyArgs, sigArgs]] of cases.entries()) {
      const out = join(dir, `c${i}.der`);
      execFileSync('openssl', ['req', '-x509', '-nodes', '-subj', '/CN=t', '-days', '1', ...keyArgs, ...sigArgs, '-keyout', join(dir, `k${i}.pem`), '-outform', 'DER', '-out', out], {
        stdio: 'ignore',
      });
      const cert = AsnConvert.parse(readFileSync(out), Certificate);
      const algDer = new Uint8Array(AsnConvert.serialize(cert.signatureAlgorithm));
      const alg = signatureAlgorithmFromIdentifier(algDer);
      assert.equal(hex(signatureAlgorithmIdentifier(alg)), hex(algDer), 'we encode the identifier exactly as OpenSSL');
      const spki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
      const tbs = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate));
      assert.equal(verifySignature(spki, alg, tbs, new Uint8Array(cert.signatureValue)), true, alg);
      tbs[tbs.length - 1] ^= 1;
      assert.equal(verifySignature(spki, alg, tbs, new Uint8Array(cert.signatureValue)), false, alg);
      seen.push(alg);
    }
    assert.deepEqual(seen, ['ecdsa-sha384', 'rsa-pkcs1-sha256', 'rsa-pss-sha384', 'ed25519']);
  });
});
