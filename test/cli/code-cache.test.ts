/**
 * The V8 code caches bin/qpki.cjs keeps: in a per-user cache folder (XDG_CACHE_HOME here), one
 * file per install, bundle build, set of Node flags (V8 rejects a cache made under other flags,
 * so a shared file was rewritten back and forth) and command (`bare` for `--version`/`--help`);
 * never inside the app's files, whose fingerprint opens every ceremony record. Runs on a private
 * copy of bin/, dist/cli.cjs and resources/ (node_modules linked), so other tests' runs do not
 * interfere.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appFingerprint } from '../../electron/core/journal/fingerprint';
import { ensureCliBuilt, QPKI, ROOT } from './helpers';

let dir: string;
/** The install part of this copy's cache names (`cli.<install>.<build>.<flags>.<command>.cache`). */
let install: string;
const dist = () => join(dir, 'dist');
const cacheHome = () => join(dir, 'cache-home');
const cacheDir = () => join(cacheHome(), 'qpki-ceremony');
const caches = () => (existsSync(cacheDir()) ? readdirSync(cacheDir()).filter((f) => /\.cache$/.test(f)).sort() : []);
const stamp = (f: string) => statSync(join(cacheDir(), f)).mtimeMs;

function spawnQpki(nodeFlags: string[], args: string[], extraEnv: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...nodeFlags, join(dir, 'bin', 'qpki.cjs'), ...args], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '', XDG_CACHE_HOME: cacheHome(), ...extraEnv },
    cwd: dir,
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
  });
}

