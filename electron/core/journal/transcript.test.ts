import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, readJournal, journalPath } from './journal';
import { renderTranscriptHtml, transcriptPdf, chromiumAvailable, isFingerprintKey, ceremoniesOf, selectCeremony, eventTime } from './transcript';
import { formatJournal, groupHex, readableFacts } from './format';
import { QpkiError } from '../errors';

const HOSTILE = `CN=<script>alert(1)</script>"><img src=x onerror=alert(2)>&amp;'`;

/** A small ceremony, as the app records it; returns the CA directory. */
function sampleCeremony(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-transcript-ca-'));
  const j = Journal.open(dir, { operator: 'Alice Operator', witnesses: ['Bob Witness', 'Carol <Auditor>'] });
  j.append('ceremony.opened', { appVersion: '0.1.0', appSha256: '3f'.repeat(32) });
  j.append('preflight', { networkInterfacesUp: [], freeDiskBytes: 52_000_000_000, clock: '2025-06-01T09:00:00.000Z' });
  j.append('module.loaded', { path: '/usr/lib/softhsm/libsofthsm2.so', sha256: '9a'.repeat(32) });
  j.append('token.chosen', { label: 'root-ca-2025', serial: '5b3c0e1a9f7d2c44', model: 'SoftHSM v2' });
  j.append('login.succeeded', { user: 'CKU_USER' });
  j.append('key.generated', { label: 'root-key', algorithm: 'ec-p384', spkiSha256: 'c0ffee'.repeat(10) + 'beef', extractable: false, sensitive: true });
  j.append('certificate.signed', { subject: HOSTILE, serial: 0x7f3a19n, notAfter: '2045-06-01T00:00:00Z', fingerprint: 'AB:CD:'.repeat(15) + 'EF:01' });
  j.append('crl.generated', { number: 1n, nextUpdate: '2026-06-01T00:00:00Z', sha256: '42'.repeat(32) });
  j.append('ceremony.closed', { certificates: 1 });
  return dir;
}

