/** `qpki journal …`: the ceremony record. */
import { resolve } from 'node:path';
import { formatJournal, readJournal, verifyJournal } from '../core/journal/journal';
import { QpkiError } from '../core/errors';
import { emit } from './output';
import { groupHex } from '../core/journal/format';

/** `journal verify` */
export function journalVerify(o: { caDir: string; dir?: string; knownHash?: string }): void {
  const r = verifyJournal(resolve(o.dir ?? o.caDir), { knownHash: o.knownHash });
  emit(r, () => (r.ok ? [`journal intact: ${r.entries} entries, last hash ${groupHex(r.lastHash)}`] : [`journal BROKEN at entry ${r.firstBroken?.seq} (line ${r.firstBroken?.line}): ${r.firstBroken?.reason}`, `  ${r.entries} entries before it are intact`]));
  if (!r.ok) process.exitCode = 1;
}

/** `journal show` */
export function journalShow(o: { caDir: string; dir?: string }): void {
  const entries = readJournal(resolve(o.dir ?? o.caDir));
  emit(entries, () => [formatJournal(entries)]);
}

/** `journal transcript` */
export async function journalTranscript(o: { caDir: string; dir?: string; out: string; ceremony?: string }): Promise<void> {
  const caDir = resolve(o.dir ?? o.caDir);
  let ceremony: number | undefined;
  if (o.ceremony !== undefined) {
    if (!/^[1-9]\d{0,9}$/.test(o.ceremony)) throw new QpkiError('INPUT_INVALID', '--ceremony takes the entry number (seq) of the ceremony.opened entry, e.g. --ceremony 12.');
    ceremony = Number(o.ceremony);
  }
  const journal = readJournal(caDir);
  // The transcript alone needs QR codes and Chromium: loaded only here.
  const { renderTranscriptHtml, transcriptPdf, selectCeremony } = await import('../core/journal/transcript');
  // Selected before anything is written, so an unknown ceremony leaves no file behind.
  const entries = selectCeremony(journal, ceremony);
  const html = await renderTranscriptHtml(journal, { caDir, ceremony });
  if (o.out.endsWith('.pdf')) await transcriptPdf(html, o.out);
  else {
    const { writeFileAtomic } = await import('../core/ca/fsx');
    writeFileAtomic(o.out, html, { createOnly: true });
  }
  const first = entries.length ? entries[0].seq : 0;
  const last = entries.length ? entries[entries.length - 1].seq : 0;
  emit({ out: o.out, entries: entries.length, firstSeq: first, lastSeq: last, finalHash: entries.length ? entries[entries.length - 1].hash : null }, () => [`transcript written to ${o.out} (entries ${first} to ${last} of ${journal.length}: one ceremony)`]);
}
