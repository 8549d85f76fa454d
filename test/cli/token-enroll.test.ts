/**
 * Token and key commands (token list/info/init, key list/gen) and the ways `credential enroll`
 * keeps the subject key: a file (unencrypted with a warning, or encrypted) or the token. What
 * qpki says about a token is checked against softhsm2-util and pkcs11-tool.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, qpkiAsync, sh, SOFTHSM_LIB, tokenArgs, USER_PIN, wrotePaths, type Lab } from './helpers';
import { pythonCertFacts } from './independent';

let lab: Lab;
const PEOPLE = ['--operator', 'Carol', '--witness', 'Dan'];

function spkiSha256OfCert(cert: string): string {
  return sh('sh', ['-c', 'openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum', 'sh', cert]).stdout.split(' ')[0];
}

describe('qpki token, key and credential enroll', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'ca-key', '--var', 'cn=Enroll CA', '--dir', 'ca'], PIN_ENV));
  });
  after(() => lab?.cleanup());

  test('token list shows the module and the token as softhsm2-util does; --json too', () => {
    const out = ok(lab.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB]));
    assert.match(out, /^module .*libsofthsm2\.so: .*SoftHSM/m);
    assert.match(out, new RegExp(`token "CA Token"[\\s\\S]*serial: ${lab.serial}`));
    assert.match(out, /token not initialized/);
    const js = JSON.parse(ok(lab.run(['--json', 'token', 'list', '--pkcs11-lib', SOFTHSM_LIB])));
    assert.match(js.module.sha256, /^[0-9a-f]{64}$/);
    const sha = sh('sha256sum', [SOFTHSM_LIB]).stdout.split(' ')[0];
    assert.equal(js.module.sha256, sha, 'module fingerprint recomputable with sha256sum');
    const slots = sh('softhsm2-util', ['--show-slots'], { env: lab.env }).stdout;
    assert.ok(slots.includes(lab.serial));
    assert.ok(js.slots.some((s: { token?: { serial: string; label: string } }) => s.token?.serial === lab.serial && s.token.label === 'CA Token'));
  });

  test('token info: flags, PIN state and mechanisms', () => {
    const out = ok(lab.run(['token', 'info', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'CA Token']));
    assert.match(out, /token "CA Token"/);
    assert.match(out, /user PIN: ok/);
    assert.match(out, /login required: yes/);
    assert.match(out, /CKM_ECDSA\b/);
    const bySerial = ok(lab.run(['token', 'info', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token-serial', lab.serial]));
    assert.match(bySerial, /token "CA Token"/);
  });

  test('token init on the free slot; the new token is then found by its label and takes its new PIN', () => {
    const list = ok(lab.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB]));
    const slot = /slot (\d+): .*token not initialized/.exec(list)![1];
    const pins = { NEW_SO: 'new-so-PIN-24680', NEW_USER: 'new-user-PIN-13579' };
    const init = ['token', 'init', '--pkcs11-lib', SOFTHSM_LIB, '--slot', slot, '--label', 'Fresh Token', '--so-pin-env', 'NEW_SO', '--pin-env', 'NEW_USER'];
    // Never off the record: without a journal folder, or without the people named, nothing is done.
    const unrecorded = lab.run([...PEOPLE, ...init], pins);
    assert.equal(errorLine(unrecorded).code, 'INPUT_INVALID');
    assert.match(errorLine(unrecorded).message, /always recorded: give --journal-dir/);
    const nameless = lab.run([...init, '--journal-dir', 'fresh-record'], pins);
    assert.match(errorLine(nameless).message, /Name the people present with --operator NAME and --witness NAME/);
    assert.equal(existsSync(lab.path('fresh-record')), false, 'no record begun for a refused run');
    assert.match(ok(lab.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB])), new RegExp(`slot ${slot}: .*token not initialized`), 'the slot is still free');
    const r = lab.run([...PEOPLE, ...init, '--journal-dir', 'fresh-record'], pins);
    assert.match(ok(r), /Token "Fresh Token" initialized \(serial [0-9a-f]+\)/);
    // Its own record, opened and closed, under the people named.
    const record = readFileSync(lab.path('fresh-record', 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual([record[0].kind, record.at(-1).kind], ['ceremony.opened', 'ceremony.closed']);
    assert.ok(record.some((e) => e.kind === 'token.initialized' && e.facts.label === 'Fresh Token'));
    assert.ok(record.every((e) => e.operator === 'Carol' && e.witnesses.includes('Dan')));
    // Independent: softhsm2-util sees it.
    assert.match(sh('softhsm2-util', ['--show-slots'], { env: lab.env }).stdout, /Label:\s+Fresh Token/);
    const info = ok(lab.run(['token', 'info', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Fresh Token']));
    assert.match(info, /token "Fresh Token"/);
    const gen = ok(lab.run(['key', 'gen', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Fresh Token', '--pkcs11-pin-env', 'NEW_USER', '--algorithm', 'ec-p256', '--pkcs11-key-label', 'fresh-key'], pins));
    assert.match(gen, /Key "fresh-key" generated in token "Fresh Token"/);
    // The old PIN does not open the new token.
    const wrong = lab.run(['key', 'list', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Fresh Token', '--pkcs11-pin-env', 'QPKI_TEST_PIN'], PIN_ENV);
    assert.equal(errorLine(wrong).code, 'PIN_INCORRECT');
    // No PINs and no terminal: refused, nothing initialized (on the slot that is free now: slot ids move after an initialization).
    const freeNow = /slot (\d+): .*token not initialized/.exec(ok(lab.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB])))![1];
    const none = lab.run([...PEOPLE, 'token', 'init', '--pkcs11-lib', SOFTHSM_LIB, '--slot', freeNow, '--label', 'Other', '--journal-dir', 'other-record']);
    assert.equal(errorLine(none).code, 'PIN_REQUIRED');
    // The token just made is initialized: without --reinitialize it is refused before any PIN is asked for.
    const madeSlot = new RegExp(`slot (\\d+): token "Fresh Token"`).exec(ok(lab.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB])))![1];
    const again = lab.run([...PEOPLE, 'token', 'init', '--pkcs11-lib', SOFTHSM_LIB, '--slot', madeSlot, '--label', 'Other', '--journal-dir', 'other-record']);
    assert.equal(errorLine(again).code, 'TOKEN_ALREADY_INITIALIZED');
    assert.match(errorLine(again).message, /--reinitialize "Fresh Token"/);
  });

  test('key gen and key list: attributes read back, checked against pkcs11-tool', () => {
    const gen = ok(lab.run(['key', 'gen', ...tokenArgs(), '--algorithm', 'ec-p256', '--pkcs11-key-label', 'spare'], PIN_ENV));
    assert.match(gen, /read back: sensitive=true extractable=false always_sensitive=true never_extractable=true local=true/);
    assert.match(gen, /test signature \(ecdsa-sha256\) verified in software: yes/);
    const dup = lab.run(['key', 'gen', ...tokenArgs(), '--algorithm', 'ec-p256', '--pkcs11-key-label', 'spare'], PIN_ENV);
    assert.equal(errorLine(dup).code, 'KEY_LABEL_EXISTS');
    const bad = lab.run(['key', 'gen', ...tokenArgs(), '--algorithm', 'dsa-1024', '--pkcs11-key-label', 'x'], PIN_ENV);
    assert.equal(errorLine(bad).code, 'INPUT_INVALID');
    const list = ok(lab.run(['key', 'list', ...tokenArgs()], PIN_ENV));
    for (const k of ['ca-key', 'spare']) assert.match(list, new RegExp(`"${k}".*sensitive never-extractable local`));
    const tool = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', USER_PIN, '-O', '--type', 'privkey'], { env: lab.env }).stdout;
    const ids = [...tool.matchAll(/ID:\s+([0-9a-f]+)/g)].map((m) => m[1]).sort();
    const listed = [...list.matchAll(/id ([0-9a-f]+)/g)].map((m) => m[1]).sort();
    assert.deepEqual(listed, ids);
  });

  test('enroll without passphrase and without terminal: key written unencrypted (0600) with a warning; paths printed', () => {
    const r = lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=plain.example.com', '--cred-dir', 'creds-plain', ...tokenArgs()], PIN_ENV);
    const out = ok(r);
    assert.match(r.stderr, /^warning: no passphrase given and no terminal: .*UNENCRYPTED/m);
    const paths = wrotePaths(out);
    assert.deepEqual(paths.map((p) => p.split('/').pop()).sort(), ['cert.pem', 'chain.pem', 'key.pem']);
    for (const p of paths) {
      assert.ok(existsSync(p), p);
      assert.ok(p.startsWith(lab.path('creds-plain') + '/'), `${p} under --cred-dir`);
    }
    const key = paths.find((p) => p.endsWith('key.pem'))!;
    assert.match(readFileSync(key, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    // The key and the certificate belong together (openssl, not qpki).
    const keySpki = sh('sh', ['-c', 'openssl pkey -in "$1" -pubout -outform DER | sha256sum', 'sh', key]).stdout.split(' ')[0];
    assert.equal(keySpki, spkiSha256OfCert(paths.find((p) => p.endsWith('cert.pem'))!));
    // The chain file holds the leaf then the CA.
    const chain = readFileSync(paths.find((p) => p.endsWith('chain.pem'))!, 'utf8');
    assert.equal((chain.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    assert.ok(chain.endsWith(readFileSync(lab.path('ca', 'ca.crt'), 'utf8')));
    // Two enrolments for the same name never overwrite each other.
    const again = ok(lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=plain.example.com', '--cred-dir', 'creds-plain', ...tokenArgs()], PIN_ENV));
    assert.notEqual(dirname(wrotePaths(again)[0]), dirname(paths[0]));
  });

  test('enroll with --passphrase-env: the key file is encrypted under it, and no unencrypted warning', () => {
    const pass = 'credential-pass-9191';
    const r = lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-client', '--var', 'cn=Alice', '--var', 'email=alice@example.com', '--cred-dir', 'creds-enc', '--passphrase-env', 'CRED_PASS', ...tokenArgs()], { ...PIN_ENV, CRED_PASS: pass });
    const out = ok(r);
    assert.doesNotMatch(r.stderr, /UNENCRYPTED/);
    assert.match(out, /\(encrypted\)/);
    const key = wrotePaths(out).find((p) => p.endsWith('key.pem'))!;
    assert.match(readFileSync(key, 'utf8'), /-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    assert.equal(sh('openssl', ['pkey', '-in', key, '-passin', `pass:${pass}`, '-noout']).code, 0);
    assert.notEqual(sh('openssl', ['pkey', '-in', key, '-passin', 'pass:other', '-noout']).code, 0);
  });

  test('enroll --key-in-token: the subject key is generated in the token and the certificate carries it', () => {
    const out = ok(lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=hsm.example.com', '--cred-dir', 'creds-tok', '--key-in-token', '--key-label', 'server-key', ...tokenArgs()], PIN_ENV));
    assert.match(out, /key:\s+in token "CA Token", label "server-key"/);
    const paths = wrotePaths(out);
    assert.ok(!paths.some((p) => p.endsWith('key.pem')), 'no key file');
    const cert = paths.find((p) => p.endsWith('cert.pem'))!;
    // pkcs11-tool exports the token's public key; it is the certificate's.
    const pub = join(lab.dir, 'server-key.pub.der');
    const rd = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'CA Token', '--login', '--pin', USER_PIN, '--read-object', '--type', 'pubkey', '--label', 'server-key', '-o', pub], { env: lab.env });
    assert.equal(rd.code, 0, rd.stderr);
    const tokenSpki = sh('sh', ['-c', 'openssl pkey -pubin -inform DER -in "$1" -outform DER | sha256sum', 'sh', pub]).stdout.split(' ')[0];
    assert.equal(tokenSpki, spkiSha256OfCert(cert));
    const [f] = pythonCertFacts([cert, lab.path('ca', 'ca.crt')]);
    assert.equal(f.verifiedBy, 'CN=Enroll CA');
    assert.notEqual(f.keyEncipherment, true);
    // Without --pkcs11-lib the key goes to the CA's own token (the reference usage: --ca-dir and a PIN).
    const short = ok(lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=short.example.com', '--cred-dir', 'creds-short', '--key-in-token', '--key-label', 'short-key', '--pkcs11-pin-env', 'QPKI_TEST_PIN'], PIN_ENV));
    assert.match(short, /key:\s+in token "CA Token", label "short-key"/);
    // A label already used: refused before issuance, and no credential directory is left behind.
    const clash = lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=clash.example.com', '--cred-dir', 'creds-clash', '--key-in-token', '--key-label', 'short-key', '--pkcs11-pin-env', 'QPKI_TEST_PIN'], PIN_ENV);
    assert.equal(errorLine(clash).code, 'KEY_LABEL_EXISTS');
    assert.deepEqual(existsSync(lab.path('creds-clash')) ? readdirSync(lab.path('creds-clash')) : [], []);
    const noLabel = lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', 'cn=x.example.com', '--cred-dir', 'creds-x', '--key-in-token', ...tokenArgs()], PIN_ENV);
    assert.equal(errorLine(noLabel).code, 'INPUT_INVALID');
  });
  test('enrolments racing on one CA: each either succeeds or is refused with CA_LOCKED; serials unique, index and files agree', async () => {
    const indexBefore = readFileSync(lab.path('ca', 'index.txt'), 'utf8').trim().split('\n').length;
    const runs = await Promise.all(
      [1, 2, 3, 4].map((i) => qpkiAsync(['credential', 'enroll', '--ca-dir', 'ca', '--profile', 'ec/tls-server', '--var', `cn=race${i}.example.com`, '--cred-dir', 'race', '--unencrypted-key', ...tokenArgs()], { env: { ...lab.env, ...PIN_ENV }, cwd: lab.dir })),
    );
    const okRuns = runs.filter((r) => r.code === 0);
    for (const r of runs.filter((x) => x.code !== 0)) assert.equal(errorLine(r).code, 'CA_LOCKED', r.stderr);
    assert.ok(okRuns.length >= 1);
    const serials = okRuns.map((r) => /serial:\s+([0-9a-f]+)/.exec(r.stdout)![1]);
    assert.equal(new Set(serials).size, serials.length);
    const index = readFileSync(lab.path('ca', 'index.txt'), 'utf8').trim().split('\n');
    assert.equal(index.length, indexBefore + okRuns.length);
    // A refused run leaves no credential directory behind.
    assert.equal(readdirSync(lab.path('race')).length, okRuns.length);
    assert.match(ok(lab.run(['ca', 'check', '--dir', 'ca'])), /consistent/);
  });
});
