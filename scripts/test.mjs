#!/usr/bin/env node
// Runs every unit and integration test (node's test runner, TypeScript through tsx).
// Each test file runs in its own process, which gives each its own PKCS#11 module state.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['electron', 'shared', 'renderer', 'test', 'scripts'];
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.test\.tsx?$/.test(name)) files.push(p);
  }
}
const only = process.argv.slice(2);
if (only.length) files.push(...only);
else roots.forEach(walk);
files.sort();
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
