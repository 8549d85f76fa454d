import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockCaDir } from './fsx';

const fsx = join(__dirname, 'fsx.ts');

function holder(dir: string, ms: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `require(${JSON.stringify(fsx)}).lockCaDir(${JSON.stringify(dir)}); console.log('held'); setTimeout(() => {}, ${ms});`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<typeof child>((resolve) => child.stdout.once('data', () => resolve(child)));
}

test('a CA directory held by a live process: others wait, then get CA_LOCKED naming the holder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-lock-'));
  const child = await holder(dir, 10_000);
  try {
    assert.equal(readFileSync(join(dir, '.lock'), 'utf8'), String(child.pid), 'the lock names its owner from the moment it exists');
    const t0 = Date.now();
    assert.throws(() => lockCaDir(dir, 300), (e: { code?: string; message?: string }) => e.code === 'CA_LOCKED' && e.message!.includes(String(child.pid)));
    assert.ok(Date.now() - t0 >= 250, 'it waited before refusing');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock whose owner died is taken over; a held lock is re-entrant and released by its last holder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-lock-'));
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(dir, '.lock'), dead);
    const a = lockCaDir(dir, 0);
    assert.equal(readFileSync(join(dir, '.lock'), 'utf8'), String(process.pid));
    const b = lockCaDir(dir, 0);
    a();
    assert.ok(existsSync(join(dir, '.lock')), 'still held by the second holder');
    b();
    assert.ok(!existsSync(join(dir, '.lock')));
    assert.deepEqual(readdirSync(dir), [], 'no side files left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('processes racing for a free directory: exactly one holds it at a time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-lock-'));
  try {
    // Each racer takes the lock, appends its pid to a log while holding it, and releases.
    const script = `const f=require(${JSON.stringify(fsx)});const fs=require('fs');for(let i=0;i<20;i++){const u=f.lockCaDir(${JSON.stringify(dir)},20000);fs.appendFileSync(${JSON.stringify(join(dir, 'log'))},'+'+process.pid+'\\n');fs.appendFileSync(${JSON.stringify(join(dir, 'log'))},'-'+process.pid+'\\n');u();}`;
    const racers = Array.from({ length: 6 }, () => spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'inherit' }));
    const codes = await Promise.all(racers.map((c) => new Promise<number | null>((r) => c.on('exit', r))));
    assert.deepEqual(codes, racers.map(() => 0), 'every racer got the lock each time it asked');
    const lines = readFileSync(join(dir, 'log'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 6 * 20 * 2);
    for (let i = 0; i < lines.length; i += 2) {
      assert.equal(lines[i][0], '+');
      assert.equal(lines[i + 1], '-' + lines[i].slice(1), `entry ${i}: another process got in while ${lines[i].slice(1)} held the lock`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