function run(nodeFlags: string[], args: string[], extraEnv?: Record<string, string>): string {
  const r = spawnQpki(nodeFlags, args, extraEnv);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('qpki code cache', () => {
  before(async () => {
    await ensureCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'qpki-cache-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(dist());
    copyFileSync(QPKI, join(dir, 'bin', 'qpki.cjs'));
    copyFileSync(join(ROOT, 'dist', 'cli.cjs'), join(dist(), 'cli.cjs'));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    cpSync(join(ROOT, 'resources'), join(dir, 'resources'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the cache folder is made 0700 whatever the umask, and nothing is written beside the bundle', () => {
    const old = process.umask(0o000);
    try {
      run([], ['--version']);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(cacheDir()).mode & 0o777, 0o700);
    assert.equal(caches().length, 1, caches().join(', '));
    install = caches()[0].split('.')[1];
    assert.equal(statSync(join(cacheDir(), caches()[0])).mode & 0o077, 0);
    assert.deepEqual(readdirSync(dist()), ['cli.cjs']);
  });

  test('runs under other Node flags keep their own cache instead of rewriting a shared one', () => {
    const plain = caches();
    assert.equal(plain.length, 1, plain.join(', '));
    assert.match(plain[0], /\.bare\.cache$/);
    const before = stamp(plain[0]);

    run(['--single-threaded'], ['--version']);
    const both = caches();
    assert.equal(both.length, 2, both.join(', '));
    run([], ['--version']);
    run(['--single-threaded'], ['--version']);
    // Had either run rejected the other's cache, it would have written it again.
    assert.equal(stamp(plain[0]), before, 'the plain run rewrote its cache after a --single-threaded run');
    assert.deepEqual(caches(), both);
  });

  test('each command has its own cache, written after its first successful run, then left alone', () => {
    run([], ['profile', 'list']);
    run([], ['profile', 'show', 'ec/tls-server']);
    const list = caches().find((f) => f.endsWith('.profile-list.cache'));
    const show = caches().find((f) => f.endsWith('.profile-show.cache'));
    assert.ok(list && show, caches().join(', '));
    const stamps = [stamp(list), stamp(show)];
    run([], ['profile', 'list']);
    run([], ['--json', 'profile', 'show', 'ec/root-ca']);
    assert.deepEqual([stamp(list), stamp(show)], stamps, 'a command that has its cache rewrote it');

    // A refused run compiled too little of its command to cache: it leaves no cache behind.
    const r = spawnQpki([], ['journal', 'verify', '--ca-dir', join(dir, 'no-such-ca')]);
    assert.notEqual(r.status, 0);
    assert.ok(!caches().some((f) => f.endsWith('.journal-verify.cache')), caches().join(', '));
  });

  test('a cache folder another user could write gets no cache, and a link in its place is not followed', () => {
    const before = caches();
    chmodSync(cacheDir(), 0o777);
    try {
      run([], ['profile', 'show', 'ec/root-ca']);
      assert.deepEqual(caches(), before, 'a cache was written into a world-writable folder');
    } finally {
      chmodSync(cacheDir(), 0o700);
    }
    // A link in place of the folder is not followed either.
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(join(elsewhere, 'qpki-ceremony'), { recursive: true, mode: 0o700 });
    const linkHome = join(dir, 'link-home');
    mkdirSync(linkHome);
    symlinkSync(join(elsewhere, 'qpki-ceremony'), join(linkHome, 'qpki-ceremony'));
    run([], ['--version'], { XDG_CACHE_HOME: linkHome });
    assert.deepEqual(readdirSync(join(elsewhere, 'qpki-ceremony')), []);
  });

  test('two installs of one user keep apart caches in the one folder', () => {
    const other = join(dir, 'other-install');
    mkdirSync(join(other, 'bin'), { recursive: true });
    mkdirSync(join(other, 'dist'));
    copyFileSync(join(dir, 'bin', 'qpki.cjs'), join(other, 'bin', 'qpki.cjs'));
    copyFileSync(join(dist(), 'cli.cjs'), join(other, 'dist', 'cli.cjs'));
    const mine = caches();
    const r = spawnSync(process.execPath, [join(other, 'bin', 'qpki.cjs'), '--version'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '', XDG_CACHE_HOME: cacheHome() }, encoding: 'utf8', input: '' });
    assert.equal(r.status, 0, r.stderr);
    const now = caches();
    assert.equal(now.length, mine.length + 1, now.join(', '));
    for (const f of mine) assert.ok(now.includes(f), `${f} was removed by another install's run`);
  });

  test('a rebuilt bundle gets new caches, and the old ones of this install are removed', () => {
    const old = caches();
    const others = old.filter((f) => f.split('.')[1] !== install);
    assert.equal(others.length, 1, 'the other install\'s cache');
    appendFileSync(join(dist(), 'cli.cjs'), '\n// rebuilt\n');
    assert.match(run([], ['--version']), /^\d+\.\d+\.\d+/);
    const now = caches();
    assert.deepEqual(now.filter((f) => f.split('.')[1] !== install), others, 'another install\'s cache is not this build\'s to remove');
    const ours = now.filter((f) => f.split('.')[1] === install);
    assert.equal(ours.length, 1, ours.join(', '));
    assert.ok(!old.includes(ours[0]));
  });
});

describe('the app fingerprint of a ceremony does not see the caches', () => {
  before(async () => {
    await ensureCliBuilt();
    dir = mkdtempSync(join(tmpdir(), 'qpki-fp-cli-'));
    mkdirSync(join(dir, 'bin'));
    mkdirSync(dist());
    copyFileSync(QPKI, join(dir, 'bin', 'qpki.cjs'));
    copyFileSync(join(ROOT, 'dist', 'cli.cjs'), join(dist(), 'cli.cjs'));
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    cpSync(join(ROOT, 'resources'), join(dir, 'resources'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const opened = (ca: string) => {
    const first = JSON.parse(readFileSync(join(dir, ca, 'journal.jsonl'), 'utf8').split('\n')[0]);
    assert.equal(first.kind, 'ceremony.opened');
    return first.facts as { appSha256: string; appFiles: number };
  };
  const init = (ca: string) => run([], ['ca', 'init', '--profile', 'ec/root-ca', '--passphrase-env', 'CA_PASS', '--var', `cn=${ca}`, '--dir', ca], { CA_PASS: 'fingerprint-test-passphrase' });

  test('two ceremonies, the first writing the caches the second uses, record the same fingerprint: the files that run', () => {
    init('ca-1');
    assert.ok(caches().some((f) => f.endsWith('.ca-init.cache')), caches().join(', '));
    init('ca-2');
    const [a, b] = [opened('ca-1'), opened('ca-2')];
    assert.equal(a.appSha256, b.appSha256);
    const fp = appFingerprint(dir);
    assert.equal(a.appSha256, fp.sha256);
    // dist/cli.cjs, bin/qpki.cjs, package.json, resources/…, and pkcs11js: package.json, index.js, the .node.
    const profiles = readdirSync(join(dir, 'resources'), { recursive: true }).filter((f) => statSync(join(dir, 'resources', String(f))).isFile()).length;
    assert.equal(a.appFiles, 3 + profiles + 3);
  });

  test('a changed launcher is another fingerprint', () => {
    const before = opened('ca-1').appSha256;
    appendFileSync(join(dir, 'bin', 'qpki.cjs'), '\n// changed\n');
    init('ca-3');
    assert.notEqual(opened('ca-3').appSha256, before);
  });
});
