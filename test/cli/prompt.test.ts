/**
 * On a terminal qpki asks for what it needs, without echo: the token PIN, a new key's
 * passphrase (twice), the PINs of a token being initialized. Run on a real pseudo-terminal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, makeLab, ok, PIN_ENV, qpkiOnTerminal, sh, SOFTHSM_LIB, tokenArgs, USER_PIN, type Lab } from './helpers';

let lab: Lab;

describe('qpki prompts on a terminal', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab();
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'ca-key', '--var', 'cn=Prompt CA', '--dir', 'ca'], PIN_ENV));
  });
  after(() => lab?.cleanup());

  test('the token PIN is asked for and never echoed', () => {
    const r = qpkiOnTerminal(lab, ['crl', 'gen', '--ca-dir', 'ca'], [USER_PIN]);
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Token PIN:/);
    assert.match(r.screen, /CRL #\d+ signed/);
    assert.ok(!r.screen.includes(USER_PIN), 'PIN echoed');
    assert.ok(!r.screen.includes('*'.repeat(USER_PIN.length)), 'no mask that tells the length either');
  });

  test('a subordinate CA whose parent key is in the same token: the PIN is asked once', () => {
    const r = qpkiOnTerminal(lab, ['ca', 'init', '--profile', 'ec/issuing-ca', '--parent', 'ca', '--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'CA Token', '--pkcs11-key-label', 'sub-key', '--var', 'cn=Prompt Sub', '--dir', 'sub'], [USER_PIN, USER_PIN]);
    assert.equal(r.code, 0, r.screen);
    assert.equal((r.screen.match(/Token PIN:/g) ?? []).length, 1, r.screen);
    assert.match(r.screen, /CA created in .*sub/);
  });

  test('a wrong PIN typed at the prompt is PIN_INCORRECT; Ctrl-C cancels with one line', () => {
    const wrong = qpkiOnTerminal(lab, ['crl', 'gen', '--ca-dir', 'ca'], ['typed-wrong-PIN']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.screen, /error \[PIN_INCORRECT\]/);
    assert.ok(!wrong.screen.includes('typed-wrong-PIN'));
    const cancel = qpkiOnTerminal(lab, ['crl', 'gen', '--ca-dir', 'ca'], ['\x03']);
    assert.equal(cancel.code, 1, cancel.screen);
    assert.match(cancel.screen, /error \[[A-Z_]+\]: Cancelled/);
  });

  test('a new software CA key: passphrase asked twice; different entries refuse, equal ones encrypt the key', () => {
    const differ = qpkiOnTerminal(lab, ['ca', 'init', '--profile', 'ec/root-ca', '--var', 'cn=Typed', '--dir', 'typed-bad'], ['first-passphrase-1', 'second-passphrase-2']);
    assert.equal(differ.code, 1, differ.screen);
    assert.match(differ.screen, /Repeat the passphrase/);
    assert.match(differ.screen, /error \[INPUT_INVALID\]: The two .* entries differ/);
    assert.ok(!existsSync(lab.path('typed-bad')));
    const pass = 'typed-passphrase-ok-12';
    const good = qpkiOnTerminal(lab, ['ca', 'init', '--profile', 'ec/root-ca', '--var', 'cn=Typed', '--dir', 'typed'], [pass, pass]);
    assert.equal(good.code, 0, good.screen);
    assert.ok(!good.screen.includes(pass));
    const keys = join(lab.path('typed'), 'versions', 'v1', 'keys');
    const key = join(keys, readdirSync(keys)[0]);
    assert.equal(sh('openssl', ['pkey', '-in', key, '-passin', `pass:${pass}`, '-noout']).code, 0);
  });

  test('token init asks for the SO PIN and the user PIN, each twice', () => {
    const slot = /slot (\d+): .*token not initialized/.exec(ok(lab.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB])))![1];
    const so = 'typed-SO-PIN-8642';
    const user = 'typed-user-PIN-9753';
    const r = qpkiOnTerminal(lab, ['--operator', 'Carol', '--witness', 'Dan', 'token', 'init', '--pkcs11-lib', SOFTHSM_LIB, '--slot', slot, '--label', 'Typed Token', '--journal-dir', 'typed-record'], [so, so, user, user]);
    assert.equal(r.code, 0, r.screen);
    assert.equal(r.answered, 4);
    assert.ok(!r.screen.includes(so) && !r.screen.includes(user));
    // The typed user PIN opens the new token (pkcs11-tool, not qpki).
    const t = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', 'Typed Token', '--login', '--pin', user, '-O'], { env: lab.env });
    assert.equal(t.code, 0, t.stderr);
  });
});
