/**
 * What a real `qpki ca init` and `credential enroll` (software keys) leave on disk, under a
 * permissive and a strict umask: the child inherits the umask set here around its start.
 * Directories of a CA or a credential are 0700, key files 0600, nothing is writable by others;
 * parents made on the way are 0755 less the umask.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCliBuilt, makeLab, ok, type Lab } from './helpers';

const PASS = 'modes-test-passphrase-31';
const mode = (p: string) => statSync(p).mode & 0o777;

/** Every directory and file under `dir`, with its mode. */
function modes(dir: string): Array<{ path: string; dir: boolean; mode: number }> {
  const out: Array<{ path: string; dir: boolean; mode: number }> = [{ path: dir, dir: true, mode: mode(dir) }];
  for (const name of readdirSync(dir, { recursive: true })) {
    const p = join(dir, String(name));
    const st = statSync(p);
    out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
  }
  return out;
}

function withUmask<T>(mask: number, f: () => T): T {
  const old = process.umask(mask);
  try {
    return f();
  } finally {
    process.umask(old);
  }
}

const labs: Lab[] = [];
after(() => labs.forEach((l) => l.cleanup()));

for (const mask of [0o000, 0o077]) {
  describe(`under umask ${mask.toString(8).padStart(3, '0')}`, () => {
    test('ca init: the CA directory and every folder in it 0700, the key file 0600, the new parents 0755 less the umask', async () => {
      await ensureCliBuilt();
      const lab = makeLab();
      labs.push(lab);
      withUmask(mask, () => ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', '--passphrase-env', 'CA_PASS', '--var', 'cn=Modes Root', '--dir', 'new/parent/ca'], { CA_PASS: PASS })));
      const ca = lab.path('new', 'parent', 'ca');
      const all = modes(ca);
      const dirs = all.filter((e) => e.dir);
      assert.ok(dirs.length >= 6, dirs.map((d) => d.path).join('\n'));
      for (const d of dirs) assert.equal(d.mode, 0o700, `${d.path} is ${d.mode.toString(8)}`);
      const keys = all.filter((e) => !e.dir && e.path.includes(`${join('keys')}/`));
      assert.ok(keys.length >= 1, 'no key file');
      for (const k of keys) assert.equal(k.mode, 0o600, k.path);
      for (const f of all) assert.equal(f.mode & 0o022, 0, `${f.path} is writable by others (${f.mode.toString(8)})`);
      for (const p of ['new', 'new/parent']) assert.equal(mode(lab.path(p)), 0o755 & ~mask, p);
      // Nothing is left of the staging directory.
      assert.deepEqual(readdirSync(lab.path('new', 'parent')), ['ca']);

      withUmask(mask, () => ok(lab.run(['credential', 'enroll', '--ca-dir', ca, '--ca-passphrase-env', 'CA_PASS', '--passphrase-env', 'CA_PASS', '--profile', 'ec/tls-server', '--var', 'cn=modes.example.com', '--cred-dir', 'creds/new'], { CA_PASS: PASS })));
      const creds = modes(lab.path('creds'));
      for (const d of creds.filter((e) => e.dir)) assert.equal(d.mode, 0o700, d.path);
      const credKeys = creds.filter((e) => !e.dir && e.path.endsWith('key.pem'));
      assert.equal(credKeys.length, 1, creds.map((e) => e.path).join('\n'));
      assert.equal(credKeys[0].mode, 0o600);
      for (const f of creds) assert.equal(f.mode & 0o022, 0, f.path);
      // The CA's new certificate files, written into certs/, did not widen anything.
      for (const d of modes(ca).filter((e) => e.dir)) assert.equal(d.mode, 0o700, d.path);
    });
  });
}
