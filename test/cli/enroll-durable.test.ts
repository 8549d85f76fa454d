/**
 * `credential enroll` reports its files once they would survive a power cut: the files and the
 * credential directory are flushed, and so is the entry of every directory it created (the
 * credential's own and a new --cred-dir), or a flushed key could be lost with its folder. The
 * probe records what each fsync flushed, through the descriptors node:fs opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, makeLab, ok, PIN_ENV, QPKI, tokenArgs } from './helpers';

test('credential enroll and cert issue -o flush the directories they make, and their parents, before they report', async () => {
  await ensureCliBuilt();
  const lab = makeLab();
  try {
    const probe = join(lab.dir, 'fsync-probe.cjs');
    writeFileSync(probe, [
      "const fs = require('node:fs');",
      'const open = fs.openSync, fsync = fs.fsyncSync, paths = new Map(), flushed = [];',
      'fs.openSync = function (p, ...rest) { const fd = open.call(this, p, ...rest); paths.set(fd, String(p)); return fd; };',
      'fs.fsyncSync = function (fd) { flushed.push(paths.get(fd) ?? `fd ${fd}`); return fsync.call(this, fd); };',
      "process.on('exit', () => fs.writeSync(2, '@@flushed ' + JSON.stringify(flushed) + '\\n'));",
      '',
    ].join('\n'));
    ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'durable-ca', '--var', 'cn=Durable CA', '--dir', 'ca'], PIN_ENV));
    // --cred-dir names two levels that do not exist yet: both are made, and both entries flushed.
    const r = spawnSync(process.execPath, ['--require', probe, QPKI, 'credential', 'enroll', '--ca-dir', 'ca', '--cred-dir', 'out/creds', '--profile', 'ec/tls-server', '--unencrypted-key',
      '--var', 'cn=durable.example', '--pkcs11-pin-env', 'QPKI_TEST_PIN'], { env: { ...lab.env, ...PIN_ENV }, cwd: lab.dir, encoding: 'utf8', input: '', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const flushed = (JSON.parse(/@@flushed (.*)/.exec(r.stderr)![1]) as string[]).map((p) => p.replace(`${lab.dir}/`, ''));
    const [cred] = readdirSync(lab.path('out', 'creds'));
    const base = `out/creds/${cred}`;
    for (const p of ['out', 'out/creds', base]) assert.ok(flushed.includes(p === 'out' ? lab.dir : p), `${p === 'out' ? 'the working directory (holding out/)' : p} is flushed: ${flushed.join(', ')}`);
    // The new directories' entries before the files in them; each file before its name is reported.
    assert.ok(flushed.indexOf('out/creds') < flushed.findIndex((p) => p.startsWith(`${base}/`)), 'the credential directory entry is flushed before its files');
    for (const f of ['key.pem', 'cert.pem', 'chain.pem']) assert.ok(flushed.some((p) => p.startsWith(`${base}/.${f}.`)), `${f} is flushed (as its temporary file, before it is linked)`);
    // cert issue -o into folders that do not exist: the same for the folders it makes.
    ok(lab.run(['credential', 'enroll', '--ca-dir', 'ca', '--cred-dir', 'csr-key', '--profile', 'ec/tls-server', '--unencrypted-key', '--var', 'cn=csr.example', '--pkcs11-pin-env', 'QPKI_TEST_PIN'], PIN_ENV));
    const [csrCred] = readdirSync(lab.path('csr-key'));
    const pub = spawnSync('openssl', ['pkey', '-in', lab.path('csr-key', csrCred, 'key.pem'), '-pubout', '-out', lab.path('sub.pub')], { encoding: 'utf8' });
    assert.equal(pub.status, 0, pub.stderr);
    const issued = spawnSync(process.execPath, ['--require', probe, QPKI, 'cert', 'issue', '--ca-dir', 'ca', '--pubkey', 'sub.pub', '--profile', 'ec/tls-server', '--var', 'cn=pub.example', '-o', 'issued/2026/pub.crt', '--pkcs11-pin-env', 'QPKI_TEST_PIN'],
      { env: { ...lab.env, ...PIN_ENV }, cwd: lab.dir, encoding: 'utf8', input: '', timeout: 60_000 });
    assert.equal(issued.status, 0, issued.stderr);
    const flushedOut = (JSON.parse(/@@flushed (.*)/.exec(issued.stderr)![1]) as string[]).map((p) => p.replace(`${lab.dir}/`, ''));
    for (const p of [lab.dir, 'issued', 'issued/2026']) assert.ok(flushedOut.includes(p), `${p} is flushed: ${flushedOut.join(', ')}`);
  } finally {
    lab.cleanup();
  }
});
