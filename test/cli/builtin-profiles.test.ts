/**
 * The command line carries the built-in profiles compiled when it was built (scripts/build-cli.mjs),
 * to skip YAML parsing and schema checks at run time. What it uses must be exactly what compiling
 * the file gives, and only for the very text it was compiled from: an edited built-in is read,
 * checked and compiled from the file as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorLine, ensureCliBuilt, ok, qpki, ROOT } from './helpers';
import { listProfiles, loadProfile } from '../../electron/core/profiles/index';

const SOURCE_DIR = join(ROOT, 'resources', 'profiles');
const bundle = () => readFileSync(join(ROOT, 'dist', 'cli.cjs'), 'utf8');

describe('built-in profiles compiled into the command line', () => {
  let copy: string;
  before(async () => {
    await ensureCliBuilt();
    copy = mkdtempSync(join(tmpdir(), 'qpki-profiles-'));
    cpSync(SOURCE_DIR, copy, { recursive: true });
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  test('the bundle carries every built-in profile', () => {
    const text = bundle();
    const names = listProfiles().map((p) => p.name);
    assert.ok(names.length >= 10, `only ${names.length} built-in profiles found`);
    for (const n of names) assert.ok(text.includes(`"${n}":{sha256:"`), `${n} is not compiled into dist/cli.cjs`);
  });

  test('each one the command line gives is the profile compiled from the file', () => {
    process.env.QPKI_PROFILES_DIR = SOURCE_DIR;
    const env = { ...process.env, QPKI_PROFILES_DIR: SOURCE_DIR };
    for (const { name } of listProfiles()) {
      const fromCli = JSON.parse(ok(qpki(['--json', 'profile', 'show', name], { env })));
      assert.deepEqual(fromCli, JSON.parse(JSON.stringify(loadProfile(name))), name);
    }
  });

  test('an edited built-in is compiled from its file: the edit shows, and a broken edit is refused', () => {
    const file = join(copy, 'ec', 'tls-server.yaml');
    const original = readFileSync(file, 'utf8');
    const env = { ...process.env, QPKI_PROFILES_DIR: copy };
    try {
      writeFileSync(file, original.replace(/^description: .*$/m, 'description: "Edited after the build"'));
      const shown = JSON.parse(ok(qpki(['--json', 'profile', 'show', 'ec/tls-server'], { env })));
      assert.equal(shown.description, 'Edited after the build');

      writeFileSync(file, original + '\nunknown_top_level_key: 1\n');
      const r = qpki(['profile', 'show', 'ec/tls-server'], { env });
      assert.equal(r.code, 1);
      assert.equal(errorLine(r).code, 'PROFILE_INVALID');
    } finally {
      writeFileSync(file, original);
    }
  });
});
