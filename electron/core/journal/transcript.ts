/**
 * The printable ceremony transcript: what the witnesses read, compare with the screen and sign.
 * One self-contained HTML page (inline CSS, inline SVG QR codes, no external resources, a CSP
 * that forbids scripts), printed to A4 — by Electron's printToPDF in the app and by headless
 * Chromium from the command line (`transcriptPdf`).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import QRCode from 'qrcode';
import { pgpWords } from './pgpWords';
import { QpkiError } from '../errors';
import { childEnv } from '../child-env';
import { canonicalJson } from './canonical';
import { checkChain, ZERO_HASH, type JournalEntry } from './chain';
import { describeKind, flattenFacts, groupHex, groupHexLines, isFingerprintKey, normalizeHex, readableFacts, readableTime } from './format';

export interface TranscriptMeta {
  caDir: string;
  title?: string;
  /** The seq of the `ceremony.opened` entry of the ceremony to print; the latest when omitted. */
  ceremony?: number;
}

/** One ceremony inside a CA journal: from its `ceremony.opened` to its `ceremony.closed`. */
export interface CeremonyRange {
  openedSeq: number;
  /** The seq of its `ceremony.closed`, or null when it never closed (then it runs to the next opening or the end). */
  closedSeq: number | null;
  entries: JournalEntry[];
}

/**
 * The ceremonies of a journal, in order. A CA journal holds every ceremony the CA ever had (the
 * root ceremony, later CRL ceremonies…); witnesses sign for the one they attended only.
 */
export function ceremoniesOf(entries: JournalEntry[]): CeremonyRange[] {
  const out: CeremonyRange[] = [];
  let current: CeremonyRange | null = null;
  for (const e of entries) {
    if (e.kind === 'ceremony.opened') {
      current = { openedSeq: e.seq, closedSeq: null, entries: [e] };
      out.push(current);
    } else if (current) {
      current.entries.push(e);
      if (e.kind === 'ceremony.closed') {
        current.closedSeq = e.seq;
        current = null;
      }
    }
  }
  return out;
}

/**
 * The entries of one ceremony (`openedSeq`, or the latest). A journal with no `ceremony.opened`
 * at all (written before ceremonies were recorded) is one ceremony as a whole.
 */
export function selectCeremony(entries: JournalEntry[], openedSeq?: number): JournalEntry[] {
  const all = ceremoniesOf(entries);
  if (openedSeq === undefined) return all.length ? all[all.length - 1].entries : entries;
  const found = all.find((c) => c.openedSeq === openedSeq);
  if (!found) {
    const known = all.map((c) => c.openedSeq).join(', ') || 'none';
    throw new QpkiError('INPUT_INVALID', `Entry ${openedSeq} does not open a ceremony in this journal (ceremonies open at entries: ${known}).`);
  }
  return found.entries;
}

/**
 * When the step happened: an event held before the journal existed (the CLI's and the app's
 * preamble) carries its own time in `observedAt`; the entry's `time` is when it was written.
 */
export function eventTime(e: JournalEntry): string {
  const at = e.facts.observedAt;
  return typeof at === 'string' && !Number.isNaN(Date.parse(at)) ? at : e.time;
}

interface Fingerprint {
  seq: number;
  step: string;
  name: string;
  value: string;
  hex: boolean;
}

export { isFingerprintKey };

/**
 * `journal` is the whole journal file: the chain is checked over all of it (the hashes are the
 * file's), and the page shows one ceremony of it (meta.ceremony, or the latest).
 */
