import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, truncateSync, statSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Journal, verifyJournal, readJournal, formatJournal, repairJournalTail, toFacts, journalPath, ZERO_HASH, encodeEntry } from './journal';
import { entryHash } from './chain';
import { canonicalJson } from './canonical';
import { QpkiError } from '../errors';

function tempCa(): string {
  return mkdtempSync(join(tmpdir(), 'qpki-journal-'));
}

/** A journal with five entries, as a ceremony would write them. */
function fiveEntries(dir: string): Journal {
  const j = Journal.open(dir, { operator: 'Alice Operator', witnesses: ['Bob Witness', 'Carol Witness'] });
  j.append('ceremony.opened', { appVersion: '0.1.0', appSha256: 'ab'.repeat(32) });
  j.append('module.loaded', { path: '/usr/lib/softhsm/libsofthsm2.so', sha256: 'cd'.repeat(32) });
  j.append('key.generated', { label: 'root-2025', algorithm: 'ec-p256', spkiSha256: new Uint8Array(32).fill(7) });
  j.append('certificate.signed', { serial: 0x1234567890abcdefn, subject: 'CN=Root', fingerprint: 'ef'.repeat(32) });
  j.append('ceremony.closed', {});
  return j;
}

function lines(dir: string): string[] {
  return readFileSync(journalPath(dir), 'utf8').split('\n').slice(0, -1);
}
function writeLines(dir: string, ls: string[]): void {
  writeFileSync(journalPath(dir), ls.map((l) => l + '\n').join(''));
}

