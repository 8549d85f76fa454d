import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirs, makeDirsDurable, makeParents } from './dirs';
import { makeStagingDir } from './ca/fsx';
import { Journal } from './journal/journal';

const top = mkdtempSync(join(tmpdir(), 'qpki-dirs-'));
after(() => rmSync(top, { recursive: true, force: true }));
const mode = (p: string) => statSync(p).mode & 0o777;

function underUmask<T>(mask: number, f: () => T): T {
  const old = process.umask(mask);
  try {
    return f();
  } finally {
    process.umask(old);
  }
}

for (const mask of [0o000, 0o022, 0o077]) {
  test(`umask ${mask.toString(8).padStart(3, '0')}: every directory made is 0700 exactly, parents on the way 0755 less the umask`, () => {
    const base = mkdtempSync(join(top, 'u-'));
    underUmask(mask, () => {
      assert.equal(makeDirs(join(base, 'a', 'b', 'c')), true);
      makeParents(join(base, 'p', 'q', 'ca'));
    });
    for (const d of ['a', 'a/b', 'a/b/c']) assert.equal(mode(join(base, d)), 0o700, d);
    for (const d of ['p', 'p/q']) assert.equal(mode(join(base, d)), 0o755 & ~mask, d);
  });

  test(`umask ${mask.toString(8).padStart(3, '0')}: a staging directory and a new journal directory are 0700`, () => {
    const base = mkdtempSync(join(top, 's-'));
    const stage = underUmask(mask, () => makeStagingDir(join(base, 'new', 'ca')));
    assert.equal(mode(stage), 0o700);
    assert.equal(mode(join(base, 'new')), 0o755 & ~mask);
    underUmask(mask, () => Journal.open(join(base, 'journal-dir'), { operator: 'Alice Operator', witnesses: [] }));
    assert.equal(mode(join(base, 'journal-dir')), 0o700);
  });
}

test('a directory that exists keeps its mode: it is not ours to change', () => {
  const d = join(top, 'existing');
  underUmask(0o022, () => {
    mkdirSync(d, { mode: 0o755 });
    assert.equal(makeDirs(d), false);
    assert.equal(makeDirs(join(d, 'inner')), true);
  });
  assert.equal(mode(d), 0o755);
  assert.equal(mode(join(d, 'inner')), 0o700);
});

/** The paths fsynced while `f` runs, through the descriptors node:fs opened (node:fs itself patched, as the code under test calls it). */
function flushedDuring(f: () => void): string[] {
  const fs = require('node:fs') as typeof import('node:fs');
  const open = fs.openSync;
  const fsync = fs.fsyncSync;
  const paths = new Map<number, string>();
  const flushed: string[] = [];
  const m = fs as { openSync: typeof fs.openSync; fsyncSync: typeof fs.fsyncSync };
  m.openSync = ((p: import('node:fs').PathLike, ...rest: unknown[]) => {
    const fd = (open as (...a: unknown[]) => number)(p, ...rest);
    paths.set(fd, String(p));
    return fd;
  }) as typeof fs.openSync;
  m.fsyncSync = (fd: number) => {
    flushed.push(paths.get(fd) ?? `fd ${fd}`);
    fsync(fd);
  };
  try {
    f();
  } finally {
    m.openSync = open;
    m.fsyncSync = fsync;
  }
  return flushed;
}

test('the folders a new journal needs, and those made durably, have their entries flushed: the parent of each is fsynced', () => {
  const base = mkdtempSync(join(top, 'f-'));
  const journalDir = join(base, 'p', 'q', 'journal');
  const flushed = flushedDuring(() => Journal.open(journalDir, { operator: 'Alice Operator', witnesses: [] }));
  for (const d of [base, join(base, 'p'), join(base, 'p', 'q')]) assert.ok(flushed.includes(d), `${d} is flushed: ${flushed.join(', ')}`);
  assert.ok(flushed.includes(journalDir), 'and the journal folder, for its new file');
  assert.equal(mode(journalDir), 0o700);
  assert.equal(mode(join(base, 'p')) & 0o700, 0o700, 'the parents on the way are the operator\'s (0755 less the umask)');
  // Opened again, nothing is made, so nothing is flushed for it.
  assert.deepEqual(flushedDuring(() => Journal.open(journalDir, { operator: 'Alice Operator', witnesses: [] })), []);
  assert.deepEqual(flushedDuring(() => makeDirsDurable(base)), [], 'a folder that exists: no fsync');
  const cred = join(base, 'creds', 'one');
  assert.deepEqual(flushedDuring(() => makeDirsDurable(cred)), [join(base, 'creds'), base], 'each new folder\'s parent, innermost first');
  assert.equal(mode(join(base, 'creds')), 0o700);
});
