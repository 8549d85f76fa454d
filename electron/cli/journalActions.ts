/** `qpki journal …`: the ceremony record. */
import { resolve } from 'node:path';
import { formatJournal, readJournal, verifyJournal } from '../core/journal/journal';
import { emit } from './output';

/** `journal verify` */
export function journalVerify(o: { caDir: string; dir?: string; knownHash?: string }): void {
  const r = verifyJournal(resolve(o.dir ?? o.caDir), { knownHash: o.knownHash });
  emit(r, () => (r.ok ? [`journal intact: ${r.entries} entries, last hash ${r.lastHash}`] : [`journal BROKEN at entry ${r.firstBroken?.seq} (line ${r.firstBroken?.line}): ${r.firstBroken?.reason}`, `  ${r.entries} entries before it are intact`]));
  if (!r.ok) process.exitCode = 1;
}

/** `journal show` */
export function journalShow(o: { caDir: string; dir?: string }): void {
  const entries = readJournal(resolve(o.dir ?? o.caDir));
  emit(entries, () => [formatJournal(entries)]);
}

/** `journal transcript` */
export async function journalTranscript(o: { caDir: string; dir?: string; out: string }): Promise<void> {
  const caDir = resolve(o.dir ?? o.caDir);
  const entries = readJournal(caDir);
  // The transcript alone needs QR codes and Chromium: loaded only here.
  const { renderTranscriptHtml, transcriptPdf } = await import('../core/journal/transcript');
  const html = await renderTranscriptHtml(entries, { caDir });
  if (o.out.endsWith('.pdf')) await transcriptPdf(html, o.out);
  else {
    const { writeFileAtomic } = await import('../core/ca/fsx');
    writeFileAtomic(o.out, html, { createOnly: true });
  }
  emit({ out: o.out, entries: entries.length }, () => [`transcript written to ${o.out} (${entries.length} entries)`]);
}