describe('journal chain', () => {
  test('builds a chain that verifies, entry by entry', () => {
    const dir = tempCa();
    try {
      const j = fiveEntries(dir);
      const entries = readJournal(dir);
      assert.equal(entries.length, 5);
      assert.deepEqual(entries.map((e) => e.seq), [1, 2, 3, 4, 5]);
      assert.equal(entries[0].prev, ZERO_HASH);
      for (let i = 1; i < entries.length; i++) assert.equal(entries[i].prev, entries[i - 1].hash);
      for (const e of entries) {
        assert.match(e.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        assert.equal(e.operator, 'Alice Operator');
        assert.deepEqual(e.witnesses, ['Bob Witness', 'Carol Witness']);
        // hash = sha256(JCS(entry without hash)), computed here independently of entryHash
        const { hash, ...body } = e;
        assert.equal(hash, createHash('sha256').update(canonicalJson(body)).digest('hex'));
      }
      // bigint and bytes became JSON
      assert.equal(entries[3].facts.serial, '1311768467294899695');
      assert.equal(entries[2].facts.spkiSha256, '07'.repeat(32));
      const v = verifyJournal(dir);
      assert.deepEqual(v, { ok: true, entries: 5, lastHash: entries[4].hash });
      assert.equal(j.lastHash(), entries[4].hash);
      // each line is the canonical encoding of the entry
      for (const [i, l] of lines(dir).entries()) assert.equal(l, canonicalJson(entries[i]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a reopened journal continues the chain, and participants can change', () => {
    const dir = tempCa();
    try {
      fiveEntries(dir);
      const j2 = Journal.open(dir);
      j2.setParticipants('Dave', ['Erin']);
      const e6 = j2.append('ceremony.opened', { n: 2 });
      assert.equal(e6.seq, 6);
      assert.equal(e6.operator, 'Dave');
      assert.deepEqual(e6.witnesses, ['Erin']);
      assert.equal(e6.prev, readJournal(dir)[4].hash);
      assert.equal(verifyJournal(dir).ok, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a journal held open chains onto entries another writer appended meanwhile', () => {
    const dir = tempCa();
    try {
      const app = Journal.open(dir, { operator: 'app', witnesses: [] });
      app.append('ceremony.opened', {});
      const cli = Journal.open(dir, { operator: 'cli', witnesses: [] });
      cli.append('crl.generated', { number: 1 });
      const e = app.append('ceremony.closed', {});
      assert.equal(e.seq, 3);
      assert.equal(verifyJournal(dir).ok, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the default operator is the process user, with no witnesses', () => {
    const dir = tempCa();
    try {
      const e = Journal.open(dir).append('preflight', {});
      assert.ok(e.operator.length > 0);
      assert.deepEqual(e.witnesses, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an empty or missing journal verifies as empty; a missing CA directory does not', () => {
    const dir = tempCa();
    try {
      assert.deepEqual(verifyJournal(dir), { ok: true, entries: 0, lastHash: ZERO_HASH });
      assert.deepEqual(readJournal(dir), []);
      Journal.open(dir);
      assert.equal(statSync(journalPath(dir)).size, 0);
      assert.deepEqual(verifyJournal(dir), { ok: true, entries: 0, lastHash: ZERO_HASH });
      assert.throws(() => verifyJournal(join(dir, 'nope')), (e: unknown) => e instanceof QpkiError && e.code === 'CA_NOT_FOUND');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tampering shows, at the right entry', () => {
  function tampered(change: (ls: string[], dir: string) => void) {
    const dir = tempCa();
    try {
      fiveEntries(dir);
      const ls = lines(dir);
      change(ls, dir);
      return verifyJournal(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('editing a fact (hash left as it was)', () => {
    const v = tampered((ls, dir) => {
      ls[3] = ls[3].replace('CN=Root', 'CN=Evil');
      writeLines(dir, ls);
    });
    assert.equal(v.ok, false);
    assert.equal(v.entries, 3);
    assert.deepEqual(v.firstBroken, { seq: 4, line: 4, reason: 'content does not match its hash: the entry was edited' });
  });

  test('editing a fact and recomputing that entry\'s hash', () => {
    const v = tampered((ls, dir) => {
      const e = JSON.parse(ls[2]);
      e.facts.label = 'other';
      e.hash = entryHash(e);
      ls[2] = JSON.stringify(e);
      writeLines(dir, ls);
    });
    assert.equal(v.ok, false);
    assert.equal(v.firstBroken?.seq, 4);
    assert.match(v.firstBroken!.reason, /does not chain to entry 3/);
  });

  test('deleting a line in the middle', () => {
    const v = tampered((ls, dir) => writeLines(dir, [...ls.slice(0, 2), ...ls.slice(3)]));
    assert.equal(v.ok, false);
    assert.equal(v.entries, 2);
    assert.equal(v.firstBroken?.seq, 3);
    assert.equal(v.firstBroken?.line, 3);
    assert.match(v.firstBroken!.reason, /entry 3 is missing/);
  });

  test('deleting the first line', () => {
    const v = tampered((ls, dir) => writeLines(dir, ls.slice(1)));
    assert.equal(v.firstBroken?.seq, 1);
    assert.equal(v.firstBroken?.line, 1);
  });

  test('deleting a line and renumbering the rest', () => {
    const v = tampered((ls, dir) => {
      const kept = [...ls.slice(0, 1), ...ls.slice(2)].map((l, i) => {
        const e = JSON.parse(l);
        e.seq = i + 1;
        e.hash = entryHash(e);
        return JSON.stringify(e);
      });
      writeLines(dir, kept);
    });
    assert.equal(v.firstBroken?.seq, 2);
    assert.match(v.firstBroken!.reason, /does not chain to entry 1/);
  });

  test('swapping two lines', () => {
    const v = tampered((ls, dir) => {
      [ls[1], ls[2]] = [ls[2], ls[1]];
      writeLines(dir, ls);
    });
    assert.equal(v.ok, false);
    assert.equal(v.firstBroken?.seq, 2);
    assert.equal(v.firstBroken?.line, 2);
    assert.match(v.firstBroken!.reason, /missing|out of order/);
  });

  test('truncating the file in the middle of an entry', () => {
    const v = tampered((_ls, dir) => {
      const size = statSync(journalPath(dir)).size;
      truncateSync(journalPath(dir), size - 40);
    });
    assert.equal(v.ok, false);
    assert.equal(v.entries, 4);
    assert.deepEqual(v.firstBroken, { seq: 5, line: 5, reason: 'truncated last entry' });
  });

  test('cutting whole entries off the end shows against the hash written on paper', () => {
    const dir = tempCa();
    try {
      const paper = fiveEntries(dir).lastHash();
      assert.equal(verifyJournal(dir, { knownHash: groupedUpper(paper) }).ok, true);
      writeLines(dir, lines(dir).slice(0, 3));
      assert.equal(verifyJournal(dir).ok, true, 'a clean cut at an entry boundary is a valid shorter chain');
      const v = verifyJournal(dir, { knownHash: paper });
      assert.equal(v.ok, false);
      assert.equal(v.firstBroken?.seq, 4);
      assert.match(v.firstBroken!.reason, /not in the journal/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an earlier paper hash still matches after later entries were added', () => {
    const dir = tempCa();
    try {
      const j = fiveEntries(dir);
      const paper = j.lastHash();
      j.append('ceremony.opened', {});
      assert.equal(verifyJournal(dir, { knownHash: paper }).ok, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unparsable line', () => {
    const v = tampered((ls, dir) => {
      ls[1] = ls[1].slice(0, 20);
      writeLines(dir, ls);
    });
    assert.deepEqual(v.firstBroken, { seq: 2, line: 2, reason: 'line is not valid JSON' });
  });

  test('adding a member to an entry', () => {
    const v = tampered((ls, dir) => {
      const e = JSON.parse(ls[0]);
      e.note = 'x';
      ls[0] = JSON.stringify(e);
      writeLines(dir, ls);
    });
    assert.equal(v.firstBroken?.seq, 1);
    assert.match(v.firstBroken!.reason, /unexpected member "note"/);
  });
});

function groupedUpper(hex: string): string {
  return hex.toUpperCase().replace(/(.{4})/g, '$1 ').trim();
}

describe('a crash in the middle of an append', () => {
  function halfWritten(dir: string): void {
    fiveEntries(dir);
    // What a crash leaves: the start of entry 6, no newline.
    const j = Journal.open(dir);
    const e = j.append('error', { code: 'X' });
    const full = readFileSync(journalPath(dir), 'utf8');
    const cut = full.length - Buffer.byteLength(canonicalJson(e)) / 2 - 1;
    writeFileSync(journalPath(dir), full.slice(0, Math.floor(cut)));
  }

  test('verify reports a truncated last entry', () => {
    const dir = tempCa();
    try {
      halfWritten(dir);
      const v = verifyJournal(dir);
      assert.deepEqual(v.firstBroken, { seq: 6, line: 6, reason: 'truncated last entry' });
      assert.equal(v.entries, 5);
      assert.equal(v.lastHash, readJournalSafe(dir)[4].hash);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a complete last entry that lost only its newline still counts as cut short', () => {
    const dir = tempCa();
    try {
      fiveEntries(dir);
      const size = statSync(journalPath(dir)).size;
      truncateSync(journalPath(dir), size - 1);
      assert.deepEqual(verifyJournal(dir).firstBroken, { seq: 5, line: 5, reason: 'truncated last entry' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('appending refuses with JOURNAL_BROKEN and points to `qpki ca check`', () => {
    const dir = tempCa();
    try {
      halfWritten(dir);
      const before = readFileSync(journalPath(dir));
      assert.throws(() => Journal.open(dir), (e: unknown) => e instanceof QpkiError && e.code === 'JOURNAL_BROKEN' && /qpki ca check/.test(e.message));
      assert.throws(() => readJournal(dir), (e: unknown) => e instanceof QpkiError && e.code === 'JOURNAL_BROKEN');
      assert.deepEqual(readFileSync(journalPath(dir)), before, 'nothing was written');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a journal held open also refuses once its file was cut short', () => {
    const dir = tempCa();
    try {
      const j = fiveEntries(dir);
      truncateSync(journalPath(dir), statSync(journalPath(dir)).size - 10);
      assert.throws(() => j.append('ceremony.closed', {}), (e: unknown) => e instanceof QpkiError && e.code === 'JOURNAL_BROKEN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('repair sets the fragment aside, records the repair, and the chain verifies again', () => {
    const dir = tempCa();
    try {
      halfWritten(dir);
      const full = readFileSync(journalPath(dir));
      const fragment = full.subarray(full.lastIndexOf(0x0a) + 1);
      const r = repairJournalTail(dir, { operator: 'Alice Operator', witnesses: [] });
      assert.ok(r);
      assert.equal(r.removedBytes, fragment.length);
      assert.deepEqual(readFileSync(r.savedTo), fragment);
      assert.ok(readdirSync(dir).some((n) => n.startsWith('journal.jsonl.torn-')));
      const v = verifyJournal(dir);
      assert.equal(v.ok, true);
      assert.equal(v.entries, 6);
      const last = readJournal(dir)[5];
      assert.equal(last.kind, 'error');
      assert.equal(last.facts.event, 'journal.repaired');
      assert.equal(last.facts.removedSha256, createHash('sha256').update(fragment).digest('hex'));
      assert.equal(repairJournalTail(dir), null, 'nothing left to repair');
      Journal.open(dir).append('ceremony.closed', {});
      assert.equal(verifyJournal(dir).entries, 7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a last entry altered in place stops appends too', () => {
    const dir = tempCa();
    try {
      fiveEntries(dir);
      const ls = lines(dir);
      ls[4] = ls[4].replace('"ceremony.closed"', '"error"');
      writeLines(dir, ls);
      assert.throws(() => Journal.open(dir), (e: unknown) => e instanceof QpkiError && e.code === 'JOURNAL_BROKEN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function readJournalSafe(dir: string) {
  const text = readFileSync(journalPath(dir), 'utf8');
  return text.split('\n').slice(0, -1).map((l) => JSON.parse(l));
}

describe('facts', () => {
  test('a fact named like a PIN, passphrase, password or secret is refused, at any depth', () => {
    const dir = tempCa();
    try {
      const j = Journal.open(dir);
      for (const facts of [{ pin: '1234' }, { userPin: '1234' }, { so_pin: 5678 }, { token: { PIN: 'x' } }, { passphrase: 'p' }, { keyPassword: 'p' }, { list: [{ secret: 's' }] }, { pins: ['1'] }]) {
        assert.throws(() => j.append('login.succeeded', facts), (e: unknown) => {
          assert.ok(e instanceof QpkiError);
          assert.equal(e.code, 'INTERNAL');
          assert.doesNotMatch(e.message, /1234|5678/);
          return true;
        }, JSON.stringify(facts));
      }
      assert.equal(statSync(journalPath(dir)).size, 0, 'nothing was written');
      // The refusal names the key and where it sits.
      assert.throws(() => j.append('login.succeeded', { a: 1, token: { label: 'x', list: [{}, { soPin: 'x' }] } }), /journal fact "facts\.token\.list\[1\]\.soPin"/);
      // Facts that describe a PIN without holding it are fine.
      const e = j.append('token.initialized', { userPinInitialized: true, pinLength: 12, pinSource: 'prompt', spinner: 'x', opinion: 'y' });
      assert.equal(e.facts.pinLength, 12);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('toFacts makes plain JSON and refuses what is not', () => {
    const f = toFacts({
      big: 2n ** 70n,
      bytes: Buffer.from([0, 255]),
      ab: new Uint8Array([1, 2]).buffer,
      when: new Date('2025-01-02T03:04:05.006Z'),
      nested: { set: new Set([1, 2]), map: new Map([['a', 1n]]), gone: undefined },
      arr: [undefined, 1],
    });
    assert.deepEqual(f, {
      big: '1180591620717411303424',
      bytes: '00ff',
      ab: '0102',
      when: '2025-01-02T03:04:05.006Z',
      nested: { set: [1, 2], map: { a: '1' } },
      arr: [null, 1],
    });
    assert.throws(() => toFacts({ f: () => 1 }), /facts\.f/);
    // The refusal names where the value sits, however deep: objects, arrays, sets and maps.
    assert.throws(() => toFacts({ a: { list: [1, { f: () => 1 }] } }), /Journal fact facts\.a\.list\[1\]\.f is a function/);
    assert.throws(() => toFacts({ s: new Set([0, new Map([['k', { n: Infinity }]])]) }), /Journal fact facts\.s\[1\]\.k\.n is not a finite number/);
    assert.throws(() => toFacts({ ok: 1, deep: { x: [{}, { y: Symbol('z') }] } }), /Journal fact facts\.deep\.x\[1\]\.y is a symbol/);
    assert.throws(() => toFacts({ n: NaN }), /not a finite number/);
    class Opaque { x = 1; }
    assert.throws(() => toFacts({ o: new Opaque() }), /Opaque/);
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    assert.throws(() => toFacts(cyc), /circular/);
  });

  test('the hash does not depend on key order', () => {
    const a = { seq: 1, time: '2025-01-01T00:00:00.000Z', kind: 'preflight' as const, operator: 'o', witnesses: [], facts: { b: 1, a: { y: 2, x: [3, { q: 1, p: 2 }] } }, prev: ZERO_HASH };
    const b = { prev: ZERO_HASH, facts: { a: { x: [3, { p: 2, q: 1 }], y: 2 }, b: 1 }, witnesses: [], operator: 'o', kind: 'preflight' as const, time: '2025-01-01T00:00:00.000Z', seq: 1 };
    assert.equal(entryHash(a), entryHash(b));
    assert.notEqual(entryHash(a), entryHash({ ...b, facts: { ...b.facts, b: 2 } }));
  });

  test('an entry reformatted with other key order and spacing still verifies', () => {
    const dir = tempCa();
    try {
      fiveEntries(dir);
      const ls = lines(dir).map((l) => {
        const e = JSON.parse(l);
        const reversed = Object.fromEntries(Object.entries(e).reverse());
        return JSON.stringify(reversed, null, 0).replace(/,/g, ', ');
      });
      writeLines(dir, ls);
      // The replace also touched commas inside strings? Only if facts had any; these do not.
      assert.equal(verifyJournal(dir).ok, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('formatJournal', () => {
  test('shows each step with time, description, people, facts and the last hash', () => {
    const dir = tempCa();
    try {
      const j = fiveEntries(dir);
      j.append('certificate.signed', { subject: 'CN=x\n#7  fake line\u001b[31m' });
      const text = formatJournal(readJournal(dir));
      assert.match(text, /^Ceremony journal: 6 entries/);
      assert.match(text, /#3 {2}\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC {2}Key generated \(key\.generated\)/);
      assert.match(text, /operator: Alice Operator {3}witnesses: Bob Witness, Carol Witness/);
      assert.match(text, /Serial number: 1311768467294899695 {3}\[serial\]/);
      assert.match(text, new RegExp(`Last hash: ${j.lastHash().slice(0, 4)} ${j.lastHash().slice(4, 8)} `));
      // A hostile subject cannot fake a line or colour the terminal.
      assert.doesNotMatch(text, /\n#7 {2}fake/);
      assert.ok(!text.includes('\u001b'));
      assert.match(text, /CN=x\\u000a#7/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('journal file exists after open even before any entry', () => {
  const dir = tempCa();
  try {
    const sub = join(dir, 'new-ca');
    Journal.open(sub);
    assert.ok(existsSync(journalPath(sub)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('appending several entries as one step', () => {
  test('one refused entry (a secret-named fact) leaves none of the batch written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qpki-journal-'));
    try {
      const j = Journal.open(dir, { operator: 'Op', witnesses: [] });
      j.append('ceremony.opened', { purpose: 'batch test' });
      const before = readFileSync(journalPath(dir), 'utf8');
      assert.throws(() => j.appendAll([
        { kind: 'module.loaded', facts: { path: '/lib/x.so' } },
        { kind: 'token.initialized', facts: { label: 'T', userPin: 'never-recorded-1234' } },
      ]));
      assert.equal(readFileSync(journalPath(dir), 'utf8'), before, 'nothing of the batch was written');
      const written = j.appendAll([
        { kind: 'module.loaded', facts: { path: '/lib/x.so' } },
        { kind: 'token.initialized', facts: { label: 'T' } },
      ]);
      assert.deepEqual(written.map((e) => e.seq), [2, 3]);
      assert.equal(verifyJournal(dir).ok, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('entry encoding', () => {
  test('encodeEntry gives canonicalJson(entry) and entryHash(body), for awkward facts too', () => {
    const facts: Record<string, unknown>[] = [
      {},
      { serial: 'AB12', subject: 'CN=x, O=ACME\\, Inc.', nested: { z: 1, a: [true, null, 'é'], 'é': 2, A: 3 } },
      { text: 'line\nbreak \u2028 \u0000 "quoted" \\ emoji 😀', n: -0.5, big: 1e21, small: 1e-7 },
      { hash: 'a key that sorts between facts and kind inside facts', kind: 'x', witnesses: [] },
    ];
    for (const [i, f] of facts.entries()) {
      const body = { seq: i + 1, time: new Date(1_700_000_000_000 + i).toISOString(), kind: 'certificate.signed' as const, operator: 'Zoë', witnesses: ['W1', 'Ünal'], facts: toFacts(f), prev: i ? 'ab'.repeat(32) : ZERO_HASH };
      const { hash, line } = encodeEntry(body);
      assert.equal(hash, entryHash(body), `hash of case ${i}`);
      assert.equal(line, canonicalJson({ ...body, hash }), `line of case ${i}`);
    }
  });

  test('appendMany chains its entries in order with one write, and verifies', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-many-'));
    try {
      const j = Journal.open(dir, { operator: 'Op', witnesses: [] });
      j.append('ceremony.opened', { purpose: 'test' });
      const out = j.appendMany(Array.from({ length: 5 }, (_, k) => ({ kind: 'issuance.started' as const, facts: { serial: `S${k}` } })));
      assert.deepEqual(out.map((e) => e.seq), [2, 3, 4, 5, 6]);
      for (let k = 1; k < out.length; k++) assert.equal(out[k].prev, out[k - 1].hash);
      const v = verifyJournal(dir);
      assert.equal(v.ok, true);
      assert.equal(v.entries, 6);
      assert.equal(v.lastHash, out[4].hash);
      // A refused entry in a batch leaves nothing written.
      assert.throws(() => j.appendMany([{ kind: 'issuance.started', facts: { serial: 'ok' } }, { kind: 'issuance.started', facts: { pin: '1234' } }]));
      assert.equal(verifyJournal(dir).entries, 6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
