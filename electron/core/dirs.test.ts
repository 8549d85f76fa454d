import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDirs, makeParents } from './dirs';
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
