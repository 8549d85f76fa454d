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

  test('ca info, cert list and ca export read a token CA without loading node:crypto, which only signing and hashing need', () => {
    // Loading node:crypto (and node:stream, which it pulls in) costs a few milliseconds; ca info
    // loads the directory readers (core/ca/view.ts) and none of the signing code that needs it.
    const lab = makeLab();
    try {
      const probe = join(lab.dir, 'crypto-probe.cjs');
      writeFileSync(probe, [
        "const loaded = (m) => process.moduleLoadList.includes('NativeModule ' + m);",
        "process.on('exit', () => require('node:fs').writeSync(2, (loaded('crypto') ? '@@crypto loaded' : '@@crypto not loaded') + (loaded('perf_hooks') ? ' @@perf_hooks loaded' : '') + '\\n'));",
      ].join('\n'));
      const viaProbe = (args: string[]) => {
        const r = spawnSync(process.execPath, ['--require', probe, QPKI, ...args], { env: { ...lab.env, ...PIN_ENV }, cwd: lab.dir, encoding: 'utf8', input: '', timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        return { seen: /@@crypto (not )?loaded/.exec(r.stderr)?.[0], perfHooks: r.stderr.includes('@@perf_hooks loaded'), stdout: r.stdout };
      };
      // Making the CA key in the token times it without the global `performance`, whose first
      // use loads node:perf_hooks (about 0.9 ms).
      const init = viaProbe(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'view-ca', '--var', 'cn=View CA', '--dir', 'ca']);
      assert.equal(init.seen, '@@crypto loaded');
      assert.equal(init.perfHooks, false);
      const info = viaProbe(['ca', 'info', '--dir', 'ca']);
      assert.equal(info.seen, '@@crypto not loaded');
      assert.match(info.stdout, /subject: +CN=View CA/);
      assert.match(info.stdout, /key \(default\): token "[^"]+".*, label "view-ca"/);
      // cert list and ca export read the directory alone: neither the document reader nor the signing engine (which loads node:crypto) comes with them.
      const list = viaProbe(['cert', 'list', '--dir', 'ca']);
      assert.equal(list.seen, '@@crypto not loaded');
      assert.match(list.stdout, /no certificates/);
      const exported = viaProbe(['ca', 'export', '--dir', 'ca']);
      assert.equal(exported.seen, '@@crypto not loaded');
      assert.match(exported.stdout, /^-----BEGIN CERTIFICATE-----\n/);
      // The probe would see it: a command that signs loads it.
      assert.equal(viaProbe(['crl', 'gen', '--dir', 'ca', '--pkcs11-pin-env', 'QPKI_TEST_PIN']).seen, '@@crypto loaded');
    } finally {
      lab.cleanup();
    }
  });

  test('the hsm.yaml beside a CA is read, for its pin_env, only by a run that is given no PIN', () => {
    // Reading it loads the YAML parser, milliseconds a run with a PIN file or prompt never needs.
    const lab = makeLab();
    try {
      const probe = join(lab.dir, 'hsm-yaml-probe.cjs');
      writeFileSync(probe, [
        "const fs = require('node:fs');",
        'const read = fs.readFileSync;',
        'let seen = false;',
        "fs.readFileSync = function (p, ...rest) { if (String(p).endsWith('hsm.yaml')) seen = true; return read.call(this, p, ...rest); };",
        "process.on('exit', () => fs.writeSync(2, seen ? '@@hsm.yaml read\\n' : '@@hsm.yaml not read\\n'));",
        '',
      ].join('\n'));
      ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'yaml-ca', '--var', 'cn=YAML CA', '--dir', 'ca'], PIN_ENV));
      const pinEnv = /pin_env: "?([A-Z_][A-Z0-9_]*)"?/.exec(readFileSync(join(lab.dir, 'ca', 'hsm.yaml'), 'utf8'))?.[1];
      assert.ok(pinEnv, 'the hsm.yaml written for QPKI names a pin_env');
      const pinFile = join(lab.dir, 'pin.txt');
      writeFileSync(pinFile, `${PIN_ENV.QPKI_TEST_PIN}\n`, { mode: 0o600 });
      const viaProbe = (args: string[], env: Record<string, string>) => {
        const r = spawnSync(process.execPath, ['--require', probe, QPKI, ...args], { env: { ...lab.env, ...env }, cwd: lab.dir, encoding: 'utf8', input: '', timeout: 60_000 });
        assert.equal(r.status, 0, r.stderr);
        return /@@hsm\.yaml (not )?read/.exec(r.stderr)?.[0];
      };
      assert.equal(viaProbe(['crl', 'gen', '--dir', 'ca', '--pkcs11-pin-file', pinFile], {}), '@@hsm.yaml not read');
      // No PIN named: the variable the hsm.yaml names holds it, as QPKI reads it (and the run signs).
      assert.equal(viaProbe(['crl', 'gen', '--dir', 'ca'], { [pinEnv!]: PIN_ENV.QPKI_TEST_PIN }), '@@hsm.yaml read');
    } finally {
      lab.cleanup();
    }
  });

  test('the command writes to descriptors 1 and 2 itself: no run builds process.stdout or process.stderr', () => {
    // Building either stream loads Node's stream, net and tty modules (electron/cli/output.ts).
    const lab = makeLab();
    try {
      const probe = join(lab.dir, 'stream-probe.cjs');
      writeFileSync(probe, [
        "const { writeSync } = require('node:fs');",
        'const built = new Set();',
        "for (const name of ['stdout', 'stderr']) {",
        '  const d = Object.getOwnPropertyDescriptor(process, name);',
        '  Object.defineProperty(process, name, { configurable: true, enumerable: true, get() { built.add(name); return d.get.call(process); } });',
        '}',
        "process.on('exit', () => writeSync(2, `@@built ${[...built].join(',') || 'none'}\\n`));",
        '',
      ].join('\n'));
      const viaProbe = (args: string[], status = 0) => {
        const r = spawnSync(process.execPath, ['--require', probe, ...args], { env: { ...lab.env, ...PIN_ENV }, cwd: lab.dir, encoding: 'utf8', input: '', timeout: 60_000 });
        assert.equal(r.status, status, r.stderr);
        return { built: /@@built (\S+)/.exec(r.stderr)?.[1], stdout: r.stdout, stderr: r.stderr.replace(/@@built \S+\n/, '') };
      };
      // The probe would see it: code that uses process.stdout builds it.
      assert.equal(viaProbe(['-e', "process.stdout.write('')"]).built, 'stdout');
      ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'probe-ca', '--var', 'cn=Probe CA', '--dir', 'ca'], PIN_ENV));
      const info = viaProbe([QPKI, 'ca', 'info', '--dir', 'ca']);
      assert.equal(info.built, 'none');
      assert.match(info.stdout, /^CA .*\n {2}subject: {3}CN=Probe CA\n/);
      const issued = viaProbe([QPKI, 'credential', 'enroll', '--ca-dir', 'ca', '--cred-dir', 'creds', '--profile', 'ec/tls-server', '--var', 'cn=probe.example', '--var', 'dns_names=probe.example', '--pkcs11-pin-env', 'QPKI_TEST_PIN']);
      assert.equal(issued.built, 'none');
      assert.match(issued.stdout, /probe\.example/);
      // A refusal: the error line reaches stderr, and still no stream.
      const refused = viaProbe([QPKI, 'ca', 'info', '--dir', 'no-such-ca'], 1);
      assert.equal(refused.built, 'none');
      assert.match(refused.stderr, /^error \[CA_NOT_FOUND\]: /);
      const usage = viaProbe([QPKI, 'no-such-command'], 2);
      assert.equal(usage.built, 'none');
      assert.match(usage.stderr, /^error \[INPUT_INVALID\]: unknown command/);
      assert.equal(viaProbe([QPKI, '--help']).built, 'none');
    } finally {
      lab.cleanup();
    }
  });

  test('output to a non-blocking pipe that is full still arrives whole and in order', () => {
    // A parent may hand qpki a non-blocking pipe; a direct write there fails with EAGAIN once the
    // pipe is full, and the rest must go through Node's stream, which exit waits for.
    const lab = makeLab();
    try {
      ok(lab.run(['ca', 'init', '--profile', 'ec/root-ca', ...tokenArgs(), '--pkcs11-key-label', 'pipe-ca', '--var', 'cn=Pipe CA', '--dir', 'ca'], PIN_ENV));
      const args = [QPKI, '--json', 'journal', 'show', '--ca-dir', 'ca'];
      const expected = ok(lab.run(args.slice(1)));
      const page = 4096;
      assert.ok(expected.length > page, `the output (${expected.length} bytes) must overfill the ${page}-byte pipe`);
      // Python makes the pipe (one page, non-blocking write end), starts qpki on it, reads late.
      const r = spawnSync('python3', ['-c', [
        'import fcntl, os, subprocess, sys, time',
        'r, w = os.pipe()',
        `fcntl.fcntl(w, 1031, ${page})`,
        'fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)',
        'p = subprocess.Popen(sys.argv[1:], stdout=w)',
        'os.close(w)',
        'time.sleep(1.0)',
        'out = bytearray()',
        'while True:',
        '    b = os.read(r, 65536)',
        '    if not b: break',
        '    out += b',
        'sys.stdout.buffer.write(out)',
        'sys.exit(p.wait())',
      ].join('\n'), process.execPath, ...args], { env: lab.env, cwd: lab.dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, expected);
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
