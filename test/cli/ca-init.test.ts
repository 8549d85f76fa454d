/**
 * Every way `qpki ca init` can be told where the CA key lives and how to unlock it, each on a
 * fresh SoftHSM2 token store: token key generated or reused, the token found by label, serial,
 * slot or QPKI's hsm.yaml, the PIN from argument, environment or file; a software key encrypted
 * with a passphrase from environment or file; a subordinate CA under a parent.
 */
import { afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, sh, SOFTHSM_LIB, tokenArgs, TOKEN_LABEL, USER_PIN, type Lab } from './helpers';
import { pythonCertFacts } from './independent';

const labs: Lab[] = [];
function lab(): Lab {
  const l = makeLab();
  labs.push(l);
  return l;
}

/** SHA-256 of the certificate's SubjectPublicKeyInfo, computed by openssl. */
function certSpkiSha256(l: Lab, cert: string): string {
  const r = sh('sh', ['-c', 'openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum', 'sh', cert], { env: l.env });
  return r.stdout.split(' ')[0];
}

function softwareKeyFile(dir: string): string {
  const keys = join(dir, 'versions', 'v1', 'keys');
  const files = readdirSync(keys);
  assert.equal(files.length, 1, files.join(','));
  return join(keys, files[0]);
}

describe('qpki ca init: where the key lives and how it is unlocked', () => {
  before(ensureCliBuilt);
  afterEach(() => {
    while (labs.length) labs.pop()!.cleanup();
  });

  test('--use-existing-key signs with a key made earlier by key gen; a missing key is KEY_NOT_FOUND', () => {
    const l = lab();
    const gen = ok(l.run(['key', 'gen', ...tokenArgs(), '--algorithm', 'ec-p384', '--pkcs11-key-label', 'pre-made'], PIN_ENV));
    const fp = /public key SHA-256: ((?:[0-9a-f]{4} ?){16})/.exec(gen)![1].replace(/ /g, '');
    const out = ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'pre-made', '--use-existing-key', '--var', 'cn=Reused Key CA', '--dir', 'ca'], PIN_ENV));
    assert.match(out, /label "pre-made"/);
    assert.equal(certSpkiSha256(l, l.path('ca', 'ca.crt')), fp);
    const missing = l.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'no-such-key', '--use-existing-key', '--var', 'cn=X', '--dir', 'ca2'], PIN_ENV);
    assert.equal(missing.code, 1);
    assert.equal(errorLine(missing).code, 'KEY_NOT_FOUND');
    assert.ok(!existsSync(l.path('ca2')));
    // A key of another algorithm than the profile's is refused, not used.
    ok(l.run(['key', 'gen', ...tokenArgs(), '--algorithm', 'ec-p256', '--pkcs11-key-label', 'small'], PIN_ENV));
    const mismatch = l.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'small', '--use-existing-key', '--var', 'cn=X', '--dir', 'ca3'], PIN_ENV);
    assert.equal(errorLine(mismatch).code, 'KEY_INVALID');
    assert.match(errorLine(mismatch).message, /ec-p256.*ec-p384/);
    assert.ok(!existsSync(l.path('ca3')));
  });

  test('--pkcs11-token-serial with --pkcs11-pin-file (a file, or - for stdin); an unknown serial is TOKEN_NOT_FOUND', () => {
    const l = lab();
    const pinFile = l.path('pin.txt');
    writeFileSync(pinFile, USER_PIN + '\n', { mode: 0o600 });
    const out = ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token-serial', l.serial, '--pkcs11-pin-file', pinFile, '--pkcs11-key-label', 'k', '--var', 'cn=By Serial', '--dir', 'ca']));
    assert.match(out, new RegExp(`serial ${l.serial}`));
    // '-' reads the PIN from standard input (a pipe from a secret store).
    const piped = l.run(['crl', 'gen', '--ca-dir', 'ca', '--pkcs11-pin-file', '-'], {}, USER_PIN + '\n');
    assert.match(ok(piped), /CRL #\d+ signed/);
    const none = l.run(['ca', 'init', '--profile', 'ec/root-ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token-serial', '0000000000000000', '--pkcs11-pin-file', pinFile, '--pkcs11-key-label', 'k2', '--var', 'cn=X', '--dir', 'ca2']);
    assert.equal(errorLine(none).code, 'TOKEN_NOT_FOUND');
  });

  test('--hsm-config in QPKI format: token label, token_serial or slot, PIN from pin_env (and --ca-dir as a synonym of --dir)', () => {
    const l = lab();
    const slotId = /slot (\d+): token "CA Token"/.exec(ok(l.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB])))![1];
    const variants: [string, string][] = [
      ['label', `token: "${TOKEN_LABEL}"`],
      ['serial', `token_serial: "${l.serial}"`],
      ['slot', `slot: ${slotId}`],
    ];
    for (const [name, line] of variants) {
      const cfg = l.path(`hsm-${name}.yaml`);
      writeFileSync(cfg, `type: pkcs11\npkcs11:\n  lib: ${SOFTHSM_LIB}\n  ${line}\n  pin_env: HSM_PIN\n`);
      const out = ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', '--hsm-config', cfg, '--pkcs11-key-label', `key-${name}`, '--var', `cn=HSM config ${name}`, name === 'label' ? '--ca-dir' : '--dir', `ca-${name}`], { HSM_PIN: USER_PIN }));
      assert.match(out, new RegExp(`in token "CA Token".*label "key-${name}"`), name);
      // The CA opened later through the same file signs again (credential enroll).
      ok(l.run(['credential', 'enroll', '--ca-dir', `ca-${name}`, '--hsm-config', cfg, '--profile', 'ec/tls-server', '--var', `cn=${name}.example.com`, '--cred-dir', `creds-${name}`], { HSM_PIN: USER_PIN }));
    }
    // A PIN written into the file is refused, and so is another type.
    const withPin = l.path('hsm-pin.yaml');
    writeFileSync(withPin, `type: pkcs11\npkcs11:\n  lib: ${SOFTHSM_LIB}\n  token: "${TOKEN_LABEL}"\n  pin: "${USER_PIN}"\n`);
    const r1 = l.run(['ca', 'init', '--profile', 'ec/root-ca', '--hsm-config', withPin, '--pkcs11-key-label', 'x', '--var', 'cn=X', '--dir', 'cx']);
    assert.equal(errorLine(r1).code, 'INPUT_INVALID');
    assert.ok(!r1.stderr.includes(USER_PIN));
    const wrongType = l.path('hsm-type.yaml');
    writeFileSync(wrongType, `type: kms\npkcs11:\n  lib: ${SOFTHSM_LIB}\n`);
    const r2 = l.run(['ca', 'init', '--profile', 'ec/root-ca', '--hsm-config', wrongType, '--pkcs11-key-label', 'x', '--var', 'cn=X', '--dir', 'cx']);
    assert.equal(errorLine(r2).code, 'INPUT_INVALID');
    assert.match(errorLine(r2).message, /type/);
  });

  test('software key: encrypted with --passphrase-env or --passphrase-file; the CA then needs it, a wrong one is PASSPHRASE_INCORRECT', () => {
    const l = lab();
    const pass = 'soft-passphrase-4242';
    const passFile = l.path('pass.txt');
    writeFileSync(passFile, pass + '\n', { mode: 0o600 });
    ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', '--passphrase-env', 'CA_PASS', '--var', 'cn=Soft Env', '--dir', 'soft-env'], { CA_PASS: pass }));
    ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', '--passphrase-file', passFile, '--var', 'cn=Soft File', '--dir', 'soft-file']));
    for (const d of ['soft-env', 'soft-file']) {
      const key = softwareKeyFile(l.path(d));
      assert.equal(statSync(key).mode & 0o077, 0, `${key} is private to its owner`);
      assert.match(readFileSync(key, 'utf8'), /-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      // openssl opens it with the passphrase (trailing newline of the file not part of it) …
      const open = sh('openssl', ['pkey', '-in', key, '-passin', `pass:${pass}`, '-noout']);
      assert.equal(open.code, 0, open.stderr);
      // … and not without.
      assert.notEqual(sh('openssl', ['pkey', '-in', key, '-passin', 'pass:wrong', '-noout']).code, 0);
    }
    ok(l.run(['credential', 'enroll', '--ca-dir', 'soft-env', '--ca-passphrase-env', 'CA_PASS', '--profile', 'ec/tls-server', '--var', 'cn=a.example.com'], { CA_PASS: pass }));
    const wrong = l.run(['credential', 'enroll', '--ca-dir', 'soft-file', '--ca-passphrase-env', 'CA_PASS', '--profile', 'ec/tls-server', '--var', 'cn=b.example.com'], { CA_PASS: 'not-the-passphrase' });
    assert.equal(wrong.code, 1);
    assert.equal(errorLine(wrong).code, 'PASSPHRASE_INCORRECT');
    const none = l.run(['credential', 'enroll', '--ca-dir', 'soft-file', '--profile', 'ec/tls-server', '--var', 'cn=b.example.com']);
    assert.equal(errorLine(none).code, 'PASSPHRASE_REQUIRED');
    // No passphrase and no terminal: a new CA key is never written unencrypted by default.
    const noPass = l.run(['ca', 'init', '--profile', 'ec/root-ca', '--var', 'cn=No Pass', '--dir', 'nopass']);
    assert.equal(errorLine(noPass).code, 'PASSPHRASE_REQUIRED');
    assert.ok(!existsSync(l.path('nopass')));
  });

  test('--parent: a subordinate CA signed by a software parent and by a token parent', () => {
    const l = lab();
    const pass = 'parent-passphrase-77';
    const passFile = l.path('parent-pass.txt');
    writeFileSync(passFile, pass + '\n');
    ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', '--passphrase-file', passFile, '--var', 'cn=Soft Root', '--dir', 'soft-root']));
    ok(l.run(['ca', 'init', '--profile', 'ec/issuing-ca', '--parent', 'soft-root', '--parent-passphrase-file', passFile, ...tokenArgs(), '--pkcs11-key-label', 'sub', '--var', 'cn=Token Sub', '--dir', 'sub'], PIN_ENV));
    ok(l.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'root', '--var', 'cn=Token Root', '--dir', 'token-root'], PIN_ENV));
    ok(l.run(['ca', 'init', '--profile', 'ec/issuing-ca', '--parent', 'token-root', ...tokenArgs(), '--pkcs11-key-label', 'sub2', '--var', 'cn=Token Sub 2', '--dir', 'sub2'], PIN_ENV));
    const a = pythonCertFacts([l.path('sub', 'ca.crt'), l.path('soft-root', 'ca.crt')]);
    assert.equal(a[0].verifiedBy, 'CN=Soft Root');
    const b = pythonCertFacts([l.path('sub2', 'ca.crt'), l.path('token-root', 'ca.crt')]);
    assert.equal(b[0].verifiedBy, 'CN=Token Root');
    // The parent recorded the issuance; the child's chain file holds both.
    assert.match(readFileSync(l.path('token-root', 'index.txt'), 'utf8'), /CN=Token Sub 2/);
    assert.equal((readFileSync(l.path('sub2', 'chain.crt'), 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    const v = sh('openssl', ['verify', '-x509_strict', '-CAfile', l.path('soft-root', 'ca.crt'), l.path('sub', 'ca.crt')]);
    assert.equal(v.code, 0, v.stderr);
    // An issuing CA (pathLenConstraint 0) may not sign another CA: refused before any key is made.
    const deeper = l.run(['ca', 'init', '--profile', 'ec/issuing-ca', '--parent', 'sub2', ...tokenArgs(), '--pkcs11-key-label', 'too-deep', '--var', 'cn=Too Deep', '--dir', 'too-deep'], PIN_ENV);
    assert.equal(deeper.code, 1);
    assert.equal(errorLine(deeper).code, 'PROFILE_INVALID');
    assert.match(errorLine(deeper).message, /pathLenConstraint 0/);
    assert.ok(!existsSync(l.path('too-deep')));
    assert.doesNotMatch(ok(l.run(['key', 'list', ...tokenArgs()], PIN_ENV)), /too-deep/);
    const viaEnroll = l.run(['credential', 'enroll', '--ca-dir', 'sub2', '--profile', 'ec/issuing-ca', '--var', 'cn=Too Deep', '--cred-dir', 'deep-creds', ...tokenArgs()], PIN_ENV);
    assert.equal(errorLine(viaEnroll).code, 'PROFILE_INVALID');
    assert.ok(!existsSync(l.path('deep-creds')) || readdirSync(l.path('deep-creds')).length === 0);
  });
});