// eslint-disable-next-line max-lines-per-function -- the transcript page as one HTML template, section by section in page order
export async function renderTranscriptHtml(journal: JournalEntry[], meta: TranscriptMeta): Promise<string> {
  const title = meta.title?.trim() || 'Key ceremony transcript';
  const chain = checkChain(journal.map((e) => canonicalJson(e) + '\n').join(''));
  const entries = selectCeremony(journal, meta.ceremony);
  const finalHash = entries.length ? entries[entries.length - 1].hash : ZERO_HASH;
  const finalSeq = entries.length ? entries[entries.length - 1].seq : 0;
  const closed = entries.length > 0 && entries[entries.length - 1].kind === 'ceremony.closed';
  const operators = distinct(entries.map((e) => e.operator));
  const witnesses = distinct(entries.flatMap((e) => e.witnesses));
  const plan = entries.find((e) => e.kind === 'plan.loaded');
  const planSha256 = plan && typeof plan.facts.planSha256 === 'string' ? normalizeHex(plan.facts.planSha256) ?? plan.facts.planSha256 : undefined;
  const deviations = entries.filter((e) => e.kind === 'ceremony.deviation');
  const acks = entries.filter((e) => e.kind === 'witness.acknowledged');

  const fingerprints: Fingerprint[] = [];
  for (const e of entries) {
    for (const [name, value] of flattenFacts(e.facts)) {
      if (!isFingerprintKey(name)) continue;
      const hex = normalizeHex(value);
      fingerprints.push({ seq: e.seq, step: describeKind(e.kind), name, value: hex ?? value, hex: hex !== undefined });
    }
  }

  const qr = async (text: string) => QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  const fpQrs = await Promise.all(fingerprints.map((f) => qr(f.value)));
  const finalQr = await qr(finalHash);

  const range = entries.length ? `entries ${entries[0].seq} to ${finalSeq}` : 'no entries';
  const chainLine = chain.ok
    ? `<p class="ok">Hash chain checked over the whole journal: ${journal.length} ${journal.length === 1 ? 'entry' : 'entries'}, each linked to the one before. This ceremony is ${range}${closed ? '' : ' and was not closed'}.</p>`
    : `<p class="bad">Hash chain BROKEN at entry ${chain.firstBroken!.seq}: ${esc(chain.firstBroken!.reason)}. Do not sign; investigate first.</p>`;
  const period = entries.length
    ? `${esc(readableTime(eventTime(entries[0])))} to ${esc(readableTime(eventTime(entries[entries.length - 1])))}`
    : 'no entries';
  const stepOf = (e: JournalEntry) => (e.facts.step !== undefined ? `step ${esc(String(e.facts.step))}` : `entry ${e.seq}`);
  const deviationRows = deviations.map((e) => `<tr><td class="num">${e.seq}</td><td class="time">${esc(readableTime(eventTime(e)))}</td><td>${stepOf(e)}</td><td>${esc(String(e.facts.kind ?? ''))}</td><td>${esc(String(e.facts.note ?? ''))}</td></tr>`);
  const ackRows = acks.map((e) => {
    const what = e.facts.what === 'step' ? `step ${esc(String(e.facts.step ?? '?'))}` : e.facts.what === 'clock' ? 'the clock' : e.facts.what === 'preflight' ? 'the preflight checks' : esc(String(e.facts.what ?? ''));
    const ref = typeof e.facts.referenceTime === 'string' ? ` against reference time ${esc(readableTime(e.facts.referenceTime))}` : '';
    return `<tr><td class="num">${e.seq}</td><td class="time">${esc(readableTime(eventTime(e)))}</td><td>${esc(String(e.facts.witness ?? ''))}</td><td>${what}${ref}${e.facts.note !== undefined ? `<div class="muted">${esc(String(e.facts.note))}</div>` : ''}</td></tr>`;
  });

  const hexBlock = (hex: string) => groupHexLines(hex).map(esc).join('<br>');
  const rows = entries.map((e, i) => {
    // observedAt is the row's time already.
    const facts = readableFacts(e.facts)
      .filter(([, , path]) => path !== 'observedAt')
      .map(([words, text, path]) => `<div class="fact"><span class="k">${esc(words)}</span> <span class="${isFingerprintKey(path) ? 'v hex' : 'v'}">${esc(text)}</span></div>`)
      .join('');
    // Witnesses are shown where they start or change, not repeated on every row.
    const changed = i === 0 || e.witnesses.join('\n') !== entries[i - 1].witnesses.join('\n');
    const seen = e.witnesses.length ? `witnessed by ${esc(e.witnesses.join(', '))}` : 'no witnesses';
    const people = `${esc(e.operator)}${changed ? `<div class="muted">${seen}</div>` : ''}`;
    return `<tr class="${e.kind === 'error' || e.kind === 'login.failed' || e.kind === 'token.init.failed' || e.kind === 'csr.refused' ? 'alert' : ''}">
<td class="num">${e.seq}</td><td class="time">${esc(readableTime(eventTime(e)))}${eventTime(e) !== e.time ? `<div class="muted">written ${esc(readableTime(e.time))}</div>` : ''}</td>
<td><div class="step">${esc(describeKind(e.kind))}</div><div class="kind">${esc(e.kind)}</div>${facts}</td>
<td>${people}</td></tr>`;
  });

  const fpBlocks = fingerprints.map((f, i) => `<div class="fp">
<div class="qr" role="img" aria-label="QR code of ${esc(f.name)} of step ${f.seq}">${fpQrs[i]}</div>
<div><div class="fp-label">Step ${f.seq} · ${esc(f.step)} · <span class="k">${esc(f.name)}</span></div>
<div class="hex big">${f.hex ? hexBlock(f.value) : esc(f.value)}</div></div></div>`);

  // The plan names each participant's role; people on the record but not in the plan keep theirs.
  const planned = Array.isArray(plan?.facts.participants)
    ? (plan.facts.participants as unknown[]).filter((p): p is { name: string; role: string } => !!p && typeof (p as { name?: unknown }).name === 'string' && typeof (p as { role?: unknown }).role === 'string')
    : [];
  const signers = [
    ...planned.map((p) => ({ name: p.name, role: capitalize(p.role) })),
    ...operators.filter((n) => !planned.some((p) => p.name === n)).map((name) => ({ name, role: 'Operator' })),
    ...witnesses.filter((n) => !planned.some((p) => p.name === n)).map((name) => ({ name, role: 'Witness' })),
  ];
  const signBlocks = (signers.length ? signers : [{ name: '', role: 'Operator' }]).map((s) => `<div class="sign">
<div class="sign-role">${esc(s.role)}</div>
<div class="sign-grid">
<div><div class="printed">${esc(s.name) || '&nbsp;'}</div><div class="under">Name</div></div>
<div><div class="line"></div><div class="under">Signature</div></div>
<div><div class="line"></div><div class="under">Date</div></div>
</div></div>`);

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${css(groupHex(finalHash.slice(0, 16)))}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<table class="meta">
<tr><th>CA directory</th><td class="path">${esc(meta.caDir)}</td></tr>
<tr><th>Period</th><td>${period}</td></tr>
<tr><th>Operator${operators.length === 1 ? '' : 's'}</th><td>${esc(operators.join(', ')) || 'none recorded'}</td></tr>
<tr><th>Witnesses</th><td>${esc(witnesses.join(', ')) || 'none recorded'}</td></tr>
<tr><th>Journal entries</th><td>${range} of ${journal.length}</td></tr>
${planSha256 !== undefined ? `<tr><th>Plan SHA-256</th><td class="hex">${esc(groupHex(planSha256))}</td></tr>` : ''}
</table>
${chainLine}
</header>

<h2>Steps</h2>
<table class="steps">
<thead><tr><th class="num">#</th><th class="time">Time (UTC)</th><th>Step and facts</th><th class="who">By</th></tr></thead>
<tbody>
${rows.join('\n') || '<tr><td colspan="4">The journal has no entries.</td></tr>'}
</tbody>
</table>

<h2>Deviations</h2>
${deviationRows.length ? `<table class="steps"><thead><tr><th class="num">#</th><th class="time">Time (UTC)</th><th>Where</th><th>Kind</th><th>Note</th></tr></thead><tbody>\n${deviationRows.join('\n')}\n</tbody></table>` : '<p>No deviations recorded.</p>'}

${ackRows.length ? `<h2>Witness acknowledgements</h2>\n<table class="steps"><thead><tr><th class="num">#</th><th class="time">Time (UTC)</th><th class="who">Witness</th><th>Acknowledged</th></tr></thead><tbody>\n${ackRows.join('\n')}\n</tbody></table>` : ''}

${fingerprints.length ? `<h2>Fingerprints</h2>\n<p class="muted">Compare each with the screen, the certificate files, or by scanning the code.</p>\n${fpBlocks.join('\n')}` : ''}

<section class="final">
<h2>Final journal hash</h2>
<div class="fp">
<div class="qr" role="img" aria-label="QR code of the final journal hash">${finalQr}</div>
<div><div class="fp-label">SHA-256 of entry ${finalSeq} (journal.jsonl): write it down; <code>qpki</code> can check the journal against it later.</div>
<div class="hex big">${hexBlock(finalHash)}</div>
<div class="fp-label words-label">The same hash in the PGP word list, to read aloud (a two-syllable word for each even byte, a three-syllable word for each odd one):</div>
<div class="words">${pgpWordLines(finalHash).map(esc).join('<br>')}</div></div>
</div>
</section>

<section class="signatures">
<h2>Signatures</h2>
<p>By signing, I confirm that I saw the steps above take place, and that the final journal hash printed here matches the one the application showed at the end of the ceremony.</p>
${signBlocks.join('\n')}
</section>
</body>
</html>
`;
}

function css(hashPrefix: string): string {
  return `
@page { size: A4; margin: 14mm 13mm 16mm 13mm;
  @bottom-left { content: "Journal ${hashPrefix} …"; font: 7.5pt "DejaVu Sans Mono", monospace; color: #444; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 7.5pt "DejaVu Sans", sans-serif; color: #444; } }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 9.5pt/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #000; margin: 0; }
@media screen { body { max-width: 210mm; margin: 0 auto; padding: 12mm; background: #fff; } }
h1 { font-size: 17pt; margin: 0 0 3mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1pt solid #000; padding-bottom: 1mm; break-after: avoid; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 1.6mm 2mm; }
.meta th { width: 32mm; font-weight: 600; }
.meta td, .meta th { border-bottom: 0.5pt solid #bbb; }
.path, code, .hex { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; }
.path { word-break: break-all; }
.steps thead { display: table-header-group; }
.steps thead th { border-bottom: 1pt solid #000; font-size: 8.5pt; }
.steps td { border-bottom: 0.5pt solid #bbb; }
.steps tr { break-inside: avoid; }
.steps tr.alert td { background: #f3f3f3; }
.num { width: 8mm; text-align: right; }
.time { width: 30mm; font-size: 8.5pt; }
.who { width: 38mm; }
.step { font-weight: 600; }
.kind { font-size: 7.5pt; color: #555; font-family: "DejaVu Sans Mono", monospace; }
.fact { font-size: 8.5pt; overflow-wrap: anywhere; }
.k { color: #444; }
.k::after { content: ":"; }
.hex { word-spacing: 0.15em; }
.big { font-size: 10.5pt; line-height: 1.6; overflow-wrap: anywhere; }
.muted { color: #555; font-size: 8.5pt; }
.ok { border-left: 2.5pt solid #000; padding: 1mm 3mm; }
.bad { border: 2pt solid #000; padding: 2mm 3mm; font-weight: 700; }
.fp { display: flex; gap: 5mm; align-items: center; border: 0.5pt solid #999; padding: 3mm; margin-bottom: 3mm; break-inside: avoid; }
.fp > div:last-child { flex: 1; min-width: 0; }
.fp-label { font-size: 8.5pt; margin-bottom: 1.5mm; }
.qr { flex: none; width: 30mm; height: 30mm; }
.qr svg { width: 100%; height: 100%; display: block; }
.final .qr { width: 38mm; height: 38mm; }
.signatures { break-inside: avoid-page; }
.sign { break-inside: avoid; margin: 5mm 0 2mm; }
.sign-role { font-weight: 600; margin-bottom: 1mm; }
.sign-grid { display: grid; grid-template-columns: 1.3fr 1.3fr 0.8fr; gap: 6mm; align-items: end; }
.printed { min-height: 9mm; display: flex; align-items: flex-end; border-bottom: 0.75pt solid #000; padding-bottom: 1mm; }
.line { height: 9mm; border-bottom: 0.75pt solid #000; }
.under { font-size: 7.5pt; color: #444; margin-top: 0.8mm; }
.words { font-size: 9.5pt; line-height: 1.5; }
.words-label { margin-top: 2mm; }
`;
}

function capitalize(s: string): string {
  const words = s.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The final hash as 32 PGP words, eight to a line: read aloud, a wrong, swapped or missed word is heard. */
function pgpWordLines(hex: string): string[] {
  const words = pgpWords(hex);
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 8) lines.push(words.slice(i, i + 8).join(' '));
  return lines;
}

function distinct(names: string[]): string[] {
  return [...new Set(names)];
}

/** Text for HTML element content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const CHROMIUM = '/usr/bin/chromium';

export function chromiumAvailable(path = CHROMIUM): boolean {
  return existsSync(path);
}

/**
 * Prints the transcript to an A4 PDF with headless Chromium (the command line's route; the app
 * uses Electron's printToPDF on the same HTML). Refuses to overwrite `outPdf`.
 */
export async function transcriptPdf(html: string, outPdf: string, opts: { chromium?: string; timeoutMs?: number } = {}): Promise<void> {
  const chromium = opts.chromium ?? CHROMIUM;
  const target = resolve(outPdf);
  if (existsSync(target)) throw new QpkiError('OUTPUT_EXISTS', `${target} already exists; choose another file name.`);
  if (!chromiumAvailable(chromium)) {
    throw new QpkiError('IO_ERROR', `Chromium is needed to print the PDF and is not at ${chromium}: install it (apt-get install chromium), or open the HTML transcript in a browser and print it.`);
  }
  const work = mkdtempSync(join(tmpdir(), 'qpki-transcript-'));
  try {
    const page = join(work, 'transcript.html');
    const pdf = join(work, 'transcript.pdf');
    writeFileSync(page, html, 'utf8');
    await run(chromium, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--no-pdf-header-footer',
      `--user-data-dir=${join(work, 'profile')}`, `--print-to-pdf=${pdf}`, pathToFileURL(page).href,
    ], work, opts.timeoutMs ?? 60_000);
    if (!existsSync(pdf) || readFileSync(pdf).subarray(0, 5).toString('latin1') !== '%PDF-') {
      throw new QpkiError('IO_ERROR', 'Chromium did not produce a PDF of the transcript; open the HTML transcript in a browser and print it instead.');
    }
    try {
      copyFileSync(pdf, target, constants.COPYFILE_EXCL);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new QpkiError('OUTPUT_EXISTS', `${target} already exists; choose another file name.`);
      throw new QpkiError('IO_ERROR', `Cannot write ${target}${code ? ` (${code})` : ''}.`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Chromium gets a minimal environment (child-env.ts: no PIN variable, no token configuration) and
 * a home inside the private work folder, removed afterwards: what it writes under $HOME (its NSS
 * database, crash reports) does not outlive the print.
 */
function run(cmd: string, args: string[], work: string, timeoutMs: number): Promise<void> {
  const env = childEnv({ HOME: work, XDG_CONFIG_HOME: join(work, 'config'), XDG_CACHE_HOME: join(work, 'cache') });
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) {
        const detail = String(stderr).split('\n').find((l) => /error/i.test(l))?.trim();
        reject(new QpkiError('IO_ERROR', `Chromium failed to print the transcript${err.killed ? ' (timed out)' : ''}${detail ? `: ${detail.slice(0, 200)}` : ''}.`));
      } else {
        resolvePromise();
      }
    });
  });
}
