import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import {
  decodeMlDsaPrivateKey,
  encodeMlDsaPkcs8,
  encodeMlDsaSpki,
  mlDsaKeygen,
  mlDsaLengths,
  mlDsaSign,
  mlDsaVerify,
  type MlDsaAlgorithm,
} from './mldsa';
import { generateSoftwareKey, signerFromPkcs8 } from './software';
import { keyAlgorithmOfSpki, signatureAlgorithmFromIdentifier, verifySignature } from './verify';
import { parseSpki } from './spki';
import { codeOf } from '../../../test/codes';

const ALGS: MlDsaAlgorithm[] = ['ml-dsa-44', 'ml-dsa-65', 'ml-dsa-87'];
const OID_ARC = { 'ml-dsa-44': '11', 'ml-dsa-65': '12', 'ml-dsa-87': '13' } as const;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const msg = new TextEncoder().encode('tbsCertificate stand-in');
const storage = { type: 'software', path: 'mem', encrypted: false } as const;


describe('ML-DSA encodings (RFC 9881)', () => {
  for (const alg of ALGS) {
    test(`${alg}: seed-form PKCS#8 and SPKI are byte-exact, parameters absent`, () => {
      const seed = new Uint8Array(32).map((_, i) => i);
      const key = mlDsaKeygen(alg, seed);
      const pkcs8 = encodeMlDsaPkcs8(key);
      // SEQUENCE(52) { INTEGER 0, SEQUENCE { OID 2.16.840.1.101.3.4.3.x }, OCTET STRING(34) { [0](32) seed } }
      assert.equal(hex(pkcs8), `3034020100300b06096086480165030403${OID_ARC[alg]}04228020` + hex(seed));
      const spki = encodeMlDsaSpki(alg, key.publicKey);
      const p = parseSpki(spki);
      assert.equal(p.parameters, undefined);
      assert.deepEqual(p.publicKey, key.publicKey);
      assert.equal(key.publicKey.length, mlDsaLengths(alg).publicKey);
      assert.equal(keyAlgorithmOfSpki(spki), alg);
    });

    test(`${alg}: all three private key forms decode to the same key`, () => {
      const key = mlDsaKeygen(alg);
      for (const form of ['seed', 'expanded', 'both'] as const) {
        const pki = AsnConvert.parse(encodeMlDsaPkcs8(key, form), PrivateKeyInfo);
        const back = decodeMlDsaPrivateKey(alg, new Uint8Array(pki.privateKey.buffer));
        assert.deepEqual(back.publicKey, key.publicKey, form);
        assert.deepEqual(back.secretKey, key.secretKey, form);
      }
    });

    test(`${alg}: sign/verify round trip; hedged signatures differ; tampering fails`, () => {
      const key = mlDsaKeygen(alg);
      const s1 = mlDsaSign(alg, key.secretKey, msg);
      const s2 = mlDsaSign(alg, key.secretKey, msg);
      assert.equal(s1.length, mlDsaLengths(alg).signature);
      assert.notDeepEqual(s1, s2, 'randomized (hedged) signing gives a fresh signature each time');
      assert.ok(mlDsaVerify(alg, key.publicKey, msg, s1));
      assert.ok(mlDsaVerify(alg, key.publicKey, msg, s2));
      const bad = Uint8Array.from(s1);
      bad[10] ^= 1;
      assert.equal(mlDsaVerify(alg, key.publicKey, msg, bad), false);
      assert.equal(mlDsaVerify(alg, key.publicKey, new TextEncoder().encode('other'), s1), false);
      assert.equal(mlDsaVerify(alg, key.publicKey, msg, s1.subarray(1)), false, 'short signature is false, not a throw');
    });
  }

  test('both form whose seed does not regenerate its expanded key is KEY_INVALID', () => {
    const a = mlDsaKeygen('ml-dsa-44');
    const b = mlDsaKeygen('ml-dsa-44');
    const forged = encodeMlDsaPkcs8({ ...a, secretKey: b.secretKey }, 'both');
    const pki = AsnConvert.parse(forged, PrivateKeyInfo);
    assert.equal(codeOf(() => decodeMlDsaPrivateKey('ml-dsa-44', new Uint8Array(pki.privateKey.buffer))), 'KEY_INVALID');
    assert.equal(codeOf(() => signerFromPkcs8(forged, storage)), 'KEY_INVALID');
  });

  test('wrong lengths, wrong tags and trailing bytes are KEY_INVALID', () => {
    const key = mlDsaKeygen('ml-dsa-65');
    const bad = [
      Uint8Array.from([0x80, 31, ...key.seed!.subarray(1)]), // 31-byte seed
      Uint8Array.from([0x80, 33, ...key.seed!, 0]), // 33-byte seed
      Uint8Array.from([0x80, 32, ...key.seed!, 0x00, 0x00]), // trailing bytes
      Uint8Array.from([0xa0, 32, ...key.seed!]), // constructed [0]
      Uint8Array.from([0x04, 32, ...key.seed!]), // seed-sized "expanded" key
    ];
    for (const b of bad) assert.equal(codeOf(() => decodeMlDsaPrivateKey('ml-dsa-65', b)), 'KEY_INVALID', hex(b.subarray(0, 2)));
    // An ML-DSA-65 expanded key presented as ML-DSA-87.
    const pki = AsnConvert.parse(encodeMlDsaPkcs8(key, 'expanded'), PrivateKeyInfo);
    assert.equal(codeOf(() => decodeMlDsaPrivateKey('ml-dsa-87', new Uint8Array(pki.privateKey.buffer))), 'KEY_INVALID');
    // An expanded key whose tr does not belong to it.
    const tampered = Uint8Array.from(key.secretKey);
    tampered[70] ^= 0xff;
    const t = encodeMlDsaPkcs8({ ...key, secretKey: tampered }, 'expanded');
    assert.equal(codeOf(() => signerFromPkcs8(t, storage)), 'KEY_INVALID');
  });

  test('NULL algorithm parameters on an ML-DSA key are KEY_INVALID', () => {
    const { pkcs8, spki } = generateSoftwareKey('ml-dsa-44');
    // Insert 05 00 after the OID: 30 34 → 30 36, 30 0b → 30 0d.
    const withNull = Uint8Array.from([0x30, 0x36, ...pkcs8.subarray(2, 5), 0x30, 0x0d, ...pkcs8.subarray(7, 18), 0x05, 0x00, ...pkcs8.subarray(18)]);
    assert.equal(AsnConvert.parse(withNull, PrivateKeyInfo).privateKeyAlgorithm.parameters, null, 'well-formed, only the NULL is wrong');
    assert.equal(codeOf(() => signerFromPkcs8(withNull, storage)), 'KEY_INVALID');
    assert.equal(spki[4], 0x30);
    // SPKI: 30 82 LL LL 30 0b OID … → rebuild with NULL.
    const body = spki.subarray(4 + 2 + 11);
    const alg = Uint8Array.from([0x30, 0x0d, ...spki.subarray(6, 17), 0x05, 0x00]);
    const inner = Uint8Array.from([...alg, ...body]);
    const rebuilt = Uint8Array.from([0x30, 0x82, inner.length >> 8, inner.length & 0xff, ...inner]);
    assert.equal(parseSpki(rebuilt).parameters, null, 'well-formed, only the NULL is wrong');
    assert.equal(codeOf(() => keyAlgorithmOfSpki(rebuilt)), 'KEY_INVALID');
  });

  test('a Signer refuses a signature algorithm that is not its own', async () => {
    const { pkcs8 } = generateSoftwareKey('ml-dsa-65');
    const s = signerFromPkcs8(pkcs8, storage);
    await assert.rejects(s.sign('ml-dsa-44', msg), { code: 'MECHANISM_UNSUPPORTED' });
    await assert.rejects(s.sign('ecdsa-sha256', msg), { code: 'MECHANISM_UNSUPPORTED' });
  });
});

