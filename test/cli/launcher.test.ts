/**
 * How bin/qpki.cjs starts. Run as an executable (directly, or through a symlink as
 * node_modules/.bin/qpki is), its shebang must empty NODE_EXTRA_CA_CERTS: Node 20 otherwise
 * loads that CA bundle eagerly at start-up, a cost an offline tool never needs. A bundle path that
 * does not exist makes Node print "Ignoring extra certs" when it does load it, which is what we look for.
 * The shebang must also stay readable by npm's Windows shims.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt, makeLab, ok, PIN_ENV, QPKI, ROOT, tokenArgs } from './helpers';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const EXTRA = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/qpki-test-ca-bundle.pem' };
const WARNING = /Ignoring extra certs/;

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { env: EXTRA, encoding: 'utf8', input: '', timeout: 30_000 });
  if (r.error) throw r.error;
  return r;
}

describe('qpki launcher', () => {
  before(ensureCliBuilt);

  test('the probe works: node itself, given the variable, loads the bundle and warns', () => {
    // Without this, the assertions below could pass because Node stopped warning, not because of the shebang.
    const r = run(process.execPath, [QPKI, '--version']);
    assert.equal(r.status, 0);
    assert.match(r.stderr, WARNING);
  });

  test('run as an executable, the shebang keeps Node from loading NODE_EXTRA_CA_CERTS', () => {
    const r = run(QPKI, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
    assert.doesNotMatch(r.stderr, WARNING);
    assert.equal(r.stderr, '');
  });

  test('through a symlink (as node_modules/.bin/qpki), the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qpki-bin-'));
    try {
      const link = join(dir, 'qpki');
      symlinkSync(QPKI, link);
      const r = run(link, ['--version']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), VERSION);
      assert.doesNotMatch(r.stderr, WARNING);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the bundle is ASCII, so the bin decodes it with the fast Latin-1 path', () => {
    assert.ok(isAscii(readFileSync(join(ROOT, 'dist', 'cli.cjs'))), 'dist/cli.cjs has non-ASCII bytes: see asciiOnly in scripts/build-cli.mjs');
  });

  test('a command that never opens a token does not load the PKCS#11 addon; one that signs does', () => {
    // The addon (dlopen of it and the C++ runtime) costs every command that loads it milliseconds.
    const lab = makeLab();
    try {
      const probe = join(lab.dir, 'addon-probe.cjs');
      writeFileSync(probe, "process.on('exit', () => process.stderr.write(Object.keys(require.cache).some((f) => f.endsWith('pkcs11.node')) ? '@@addon loaded\\n' : '@@addon not loaded\\n'));\n");
      const viaProbe = (args: string[]) => {
        const r = spawnSync(process.execPath, ['--require', probe, QPKI, ...args], { env: { ...lab.env, ...PIN_ENV }, cwd: lab.dir, encoding: 'utf8', input: '', timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        return /@@addon (not )?loaded/.exec(r.stderr)?.[0];
      };
      ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'probe-ca', '--var', 'cn=Probe CA', '--dir', 'ca'], PIN_ENV));
      assert.equal(viaProbe(['ca', 'info', '--dir', 'ca']), '@@addon not loaded');
      assert.equal(viaProbe(['cert', 'list', '--dir', 'ca']), '@@addon not loaded');
      // The probe would see it: a command that signs with the token loads it.
      assert.equal(viaProbe(['crl', 'gen', '--dir', 'ca', '--pkcs11-pin-env', 'QPKI_TEST_PIN']), '@@addon loaded');
    } finally {
      lab.cleanup();
    }
  });

  test("npm's Windows shim (cmd-shim) reads the shebang's program as node", async (t) => {
    // npm writes qpki.cmd from the shebang; a bare `NODE_EXTRA_CA_CERTS=` made it run "NODE_EXTRA_CA_CERTS=".
    const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
    const cmdShim = join(npmRoot, 'npm', 'node_modules', 'cmd-shim');
    if (!existsSync(cmdShim)) {
      t.skip(`npm's cmd-shim is not at ${cmdShim}`);
      return;
    }
    const shim = createRequire(__filename)(cmdShim) as (from: string, to: string) => Promise<void>;
    const dir = mkdtempSync(join(tmpdir(), 'qpki-shim-'));
    try {
      await shim(QPKI, join(dir, 'qpki'));
      const cmd = readFileSync(join(dir, 'qpki.cmd'), 'utf8');
      assert.match(cmd, /SET "_prog=node"/);
      assert.doesNotMatch(cmd, /_prog=NODE_EXTRA_CA_CERTS/);
      assert.match(readFileSync(join(dir, 'qpki.ps1'), 'utf8'), /& "node\$exe"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