describe('transcript HTML', () => {
  test('is self-contained, escapes hostile text, and carries every fingerprint and the final hash with QR codes', async () => {
    const dir = sampleCeremony();
    try {
      const entries = readJournal(dir);
      const html = await renderTranscriptHtml(entries, { caDir: dir + '/<b>x</b>', title: 'Root <CA> ceremony' });
      // No injection: the hostile subject and names appear only escaped.
      assert.ok(!html.includes('<script>'));
      assert.ok(!html.includes('<img'));
      assert.ok(!html.includes('<b>x</b>'));
      assert.ok(!html.includes('Carol <Auditor>'));
      assert.ok(html.includes('CN=&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;amp;&#39;'));
      assert.ok(html.includes('<title>Root &lt;CA&gt; ceremony</title>'));
      // Self-contained: no external resources, scripts forbidden.
      assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:|\/\/|file:)/i);
      assert.doesNotMatch(html, /<script|<link|@import|url\(/i);
      assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
      // Every fingerprint (5: appSha256, sha256 ×2, spkiSha256, fingerprint) plus the final hash has a QR SVG.
      assert.equal((html.match(/<svg /g) ?? []).length, 6);
      for (const fp of ['3f'.repeat(32), '9a'.repeat(32), 'c0ffee'.repeat(10) + 'beef', 'abcd'.repeat(15) + 'ef01', '42'.repeat(32)]) {
        assert.ok(html.includes(groupHex(fp)), fp);
      }
      const last = entries[entries.length - 1].hash;
      assert.ok(html.includes(`${groupHex(last.slice(0, 32))}<br>${groupHex(last.slice(32))}`), 'final hash in two lines of 8 groups');
      for (const fp of ['3f'.repeat(32), '42'.repeat(32)]) assert.ok(html.includes(`${groupHex(fp.slice(0, 32))}<br>${groupHex(fp.slice(32))}`));
      assert.match(html, /Hash chain checked over the whole journal: 9 entries/);
      // Signature lines for the operator and each witness.
      assert.equal((html.match(/class="sign"/g) ?? []).length, 3);
      assert.ok(html.includes('Carol &lt;Auditor&gt;'));
      assert.match(html, /size: A4/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the QR code encodes the hex it is printed beside', async () => {
    // Decode-free check: the SVG for a value equals the qrcode package's SVG for that exact text.
    const QRCode = (await import('qrcode')).default;
    const dir = sampleCeremony();
    try {
      const entries = readJournal(dir);
      const html = await renderTranscriptHtml(entries, { caDir: dir });
      const svg = await QRCode.toString(entries[entries.length - 1].hash, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
      assert.ok(html.includes(svg));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a broken chain is announced on the transcript', async () => {
    const dir = sampleCeremony();
    try {
      const entries = readJournal(dir);
      entries.splice(3, 1);
      const html = await renderTranscriptHtml(entries, { caDir: dir });
      assert.match(html, /Hash chain BROKEN at entry 4/);
      assert.doesNotMatch(html, /Hash chain checked/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fingerprint keys', () => {
    for (const k of ['fingerprint', 'certFingerprint', 'spkiSha256', 'a.b.SHA256', 'list[2].sha256']) assert.ok(isFingerprintKey(k), k);
    for (const k of ['sha256Algorithm', 'fingerprints', 'label']) assert.ok(!isFingerprintKey(k), k);
  });
});

describe('transcript PDF', () => {
  test('headless Chromium prints an A4 PDF, and will not overwrite one', async (t) => {
    if (!chromiumAvailable()) {
      console.log('SKIP: /usr/bin/chromium is not installed, so the PDF cannot be printed here');
      t.skip('chromium not installed');
      return;
    }
    const dir = sampleCeremony();
    try {
      const html = await renderTranscriptHtml(readJournal(dir), { caDir: dir });
      const out = join(dir, 'transcript.pdf');
      const t0 = performance.now();
      await transcriptPdf(html, out);
      const ms = performance.now() - t0;
      const pdf = readFileSync(out);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      // A4 is 595 × 842 points.
      assert.match(pdf.toString('latin1'), /MediaBox\s*\[\s*0 0 59[45](\.\d+)? 84[12](\.\d+)?\s*\]/);
      console.log(`transcript PDF: ${pdf.length} bytes in ${ms.toFixed(0)} ms`);
      await assert.rejects(transcriptPdf(html, out), (e: unknown) => e instanceof QpkiError && e.code === 'OUTPUT_EXISTS');
      // Nothing of the journal changed by printing.
      assert.ok(readFileSync(journalPath(dir), 'utf8').endsWith('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('Chromium runs with a minimal environment: no PIN variable, no token configuration, a private HOME', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qpki-envcanary-'));
    const canary = 'CANARY-PIN-5e1d0b7c';
    const saved = { ...process.env };
    try {
      // Stands in for Chromium: writes the environment it was given into the PDF it is asked for.
      const fake = join(dir, 'fake-chromium');
      writeFileSync(fake, '#!/bin/sh\nfor a in "$@"; do case "$a" in --print-to-pdf=*) out="${a#--print-to-pdf=}";; esac; done\n{ printf \'%%PDF-\\n\'; env; } > "$out"\n', { mode: 0o755 });
      Object.assign(process.env, { QPKI_PIN: canary, QPKI_TEST_PIN: canary, SOFTHSM2_CONF: join(dir, 'softhsm2.conf'), MY_PASSPHRASE: canary });
      const out = join(dir, 'env.pdf');
      await transcriptPdf('<p>x</p>', out, { chromium: fake });
      const env = readFileSync(out, 'utf8');
      assert.equal(env.includes(canary), false, 'a secret reached the child');
      assert.doesNotMatch(env, /^(QPKI_|SOFTHSM2_CONF=)/m);
      assert.match(env, /^PATH=/m);
      const home = /^HOME=(.*)$/m.exec(env)?.[1];
      assert.ok(home && home.includes('qpki-transcript-'), `HOME=${home}`);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing Chromium is a clear IO_ERROR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qpki-nochrome-'));
    try {
      await assert.rejects(transcriptPdf('<p>x</p>', join(dir, 'x.pdf'), { chromium: join(dir, 'no-chromium') }), (e: unknown) => e instanceof QpkiError && e.code === 'IO_ERROR' && /apt-get install chromium/.test(e.message));
      writeFileSync(join(dir, 'exists.pdf'), 'x');
      await assert.rejects(transcriptPdf('<p>x</p>', join(dir, 'exists.pdf')), (e: unknown) => e instanceof QpkiError && e.code === 'OUTPUT_EXISTS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A CA journal of three ceremonies (root, CRL, CRL), each with its own people. */
function threeCeremonies(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qpki-transcript-three-'));
  const root = Journal.open(dir, { operator: 'Alice Operator', witnesses: ['Bob Witness'] });
  root.append('ceremony.opened', { purpose: 'root' });
  root.append('key.generated', { label: 'root-key', observedAt: '2025-06-01T09:00:00.000Z' });
  root.append('ceremony.closed', { reason: 'done' });
  const crl1 = Journal.open(dir, { operator: 'Dave Operator', witnesses: ['Erin Witness', 'Frank Witness'] });
  crl1.append('ceremony.opened', { purpose: 'crl 1' });
  crl1.append('plan.loaded', { planSha256: 'AB'.repeat(32), ceremonyId: 'crl-2026', purpose: 'crl 1', location: 'vault', steps: 2, participants: [{ name: 'Dave Operator', role: 'operator' }, { name: 'Erin Witness', role: 'witness' }, { name: 'Frank Witness', role: 'auditor' }] });
  crl1.append('ceremony.deviation', { step: 2, kind: 'retry', note: 'token <re>inserted' });
  crl1.append('witness.acknowledged', { witness: 'Erin Witness', what: 'clock', referenceTime: '2026-01-05T10:00:00.000Z' });
  crl1.append('crl.generated', { number: 2 });
  crl1.append('ceremony.closed', { reason: 'done' });
  const crl2 = Journal.open(dir, { operator: 'Gina Operator', witnesses: ['Hank Witness'] });
  crl2.append('ceremony.opened', { purpose: 'crl 2' });
  crl2.append('crl.generated', { number: 3 });
  crl2.append('ceremony.closed', { reason: 'done' });
  return dir;
}

describe('transcript of one ceremony', () => {
  test('the latest ceremony by default: only its people, no deviations, the whole chain verified', async () => {
    const dir = threeCeremonies();
    try {
      const journal = readJournal(dir);
      assert.deepEqual(ceremoniesOf(journal).map((c) => [c.openedSeq, c.closedSeq]), [[1, 3], [4, 9], [10, 12]]);
      const html = await renderTranscriptHtml(journal, { caDir: dir });
      assert.ok(html.includes('Gina Operator') && html.includes('Hank Witness'));
      for (const absent of ['Alice Operator', 'Bob Witness', 'Dave Operator', 'Erin Witness']) assert.ok(!html.includes(absent), absent);
      assert.match(html, /whole journal: 12 entries/);
      assert.match(html, /This ceremony is entries 10 to 12\./);
      assert.match(html, /No deviations recorded\./);
      assert.equal((html.match(/class="sign"/g) ?? []).length, 2);
      const last = journal[11].hash;
      assert.ok(html.includes(groupHex(last.slice(0, 32))));
      assert.match(html, /SHA-256 of entry 12 /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a ceremony picked by its opening seq: plan hash, deviations, acknowledgements, roles from the plan', async () => {
    const dir = threeCeremonies();
    try {
      const journal = readJournal(dir);
      const html = await renderTranscriptHtml(journal, { caDir: dir, ceremony: 4 });
      assert.ok(!html.includes('Gina Operator') && !html.includes('Alice Operator'));
      assert.ok(html.includes(groupHex('ab'.repeat(32))), 'plan SHA-256');
      assert.match(html, /<h2>Deviations<\/h2>\n<table/);
      assert.ok(html.includes('token &lt;re&gt;inserted'));
      assert.doesNotMatch(html, /No deviations recorded/);
      assert.match(html, /Witness acknowledgements/);
      assert.match(html, /the clock against reference time 2026-01-05 10:00:00.000 UTC/);
      assert.match(html, /class="sign-role">Auditor</);
      assert.equal((html.match(/class="sign"/g) ?? []).length, 3);
      assert.match(html, /SHA-256 of entry 9 /);
      assert.ok(html.includes(groupHex(journal[8].hash.slice(0, 32))));
      assert.throws(() => selectCeremony(journal, 5), (e: unknown) => e instanceof QpkiError && e.code === 'INPUT_INVALID' && /1, 4, 10/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a held event shows the time it happened, and the chain is checked over the whole file', async () => {
    const dir = threeCeremonies();
    try {
      const journal = readJournal(dir);
      const html = await renderTranscriptHtml(journal, { caDir: dir, ceremony: 1 });
      assert.equal(eventTime(journal[1]), '2025-06-01T09:00:00.000Z');
      assert.match(html, /<td class="time">2025-06-01 09:00:00.000 UTC<div class="muted">written /);
      assert.ok(!html.includes('observedAt'));
      // A change in a later ceremony still breaks the transcript of an earlier one.
      const tampered = journal.map((e) => ({ ...e, facts: { ...e.facts } }));
      tampered[10].facts.number = 99;
      assert.match(await renderTranscriptHtml(tampered, { caDir: dir, ceremony: 1 }), /Hash chain BROKEN at entry 11/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('facts in plain words', () => {
  test('known facts get words, times read as UTC, interfaces as name (address); unknown facts keep their name', () => {
    const rows = readableFacts({
      networkInterfacesUp: [{ name: 'eth0', addresses: ['10.0.0.2'] }, { name: 'wlan0', addresses: [] }],
      clock: { iso: '2025-06-01T09:00:00.000Z', tz: 'UTC', epochMs: Date.parse('2025-06-01T09:00:00.000Z') },
      freeDiskBytes: 52_000_000_000,
      librarySha256: 'AB:CD:EF:01',
      somethingNew: 'kept',
    });
    const byWords = new Map(rows.map(([w, t]) => [w, t]));
    assert.equal(byWords.get('Network interfaces up'), 'eth0 (10.0.0.2), wlan0');
    assert.equal(byWords.get('Clock (UTC)'), '2025-06-01 09:00:00.000 UTC');
    assert.equal(rows.filter(([w]) => w === 'Clock (UTC)').length, 1, 'one clock row');
    assert.equal(byWords.get('Free disk space'), '52.0 GB');
    assert.equal(byWords.get('Library SHA-256'), 'abcd ef01');
    assert.equal(byWords.get('somethingNew'), 'kept');
    assert.equal(readableFacts({ clock: { epochMs: 0 } })[0][1], '1970-01-01 00:00:00.000 UTC');
    // A plan's token roles, as the backup-token steps record them.
    assert.deepEqual(readableFacts({ tokenSerial: '0a1b', tokenLabel: 'Spare' }).map(([w, t]) => [w, t]), [['Token serial number', '0a1b'], ['Token label', 'Spare']]);
    assert.equal(readableFacts({ tokenRole: 'backup' })[0][0], 'Token role in the plan');
    assert.equal(readableFacts({ tokenSerial: '0a1b' })[0][0], 'Token serial number');
    assert.equal(readableFacts({ role: 'ca' })[0][0], 'Token role in the plan');
    // A witness's acknowledgement and a chosen token's slot read in words too.
    assert.deepEqual(readableFacts({ what: 'clock', status: 'done', slotId: 2 }).map(([w, t]) => [w, t]), [['Acknowledged', 'clock'], ['Status', 'done'], ['Slot id', '2']]);
  });

  test('a plan step in words: one "Step n of N (id): what" line, the files it made on one line, each file\'s SHA-256 named after it', () => {
    // The facts as run.ts writes them for a root step.
    const sha = 'AB'.repeat(32);
    const started = readableFacts({ step: 3, of: 6, id: 'root-ca', type: 'root', what: 'self-signed root CA CN=Lab Root with key root-key, profile ec/root-ca, into root-ca/' });
    assert.deepEqual(started, [['Plan step', 'Step 3 of 6 (root-ca): self-signed root CA CN=Lab Root with key root-key, profile ec/root-ca, into root-ca/', 'step']], 'step, of, id, type and what are one line, not five raw rows');
    const completed = readableFacts({ step: 3, of: 6, id: 'root-ca', type: 'root', made: [{ kind: 'ca-directory', path: 'root-ca' }, { kind: 'certificate', path: 'root-ca/ca.crt', sha256: sha }], serial: '1f2e' });
    assert.deepEqual(completed, [
      ['Plan step', 'Step 3 of 6 (root-ca, root CA)', 'step'],
      ['Made', 'CA directory root-ca/, certificate root-ca/ca.crt', 'made'],
      ['SHA-256 of root-ca/ca.crt', groupHex(sha.toLowerCase()), 'made[1].sha256'],
      ['Serial number', '1f2e', 'serial'],
    ]);
    assert.ok(isFingerprintKey(completed[2][2]), 'the file\'s hash is still shown as a fingerprint');
    const key = readableFacts({ step: 2, of: 6, id: 'root-key', type: 'key', made: [] });
    assert.deepEqual(key.map(([w, t]) => [w, t]), [['Plan step', 'Step 2 of 6 (root-key, key generation)'], ['Made', 'no file (what this step makes stays in the token)']]);
    // The app's completed step names the key it made, not files.
    const app = new Map(readableFacts({ keyLabel: 'root-key', keyId: 'a1b2', step: 2, of: 6, id: 'root-key', type: 'key' }).map(([w, t]) => [w, t]));
    assert.equal(app.get('Plan step'), 'Step 2 of 6 (root-key, key generation)');
    assert.equal(app.get('Key label'), 'root-key');
    assert.equal(app.get('Key id (CKA_ID)'), 'a1b2');
  });

  test('step facts of other kinds: an acknowledgement keeps its own "what", a deviation and a failed step get the step line, a stranger "made" stays raw', () => {
    const ack = readableFacts({ what: 'step', witness: 'Bruno Keller', step: 4, of: 6, id: 'crl', status: 'done' });
    assert.deepEqual(ack.map(([w, t]) => [w, t]), [['Plan step', 'Step 4 of 6 (crl)'], ['Acknowledged', 'step'], ['Witness', 'Bruno Keller'], ['Status', 'done']]);
    const failed = readableFacts({ step: 5, of: 6, id: 'sub', code: 'PIN_INCORRECT', message: 'The PIN is incorrect.' });
    assert.equal(failed[0][1], 'Step 5 of 6 (sub)');
    assert.ok(failed.some(([w, t]) => w === 'code' && t === 'PIN_INCORRECT'), 'the other facts are still shown');
    // No step number: not a step's facts, shown as they are.
    assert.deepEqual(readableFacts({ id: 'x', type: 'root' }).map(([w]) => w), ['id', 'type']);
    assert.deepEqual(readableFacts({ made: ['a file'] }), [['made', 'a file', 'made']]);
    // The close of a plan's ceremony (run.ts): steps completed out of the plan's, on one row.
    const closed = readableFacts({ ceremonyId: 'EX-1', outcome: 'stopped at step 4 of 6', stepsCompleted: 3, of: 6 });
    assert.deepEqual(closed.map(([w, t]) => [w, t]), [['Steps completed', '3 of 6'], ['Ceremony id', 'EX-1'], ['Outcome', 'stopped at step 4 of 6']]);
  });

  test('journal show writes every hash in the same groups of 4 as the transcript, and the facts in its words', () => {
    const dir = threeCeremonies();
    try {
      const journal = readJournal(dir);
      const text = formatJournal(journal);
      assert.ok(text.includes(`hash: ${groupHex(journal[0].hash)}\n`));
      assert.ok(text.includes(`Plan SHA-256: ${groupHex('ab'.repeat(32))}   [planSha256]\n`), text);
      // A plan's facts read as the transcript reads them, not as raw field names.
      const step = formatJournal([{ ...journal[0], kind: 'plan.step.completed', facts: { step: 3, of: 6, id: 'root', type: 'root', made: [{ kind: 'certificate', path: 'root-ca/ca.crt', sha256: 'cd'.repeat(32) }] } }]);
      assert.match(step, /\n {4}Plan step: Step 3 of 6 \(root, root CA\) {3}\[step\]\n/);
      assert.match(step, /\n {4}Made: certificate root-ca\/ca\.crt {3}\[made\]\n/);
      assert.ok(step.includes(`SHA-256 of root-ca/ca.crt: ${groupHex('cd'.repeat(32))}   [made[0].sha256]\n`), step);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the final hash as PGP words', () => {
  test('vectors from independent descriptions of the list, and whole tables', async () => {
    const { pgpWords, PGP_WORD_TABLES } = await import('./pgpWords');
    // The list's published examples: E5 82 (even, odd); a 16-byte key fingerprint; DC 0D 33.
    assert.deepEqual(pgpWords('E582'), ['topmost', 'Istanbul']);
    assert.equal(pgpWords('09F911029D74E35BD84156C5635688C0').join(' '), 'Algol Waterloo Athens aftermath quadrant hydraulic tissue exodus stormy decadence egghead resistor flatfoot escapade newborn recipe');
    assert.deepEqual(pgpWords('dc0d33'), ['sweatband', 'asteroid', 'chisel']);
    assert.deepEqual(pgpWords('00ff00ff'), ['aardvark', 'Yucatan', 'aardvark', 'Yucatan']);
    assert.equal(new Set([...PGP_WORD_TABLES.even, ...PGP_WORD_TABLES.odd]).size, 512);
    assert.throws(() => pgpWords('abc'));
  });

  test('the transcript prints the final hash in 32 words beside its hex', async () => {
    const { pgpWords } = await import('./pgpWords');
    const dir = sampleCeremony();
    try {
      const entries = readJournal(dir);
      const html = await renderTranscriptHtml(entries, { caDir: dir });
      const words = pgpWords(entries[entries.length - 1].hash);
      assert.equal(words.length, 32);
      assert.ok(html.includes(words.slice(0, 8).join(' ')) && html.includes(words.slice(24).join(' ')), 'every line of words is printed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
