import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { disableCoreDumps } from './coredump';

const linux = process.platform === 'linux';
if (!linux) console.log(`[coredump] Linux-only checks skipped: ${process.platform} has no /proc/<pid>/coredump_filter`);
const filterOf = (pid: number | 'self') => readFileSync(`/proc/${pid}/coredump_filter`, 'utf8').trim();

describe('core dump filter', { skip: !linux && 'Linux only' }, () => {
  test('this process, as the CLI and main.ts call it, then every child it starts afterwards', () => {
    // A fresh process has the kernel's default filter, which dumps anonymous memory.
    const before = spawnSync('cat', ['/proc/self/coredump_filter'], { encoding: 'utf8' }).stdout.trim();
    assert.notEqual(Number.parseInt(before, 16) & 0x1, 0, `the default filter ${before} already excludes anonymous memory: this test proves nothing here`);
    assert.equal(disableCoreDumps(), 'off');
    assert.equal(filterOf('self'), '00000000');
    // Inherited across fork and exec: the Chromium that prints a transcript, any tool started later.
    assert.equal(execFileSync('cat', ['/proc/self/coredump_filter'], { encoding: 'utf8' }).trim(), '00000000');
    assert.equal(execFileSync('sh', ['-c', 'cat /proc/self/coredump_filter'], { encoding: 'utf8' }).trim(), '00000000');
  });

  test('another running process by its pid, as main.ts does for Electron\'s zygote, GPU and renderer processes', async () => {
    // Started from a clean filter, like a process Electron launched before main.ts ran.
    const child = spawn('sh', ['-c', 'echo 0x33 > /proc/self/coredump_filter && echo ready && exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', () => reject(new Error('the child ended before it was ready')));
      });
      assert.equal(filterOf(child.pid!), '00000033');
      assert.equal(disableCoreDumps(child.pid!), 'off');
      assert.equal(filterOf(child.pid!), '00000000');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a pid that is no process, and junk, are reported, never thrown', () => {
    assert.equal(disableCoreDumps(0), 'refused');
    assert.equal(disableCoreDumps(-1), 'refused');
    assert.equal(disableCoreDumps(1.5), 'refused');
    assert.equal(disableCoreDumps(Number.NaN), 'refused');
    const free = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    assert.equal(disableCoreDumps(free), 'unsupported');
  });
});

test('elsewhere than Linux nothing is written and it says so', () => {
  assert.equal(disableCoreDumps('self', 'darwin'), 'unsupported');
  assert.equal(disableCoreDumps('self', 'win32'), 'unsupported');
});
