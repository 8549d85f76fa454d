/**
 * The README's "Where things are" matches the tree: every folder it names exists, every file it
 * names is in that folder, and every folder of electron/ and every top-level source folder is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();

function layoutRows(): Array<{ folder: string; text: string }> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('## Where things are');
  assert.ok(at >= 0, 'README has a "Where things are" section');
  const block = readme.slice(at).match(/```\n([\s\S]*?)```/);
  assert.ok(block, 'the section has the tree in a code block');
  const rows: Array<{ folder: string; text: string }> = [];
  for (const line of block[1].split('\n')) {
    if (!line.trim()) continue;
    const m = line.match(/^(\S+)\s+(.*)$/);
    if (m) rows.push({ folder: m[1].replace(/\/$/, ''), text: m[2] });
    else rows[rows.length - 1].text += ` ${line.trim()}`;
  }
  return rows;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [e.name]));
}

test('every folder and file the README names is where it says', () => {
  const rows = layoutRows();
  assert.ok(rows.length >= 8, `rows: ${rows.map((r) => r.folder).join(', ')}`);
  for (const { folder, text } of rows) {
    const dir = join(ROOT, folder);
    assert.ok(existsSync(dir) && statSync(dir).isDirectory(), `${folder} is a folder`);
    const names = new Set(filesUnder(dir));
    for (const file of text.match(/(?<![*\w-])[\w-]+\.ts\b/g) ?? []) assert.ok(names.has(file), `${file} is in ${folder}/`);
    // "pkcs11/ (…)" style sub-folders named in the text exist under the row's folder.
    for (const sub of text.match(/(?<![\w/.-])[a-z0-9-]+\/(?=[\s,(])/g) ?? []) {
      assert.ok(existsSync(join(dir, sub)), `${folder}/${sub} exists`);
    }
  }
});

test('every folder of electron/ and every top-level source folder is in the README', () => {
  const named = new Set(layoutRows().map((r) => r.folder));
  for (const e of readdirSync(join(ROOT, 'electron'), { withFileTypes: true })) {
    if (e.isDirectory()) assert.ok(named.has(`electron/${e.name}`), `electron/${e.name}/ is described`);
    else assert.fail(`electron/${e.name} sits loose in electron/: every file belongs to one of its folders`);
  }
  for (const top of ['shared', 'renderer', 'test', 'e2e', 'scripts']) assert.ok(named.has(top), `${top}/ is described`);
});