describe('ML-DSA interoperability', () => {
  // A copy of ../shared/fixtures/ml-dsa/ML-DSA-44.crt lives in the repository.
  const fixture = join(__dirname, '../../../test/fixtures/ml-dsa/ML-DSA-44.crt');
  test('RFC 9881 example certificate: algorithm, known-answer key from seed 00..1f, signature', () => {
    assert.ok(existsSync(fixture), `${fixture} is part of the repository`);
    const text = readFileSync(fixture, 'utf8');
    const der = Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const cert = AsnConvert.parse(der, Certificate);
    const sigAlg = signatureAlgorithmFromIdentifier(new Uint8Array(AsnConvert.serialize(cert.signatureAlgorithm)));
    assert.equal(sigAlg, 'ml-dsa-44');
    const spki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
    assert.equal(keyAlgorithmOfSpki(spki), 'ml-dsa-44');
    const tbs = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate));
    const sig = new Uint8Array(cert.signatureValue);
    assert.equal(verifySignature(spki, 'ml-dsa-44', tbs, sig), true);
    const flipped = Uint8Array.from(tbs);
    flipped[flipped.length - 1] ^= 1;
    assert.equal(verifySignature(spki, 'ml-dsa-44', flipped, sig), false);
    // The examples were made from the seed 000102…1f: our keygen must give the same public key (FIPS 204 KAT).
    const kat = mlDsaKeygen('ml-dsa-44', new Uint8Array(32).map((_, i) => i));
    assert.deepEqual(encodeMlDsaSpki('ml-dsa-44', kat.publicKey), spki);
  });

  test('liboqs (WebAssembly) verifies our signatures, and we verify liboqs signatures from its expanded keys', async () => {
    const oqs = await import('@oqs/liboqs-js');
    const makers = { 'ml-dsa-44': oqs.createMLDSA44, 'ml-dsa-65': oqs.createMLDSA65, 'ml-dsa-87': oqs.createMLDSA87 };
    for (const alg of ALGS) {
      const lib = await makers[alg]();
      try {
        const { pkcs8, spki } = generateSoftwareKey(alg);
        const signer = signerFromPkcs8(pkcs8, storage);
        const sig = await signer.sign(alg, msg);
        const pub = parseSpki(spki).publicKey;
        assert.equal(lib.verify(msg, sig, pub), true, `${alg}: liboqs accepts our signature`);
        const bad = Uint8Array.from(sig);
        bad[0] ^= 1;
        assert.equal(lib.verify(msg, bad, pub), false, `${alg}: liboqs rejects a tampered one`);

        const theirs = lib.generateKeyPair();
        const theirSig = lib.sign(msg, theirs.secretKey);
        const theirSpki = encodeMlDsaSpki(alg, theirs.publicKey);
        assert.equal(verifySignature(theirSpki, alg, msg, theirSig), true, `${alg}: we accept liboqs's signature`);
        // Their expanded secret key, wrapped in our PKCS#8, derives their public key and signs for it.
        const imported = signerFromPkcs8(encodeMlDsaPkcs8({ algorithm: alg, secretKey: theirs.secretKey, publicKey: theirs.publicKey }, 'expanded'), storage);
        assert.deepEqual(imported.spki, theirSpki);
        assert.equal(lib.verify(msg, await imported.sign(alg, msg), theirs.publicKey), true);
      } finally {
        lib.destroy();
      }
    }
  });

  const py = spawnSync('python3', ['-c', 'from cryptography.hazmat.primitives.asymmetric import mldsa'], { encoding: 'utf8' });
  const havePy = py.status === 0;
  if (!havePy) console.log('# skipping the Python cryptography test: python3 with cryptography (ML-DSA support) is not available');
  test('Python cryptography loads our PKCS#8 and SPKI, verifies our signatures; we load and verify its keys', { skip: !havePy && 'python cryptography absent' }, async () => {
    const cases = [];
    for (const alg of ALGS) {
      const { pkcs8, spki } = generateSoftwareKey(alg);
      const sig = await signerFromPkcs8(pkcs8, storage).sign(alg, msg);
      cases.push({ alg, pkcs8: hex(pkcs8), spki: hex(spki), sig: hex(sig) });
    }
    const script = `
import json, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import mldsa
req = json.load(sys.stdin)
msg = bytes.fromhex(req['msg'])
out = []
gen = {'ml-dsa-44': mldsa.MLDSA44PrivateKey, 'ml-dsa-65': mldsa.MLDSA65PrivateKey, 'ml-dsa-87': mldsa.MLDSA87PrivateKey}
for c in req['cases']:
    pub = s.load_der_public_key(bytes.fromhex(c['spki']))
    try:
        pub.verify(bytes.fromhex(c['sig']), msg); ok = True
    except InvalidSignature:
        ok = False
    bad = bytearray(bytes.fromhex(c['sig'])); bad[5] ^= 1
    try:
        pub.verify(bytes(bad), msg); bad_ok = True
    except InvalidSignature:
        bad_ok = False
    priv = s.load_der_private_key(bytes.fromhex(c['pkcs8']), None)
    same_pub = priv.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo).hex() == c['spki']
    reenc = priv.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption()).hex()
    theirs = gen[c['alg']].generate()
    out.append({'alg': c['alg'], 'ok': ok, 'bad_ok': bad_ok, 'same_pub': same_pub, 'reenc_equal': reenc == c['pkcs8'],
        'their_pkcs8': theirs.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption()).hex(),
        'their_spki': theirs.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo).hex(),
        'their_sig': theirs.sign(msg).hex()})
print(json.dumps(out))
`;
    const r = spawnSync('python3', ['-c', script], { input: JSON.stringify({ msg: hex(msg), cases }), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const results = JSON.parse(r.stdout) as Array<Record<string, string | boolean>>;
    assert.equal(results.length, 3);
    for (const res of results) {
      const alg = res.alg as MlDsaAlgorithm;
      assert.equal(res.ok, true, `${alg}: Python verifies our signature`);
      assert.equal(res.bad_ok, false, `${alg}: Python rejects a tampered signature`);
      assert.equal(res.same_pub, true, `${alg}: Python derives the same public key from our seed-form PKCS#8`);
      assert.equal(res.reenc_equal, true, `${alg}: Python re-encodes our PKCS#8 byte for byte`);
      const theirPkcs8 = Buffer.from(res.their_pkcs8 as string, 'hex');
      const theirSpki = new Uint8Array(Buffer.from(res.their_spki as string, 'hex'));
      const s = signerFromPkcs8(theirPkcs8, storage);
      assert.equal(s.keyAlgorithm, alg);
      assert.deepEqual(s.spki, theirSpki, `${alg}: we derive Python's public key from its PKCS#8`);
      assert.equal(verifySignature(theirSpki, alg, msg, Buffer.from(res.their_sig as string, 'hex')), true);
    }
  });
});
