import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEY_ALGORITHMS, SIGNATURE_ALGORITHMS, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from './algorithms';
import { pemEncode } from './pkcs8';
import {
  generateSoftwareKey,
  isEncryptedKeyFile,
  readKeyFile,
  signerFromPkcs8,
  softwareSigner,
  writeKeyFile,
} from './software';
import { keyAlgorithmOfSpki, verifySignature } from './verify';
import { codeOf } from '../../../test/codes';

const dir = mkdtempSync(join(tmpdir(), 'qpki-software-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const data = new TextEncoder().encode('to be signed');
let n = 0;
const fresh = (name: string) => join(dir, `${n++}-${name}`);


function openssl(args: string[], input?: Uint8Array): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
}

const fitting = (k: KeyAlgorithm) => SIGNATURE_ALGORITHMS.filter((s) => signatureFitsKey(s, k));

describe('software keys: every algorithm', () => {
  for (const alg of KEY_ALGORITHMS) {
    test(`${alg}: generate, write plain and encrypted, read back, sign every fitting algorithm, verify`, async () => {
      const { pkcs8, spki } = generateSoftwareKey(alg);
      assert.equal(keyAlgorithmOfSpki(spki), alg);

      const plain = fresh(`${alg}.pem`);
      writeKeyFile(plain, pkcs8, null);
      assert.equal(isEncryptedKeyFile(plain), false);
      assert.match(readFileSync(plain, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
      const r1 = readKeyFile(plain, undefined);
      assert.deepEqual(r1, { pkcs8, keyAlgorithm: alg, spki });

      const enc = fresh(`${alg}.enc.pem`);
      writeKeyFile(enc, pkcs8, 'a long ceremony passphrase');
      assert.equal(isEncryptedKeyFile(enc), true);
      assert.deepEqual(readKeyFile(enc, 'a long ceremony passphrase'), { pkcs8, keyAlgorithm: alg, spki });

      const signer = softwareSigner(enc, 'a long ceremony passphrase');
      assert.equal(signer.keyAlgorithm, alg);
      assert.deepEqual(signer.spki, spki);
      assert.deepEqual(signer.storage, { type: 'software', path: enc, encrypted: true });
      for (const sigAlg of fitting(alg)) {
        const sig = await signer.sign(sigAlg, data);
        assert.equal(verifySignature(spki, sigAlg, data, sig), true, sigAlg);
        assert.equal(verifySignature(spki, sigAlg, new TextEncoder().encode('something else'), sig), false, sigAlg);
      }
      const wrong = SIGNATURE_ALGORITHMS.find((s) => !signatureFitsKey(s, alg))!;
      await assert.rejects(signer.sign(wrong, data), { code: 'MECHANISM_UNSUPPORTED' });
    });
  }
});

describe('key files', () => {
  test('written with mode 0600, no temporary file left behind', () => {
    const p = fresh('mode.pem');
    const old = process.umask(0o000); // even with a permissive umask
    try {
      writeKeyFile(p, generateSoftwareKey('ed25519').pkcs8, null);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });

  test('an existing file is never overwritten: OUTPUT_EXISTS, content unchanged', () => {
    const p = fresh('exists.pem');
    writeFileSync(p, 'precious');
    assert.equal(codeOf(() => writeKeyFile(p, generateSoftwareKey('ed25519').pkcs8, null)), 'OUTPUT_EXISTS');
    assert.equal(codeOf(() => writeKeyFile(p, generateSoftwareKey('ed25519').pkcs8, 'pw-pw-pw-pw')), 'OUTPUT_EXISTS');
    assert.equal(readFileSync(p, 'utf8'), 'precious');
  });

  test('a missing directory is IO_ERROR, a missing file KEY_NOT_FOUND', () => {
    assert.equal(codeOf(() => writeKeyFile(join(dir, 'no', 'such', 'k.pem'), generateSoftwareKey('ed25519').pkcs8, null)), 'IO_ERROR');
    assert.equal(codeOf(() => readKeyFile(join(dir, 'absent.pem'), undefined)), 'KEY_NOT_FOUND');
  });

  test('encrypted without a passphrase is PASSPHRASE_REQUIRED; a wrong one PASSPHRASE_INCORRECT', () => {
    const p = fresh('locked.pem');
    writeKeyFile(p, generateSoftwareKey('ml-dsa-44').pkcs8, 'the passphrase');
    assert.equal(codeOf(() => readKeyFile(p, undefined)), 'PASSPHRASE_REQUIRED');
    assert.equal(codeOf(() => softwareSigner(p, undefined)), 'PASSPHRASE_REQUIRED');
    assert.equal(codeOf(() => readKeyFile(p, 'not the passphrase')), 'PASSPHRASE_INCORRECT');
    assert.doesNotMatch(readFileSync(p, 'utf8'), /the passphrase/);
  });

  test('files that hold no usable key are KEY_INVALID', () => {
    const notKey = fresh('cert.pem');
    writeFileSync(notKey, pemEncode('CERTIFICATE', new Uint8Array([0x30, 0x00])));
    assert.equal(codeOf(() => readKeyFile(notKey, undefined)), 'KEY_INVALID');
    const garbage = fresh('garbage.pem');
    writeFileSync(garbage, pemEncode('PRIVATE KEY', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])));
    assert.equal(codeOf(() => readKeyFile(garbage, undefined)), 'KEY_INVALID');
    const weakRsa = fresh('rsa1024.pem');
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', weakRsa]);
    assert.equal(codeOf(() => readKeyFile(weakRsa, undefined)), 'KEY_INVALID');
    const k1 = fresh('k1.pem');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-out', k1]);
    assert.equal(codeOf(() => readKeyFile(k1, undefined)), 'KEY_INVALID');
  });
});

describe('OpenSSL interoperability (classical)', () => {
  test('OpenSSL opens our encrypted key files and derives the same public key', () => {
    for (const alg of ['ec-p256', 'rsa-2048', 'ed25519'] as const) {
      const { pkcs8, spki } = generateSoftwareKey(alg);
      const p = fresh(`${alg}-for-openssl.pem`);
      writeKeyFile(p, pkcs8, 'openssl can read this');
      const pub = fresh(`${alg}.pub.der`);
      openssl(['pkey', '-in', p, '-passin', 'pass:openssl can read this', '-pubout', '-outform', 'DER', '-out', pub]);
      assert.deepEqual(new Uint8Array(readFileSync(pub)), spki, alg);
    }
  });

  test('OpenSSL verifies our signatures and we verify OpenSSL signatures', async () => {
    const cases: Array<[KeyAlgorithm, SignatureAlgorithm, string[]]> = [
      ['ec-p256', 'ecdsa-sha256', ['-sha256']],
      ['ec-p521', 'ecdsa-sha512', ['-sha512']],
      ['rsa-2048', 'rsa-pkcs1-sha256', ['-sha256']],
      ['rsa-2048', 'rsa-pss-sha384', ['-sha384', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48']],
      ['ed25519', 'ed25519', []],
    ];
    const msgFile = fresh('msg.bin');
    writeFileSync(msgFile, data);
    for (const [keyAlg, sigAlg, dgst] of cases) {
      const { pkcs8, spki } = generateSoftwareKey(keyAlg);
      const keyFile = fresh(`${keyAlg}.key.pem`);
      writeKeyFile(keyFile, pkcs8, null);
      const pubFile = fresh(`${keyAlg}.pub.pem`);
      writeFileSync(pubFile, pemEncode('PUBLIC KEY', spki));
      const sigFile = fresh(`${sigAlg}.sig`);
      writeFileSync(sigFile, await softwareSigner(keyFile, undefined).sign(sigAlg, data));
      const verifyArgs =
        keyAlg === 'ed25519'
          ? ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', msgFile, '-sigfile', sigFile]
          : ['dgst', ...dgst, '-verify', pubFile, '-signature', sigFile, msgFile];
      assert.match(openssl(verifyArgs), /Verified OK|Signature Verified Successfully/, sigAlg);

      const theirSig = fresh(`${sigAlg}.openssl.sig`);
      if (keyAlg === 'ed25519') openssl(['pkeyutl', '-sign', '-inkey', keyFile, '-rawin', '-in', msgFile, '-out', theirSig]);
      else openssl(['dgst', ...dgst, '-sign', keyFile, '-out', theirSig, msgFile]);
      assert.equal(verifySignature(spki, sigAlg, data, new Uint8Array(readFileSync(theirSig))), true, `${sigAlg} from OpenSSL`);
    }
  });

  test('we load keys OpenSSL generated: encrypted PKCS#8 (PBKDF2) and legacy unencrypted SEC1/PKCS#1', () => {
    const enc = fresh('openssl-enc.pem');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-aes256', '-pass', 'pass:from openssl', '-out', enc]);
    assert.equal(isEncryptedKeyFile(enc), true);
    const k = readKeyFile(enc, 'from openssl');
    assert.equal(k.keyAlgorithm, 'ec-p384');
    const pub = openssl(['pkey', '-in', enc, '-passin', 'pass:from openssl', '-pubout']);
    assert.equal(pub, pemEncode('PUBLIC KEY', k.spki));

    const sec1 = fresh('sec1.pem');
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-out', sec1]); // EC PARAMETERS block, then EC PRIVATE KEY
    assert.equal(readKeyFile(sec1, undefined).keyAlgorithm, 'ec-p256');
    const pkcs1 = fresh('pkcs1.pem');
    const rsa = fresh('rsa.pem');
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072', '-out', rsa]);
    openssl(['pkey', '-in', rsa, '-traditional', '-out', pkcs1]);
    assert.match(readFileSync(pkcs1, 'utf8'), /BEGIN RSA PRIVATE KEY/);
    assert.equal(readKeyFile(pkcs1, undefined).keyAlgorithm, 'rsa-3072');
  });

  test('the signer works from PKCS#8 in memory with any storage reference', async () => {
    const { pkcs8, spki } = generateSoftwareKey('ec-p384');
    const storage = { type: 'software', path: '/somewhere/ca.key', encrypted: true } as const;
    const s = signerFromPkcs8(pkcs8, storage);
    assert.equal(s.storage, storage);
    assert.equal(verifySignature(spki, 'ecdsa-sha384', data, await s.sign('ecdsa-sha384', data)), true);
    assert.ok(!existsSync('/somewhere/ca.key'));
  });
});
