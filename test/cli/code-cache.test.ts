/**
 * The V8 code cache bin/qpki.cjs keeps beside the bundle: one file per bundle build, per set of
 * Node flags (V8 rejects a cache made under other flags, so a shared file was rewritten back and
 * forth) and per command (`bare` for `--version`/`--help`). Runs on a private copy of bin/ and dist/cli.cjs, so other tests' runs do not interfere.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt, QPKI, ROOT } from './helpers';

let dir: string;
const dist = () => join(dir, 'dist');
const caches = () => readdirSync(dist()).filter((f) => /\.cache$/.test(f)).sort();
const stamp = (f: string) => statSync(join(dist(), f)).mtimeMs;

function run(nodeFlags: string[], args: string[]): string {
  const r = spawnSync(process.execPath, [...nodeFlags, join(dir, 'bin', 'qpki.cjs'), ...args], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '', QPKI_PROFILES_DIR: join(ROOT, 'resources', 'profiles') },
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
  });
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
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('runs under other Node flags keep their own cache instead of rewriting a shared one', () => {
    run([], ['--version']);
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

    // A refused run compiled too little of its command: it leaves no cache behind.
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'qpki.cjs'), 'journal', 'verify', '--ca-dir', join(dir, 'no-such-ca')], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '' }, encoding: 'utf8', input: '' });
    assert.notEqual(r.status, 0);
    assert.ok(!caches().some((f) => f.endsWith('.journal-verify.cache')), caches().join(', '));
  });

  test('a rebuilt bundle gets new caches, and the old ones are removed', () => {
    const old = caches();
    assert.ok(old.length > 0);
    appendFileSync(join(dist(), 'cli.cjs'), '\n// rebuilt\n');
    assert.match(run([], ['--version']), /^\d+\.\d+\.\d+/);
    const now = caches();
    assert.equal(now.length, 1, now.join(', '));
    assert.ok(!old.includes(now[0]));
  });
});
