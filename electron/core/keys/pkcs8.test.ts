import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { decryptPkcs8, encryptPkcs8, pemDecodeAll } from './pkcs8';
import { codeOf } from '../../../test/codes';

const dir = mkdtempSync(join(tmpdir(), 'qpki-pkcs8-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ecKey = () =>
  new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'der' }));

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}


describe('encrypted PKCS#8', () => {
  test('round trip, and the structure is PBES2 / scrypt (N=2^14, r=8, p=1, 16-byte salt) / AES-256-CBC', () => {
    const der = ecKey();
    const pem = encryptPkcs8(der, 'correct horse battery staple');
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    assert.deepEqual(decryptPkcs8(pem, 'correct horse battery staple'), der);
    const file = join(dir, 'struct.pem');
    writeFileSync(file, pem);
    const dump = openssl(['asn1parse', '-in', file]);
    assert.match(dump, /OBJECT\s+:PBES2/);
    assert.match(dump, /OBJECT\s+:scrypt/);
    assert.match(dump, /OCTET STRING\s+\[HEX DUMP\]:[0-9A-F]{32}\n[^\n]*INTEGER\s+:4000\n[^\n]*INTEGER\s+:08\n[^\n]*INTEGER\s+:01\n[^\n]*INTEGER\s+:20/);
    assert.match(dump, /OBJECT\s+:aes-256-cbc\n[^\n]*OCTET STRING\s+\[HEX DUMP\]:[0-9A-F]{32}\n/);
  });

  test('two encryptions of the same key differ (fresh salt and IV)', () => {
    const der = ecKey();
    assert.notEqual(encryptPkcs8(der, 'pw-pw-pw-pw'), encryptPkcs8(der, 'pw-pw-pw-pw'));
  });

  test('wrong passphrase is PASSPHRASE_INCORRECT and the message holds no passphrase', () => {
    const pem = encryptPkcs8(ecKey(), 'the right one');
    for (let i = 0; i < 5; i++) {
      try {
        decryptPkcs8(pem, `the wrong one ${i}`);
        assert.fail('decrypted with a wrong passphrase');
      } catch (e) {
        assert.equal((e as { code: string }).code, 'PASSPHRASE_INCORRECT');
        assert.doesNotMatch((e as Error).message, /wrong one|right one/);
      }
    }
  });

  test('empty passphrase is refused for writing', () => {
    assert.equal(codeOf(() => encryptPkcs8(ecKey(), '')), 'INPUT_INVALID');
  });

  test('malformed input is KEY_INVALID', () => {
    const pem = encryptPkcs8(ecKey(), 'pw-pw-pw-pw');
    const der = pemDecodeAll(pem)[0].der;
    assert.equal(codeOf(() => decryptPkcs8(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 'x')), 'KEY_INVALID');
    assert.equal(codeOf(() => decryptPkcs8('no pem here', 'x')), 'KEY_INVALID');
    // PBES2 OID changed to PBES1 (pbeWithSHA1AndDES-CBC, 1.2.840.113549.1.5.10).
    const pbes1 = Uint8Array.from(der);
    const i = Buffer.from(pbes1).indexOf(Buffer.from('2a864886f70d01050d', 'hex'));
    pbes1[i + 8] = 0x0a;
    assert.equal(codeOf(() => decryptPkcs8(pbes1, 'pw-pw-pw-pw')), 'KEY_INVALID');
    // scrypt parameters a crafted file could use to exhaust memory or that are not scrypt at all: refused before any work.
    const at = Buffer.from(der).indexOf(Buffer.from('02024000020108020101', 'hex'));
    assert.ok(at > 0);
    for (const [offset, value] of [[9, 0x7f], [2, 0x7f], [3, 0x01]]) {
      const bad = Uint8Array.from(der);
      bad[at + offset] = value; // p = 127, N = 0x7f00 (not a power of two), N = 0x4001
      assert.equal(codeOf(() => decryptPkcs8(bad, 'pw-pw-pw-pw')), 'KEY_INVALID');
    }
    const bigR = Uint8Array.from(der);
    bigR[at + 6] = 0x7f; // r = 127
    assert.equal(codeOf(() => decryptPkcs8(bigR, 'pw-pw-pw-pw')), 'KEY_INVALID');
  });

  test('OpenSSL reads a key we encrypted', () => {
    const der = ecKey();
    const file = join(dir, 'ours.pem');
    writeFileSync(file, encryptPkcs8(der, 'pässphrase with ümlauts'));
    openssl(['pkey', '-in', file, '-passin', 'pass:pässphrase with ümlauts', '-noout']);
    // Decrypted and written back as plain PKCS#8, it must be our bytes exactly.
    openssl(['pkcs8', '-topk8', '-nocrypt', '-in', file, '-passin', 'pass:pässphrase with ümlauts', '-outform', 'DER', '-out', join(dir, 'ours.der')]);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'ours.der'))), der);
    assert.throws(() => openssl(['pkey', '-in', file, '-passin', 'pass:wrong', '-noout']));
  });

  const opensslVariants: Array<[string, string[]]> = [
    ['genpkey -aes256 (PBKDF2 HMAC-SHA-256, AES-256-CBC)', []],
    ['pkcs8 -scrypt (AES-256-CBC)', ['-scrypt']],
    ['pkcs8 -v2 aes-128-cbc -v2prf hmacWithSHA1 (default PRF omitted)', ['-v2', 'aes-128-cbc', '-v2prf', 'hmacWithSHA1']],
    ['pkcs8 -v2 aes-192-cbc -iter 1000000', ['-v2', 'aes-192-cbc', '-iter', '1000000']],
  ];
  for (const [name, args] of opensslVariants) {
    test(`we read a key OpenSSL encrypted: ${name}`, () => {
      const plain = join(dir, 'plain.pem');
      const enc = join(dir, `enc-${args.join('_') || 'genpkey'}.pem`);
      if (args.length === 0) {
        openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-aes256', '-pass', 'pass:open sesame', '-out', enc]);
      } else {
        openssl(['genpkey', '-algorithm', 'ED25519', '-out', plain]);
        openssl(['pkcs8', '-topk8', '-in', plain, '-passout', 'pass:open sesame', '-out', enc, ...args]);
      }
      const pem = readFileSync(enc, 'utf8');
      const der = decryptPkcs8(pem, 'open sesame');
      const expected = createPrivateKey({ key: pem, passphrase: 'open sesame' }).export({ type: 'pkcs8', format: 'der' });
      assert.deepEqual(Buffer.from(der), expected);
      assert.equal(codeOf(() => decryptPkcs8(pem, 'open sesame!')), 'PASSPHRASE_INCORRECT');
    });
  }
});
