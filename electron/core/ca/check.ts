import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJournal, verifyJournal } from '../journal/journal';
import { QpkiError } from '../errors';
import { describeDocument } from '../x509/describe';
import { readText } from './fsx';
import { readIndex } from './indexFile';
import { activeVersion, readMeta } from './meta';

export interface CaCheckResult {
  ok: boolean;
  certificates: number;
  journalEntries: number;
  problems: string[];
  notes: string[];
  /** Serials whose issuance started but never finished (a crash mid-issuance). */
  inFlight: string[];
}

/**
 * Consistency of a CA directory after a crash or a pulled token: index, serial file, certificate
 * files and journal must agree; no serial appears twice; every issued certificate verifies under
 * the CA key.
 */
export function checkCaDir(dir: string): CaCheckResult {
  const abs = resolve(dir);
  const problems: string[] = [];
  const notes: string[] = [];
  const meta = readMeta(abs);
  const v = activeVersion(meta);
  const caPem = readText(join(abs, 'versions', meta.active, 'certs', `ca.${v.algos[0]}.pem`));
  let index: ReturnType<typeof readIndex> = [];
  try {
    index = readIndex(abs);
  } catch (e) {
    problems.push(e instanceof QpkiError ? e.message : String(e));
  }
  const seen = new Set<string>();
  for (const e of index) {
    if (seen.has(e.serial)) problems.push(`serial ${e.serial} appears twice in index.txt`);
    seen.add(e.serial);
    const p = join(abs, 'certs', `${e.serial}.crt`);
    if (!existsSync(p)) {
      problems.push(`index.txt lists ${e.serial} but certs/${e.serial}.crt is missing`);
      continue;
    }
    try {
      const d = describeDocument(readText(p), caPem);
      if (d.serial !== e.serial) problems.push(`certs/${e.serial}.crt holds serial ${d.serial}`);
      if (d.signatures.some((s) => s.valid !== true)) problems.push(`certs/${e.serial}.crt does not verify under the CA key`);
    } catch (err) {
      problems.push(`certs/${e.serial}.crt is unreadable: ${err instanceof Error ? err.message : err}`);
    }
  }
  const files = existsSync(join(abs, 'certs')) ? readdirSync(join(abs, 'certs')).filter((f) => f.endsWith('.crt')) : [];
  for (const f of files) {
    const serial = f.replace(/\.crt$/, '');
    if (!seen.has(serial)) problems.push(`certs/${f} is not in index.txt (an issuance interrupted after signing)`);
  }
  for (const f of readdirSync(join(abs, 'certs')).filter((x) => x.endsWith('.tmp'))) notes.push(`leftover temporary file certs/${f} (harmless; may be deleted)`);
  const serialFile = existsSync(join(abs, 'serial')) ? readText(join(abs, 'serial')).trim() : '';
  if (index.length && serialFile && !seen.has(serialFile)) {
    const caSerial = describeDocument(caPem).serial;
    if (serialFile !== caSerial) problems.push(`the serial file names ${serialFile}, which index.txt does not list`);
  }
  const j = verifyJournal(abs);
  if (!j.ok) problems.push(`journal broken at entry ${j.firstBroken?.seq} (line ${j.firstBroken?.line}): ${j.firstBroken?.reason}`);
  const inFlight: string[] = [];
  if (j.ok) {
    const entries = readJournal(abs);
    const started = new Map<string, number>();
    for (const e of entries) {
      const s = String((e.facts as { serial?: unknown }).serial ?? '');
      if (e.kind === 'issuance.started') started.set(s, e.seq);
      if (e.kind === 'certificate.signed') started.delete(s);
    }
    for (const [serial, seq] of started) {
      inFlight.push(serial);
      if (seen.has(serial)) problems.push(`serial ${serial} is in index.txt but the journal has no certificate.signed entry for it`);
      else notes.push(`issuance of serial ${serial} (journal entry ${seq}) did not complete; no certificate with that serial was recorded`);
    }
    for (const e of entries) {
      if (e.kind === 'certificate.signed' && (e.facts as { path?: string }).path?.startsWith('certs/')) {
        const s = String((e.facts as { serial?: unknown }).serial);
        if (!seen.has(s)) problems.push(`the journal records certificate ${s} as signed but index.txt does not list it`);
      }
    }
  }
  return { ok: problems.length === 0, certificates: index.length, journalEntries: j.entries, problems, notes, inFlight };
}
