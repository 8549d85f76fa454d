/** The README maps every journal kind to the BR 5.4.1 event it records: a new kind without a line there fails here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JOURNAL_KINDS } from '../electron/core/journal/chain';

test('every journal kind has its BR 5.4.1 line in the README', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const start = readme.indexOf("## What the journal records, in BR 5.4.1's terms");
  assert.ok(start >= 0, 'the README has the section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 3));
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  for (const kind of JOURNAL_KINDS) {
    const row = rows.find((l) => l.split('|')[1].includes(`\`${kind}\``));
    assert.ok(row, `${kind} is not in the README's BR 5.4.1 table`);
    assert.match(row!.split('|')[2], /(security events|lifecycle)/, `${kind}: the BR 5.4.1 category is named`);
  }
});
