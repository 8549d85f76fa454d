/**
 * Canary secrets: a ceremony run with a recognisable PIN and passphrase given through the
 * environment and files, then every byte qpki wrote or printed is searched for them (plain, hex
 * and base64). Only the files that were handed to qpki to hold a secret may contain it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, makeLab, ok, SOFTHSM_LIB, transcript, type Lab } from './helpers';

const PIN = 'canary-PIN-7f3a91';
const PASS = 'canary-PASS-c0ffee';

function forms(secret: string): string[] {
  const b = Buffer.from(secret);
  return [secret, b.toString('hex'), b.toString('base64').replace(/=+$/, ''), b.toString('base64url').replace(/=+$/, '')];
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

let lab: Lab;
let pinFile: string;
let passFile: string;

describe('canary PIN and passphrase never reach a file, the journal or the output', () => {
  before(async () => {
    await ensureCliBuilt();
    lab = makeLab('Canary Token', PIN);
    pinFile = lab.path('pin.secret');
    passFile = lab.path('pass.secret');
    writeFileSync(pinFile, PIN + '\n', { mode: 0o600 });
    writeFileSync(passFile, PASS + '\n', { mode: 0o600 });
    const tok = ['--pkcs11-lib', SOFTHSM_LIB, '--pkcs11-token', 'Canary Token'];
    const env = { CANARY_PIN: PIN, CANARY_PASS: PASS };
    // Token CA, PIN from the environment; then from a file.
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tok, '--pkcs11-pin-env', 'CANARY_PIN', '--pkcs11-key-label', 'root', '--var', 'cn=Canary Root', '--dir', 'root'], env));
    ok(lab.run(['ca', 'init', '--profile', 'ec/issuing-ca', '--parent', 'root', ...tok, '--pkcs11-pin-file', pinFile, '--pkcs11-key-label', 'issuing', '--var', 'cn=Canary Issuing', '--dir', 'issuing'], env));
    ok(lab.run(['--json', 'credential', 'enroll', '--ca-dir', 'issuing', '--profile', 'ec/tls-server', '--var', 'cn=canary.example.com', '--cred-dir', 'creds', '--passphrase-env', 'CANARY_PASS', ...tok, '--pkcs11-pin-env', 'CANARY_PIN'], env));
    ok(lab.run(['credential', 'enroll', '--ca-dir', 'issuing', '--profile', 'ec/tls-server', '--var', 'cn=canary2.example.com', '--cred-dir', 'creds', '--passphrase-file', passFile, '--pkcs11-pin-file', pinFile]));
    ok(lab.run(['credential', 'enroll', '--ca-dir', 'issuing', '--profile', 'ec/tls-server', '--var', 'cn=canary3.example.com', '--cred-dir', 'creds', '--key-in-token', '--key-label', 'canary3', '--pkcs11-pin-env', 'CANARY_PIN'], env));
    // Software CA, passphrase from the environment and from a file.
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', '--passphrase-env', 'CANARY_PASS', '--var', 'cn=Canary Soft', '--dir', 'soft'], env));
    ok(lab.run(['credential', 'enroll', '--ca-dir', 'soft', '--ca-passphrase-file', passFile, '--profile', 'ec/tls-server', '--var', 'cn=soft.example.com', '--cred-dir', 'creds', '--passphrase-env', 'CANARY_PASS'], env));
    // CRLs, after a revocation.
    const serial = /^V\t\S+\t\t(\S+)/m.exec(readFileSync(lab.path('issuing', 'index.txt'), 'utf8'))![1];
    ok(lab.run(['cert', 'revoke', serial, '--reason', 'superseded', '--ca-dir', 'issuing']));
    ok(lab.run(['crl', 'gen', '--days', '2', '--ca-dir', 'issuing', ...tok, '--pkcs11-pin-env', 'CANARY_PIN'], env));
    ok(lab.run(['--json', 'crl', 'gen', '--ca-dir', 'soft', '--ca-passphrase-env', 'CANARY_PASS'], env));
    ok(lab.run(['crl', 'gen', '--ca-dir', 'root', ...tok, '--pkcs11-pin-file', pinFile]));
    // Failures too: a wrong PIN and a wrong passphrase must not echo the one that was right.
    lab.run(['crl', 'gen', '--ca-dir', 'root', ...tok, '--pkcs11-pin-env', 'WRONG'], { WRONG: 'not-the-pin-0000' });
    lab.run(['crl', 'gen', '--ca-dir', 'soft', '--ca-passphrase-env', 'WRONG'], { WRONG: 'not-the-passphrase' });
    ok(lab.run(['journal', 'show', '--ca-dir', 'issuing']));
    ok(lab.run(['--json', 'journal', 'show', '--ca-dir', 'soft']));
    ok(lab.run(['ca', 'info', '--dir', 'root']));
  });
  after(() => lab?.cleanup());

  test('the ceremony really ran (so the search below means something)', () => {
    const files = allFiles(lab.store.dir);
    assert.ok(files.some((f) => f.endsWith('journal.jsonl')));
    assert.ok(files.filter((f) => f.endsWith('cert.pem')).length >= 4);
    assert.ok(files.some((f) => f.endsWith('.crl')));
    assert.ok(transcript.length >= 14);
    // The canaries are really in the secret files, so the search can find them.
    assert.ok(readFileSync(pinFile, 'utf8').includes(PIN));
  });

  test('no file under the test directory holds either canary (token store, CA dirs, credentials, journals)', () => {
    const secretSources = new Set([pinFile, passFile]);
    const files = allFiles(lab.store.dir).filter((f) => !secretSources.has(f));
    assert.ok(files.length > 30, `searched ${files.length} files`);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const secret of [PIN, PASS]) {
        for (const form of forms(secret)) assert.equal(bytes.indexOf(form), -1, `${f} contains ${secret} (as ${form})`);
        assert.equal(bytes.indexOf(Buffer.from(secret, 'utf16le')), -1, `${f} contains ${secret} (UTF-16)`);
      }
    }
  });

  test('no captured stdout or stderr holds either canary', () => {
    for (const r of transcript) {
      for (const secret of [PIN, PASS]) for (const form of forms(secret)) {
        assert.ok(!r.stdout.includes(form), `stdout contains ${secret}:\n${r.stdout}`);
        assert.ok(!r.stderr.includes(form), `stderr contains ${secret}:\n${r.stderr}`);
      }
    }
    // The wrong-secret runs failed with their codes, naming no secret.
    const failed = transcript.filter((r) => r.code !== 0).map((r) => r.stderr.trim());
    assert.equal(failed.length, 2);
    assert.match(failed[0], /^error \[PIN_INCORRECT\]/m);
    assert.match(failed[1], /^error \[PASSPHRASE_INCORRECT\]/m);
    assert.ok(!failed.join('\n').includes('not-the-pin-0000'));
    assert.ok(!failed.join('\n').includes('not-the-passphrase'));
  });
});
