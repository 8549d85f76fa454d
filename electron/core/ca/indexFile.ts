import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { QpkiError } from '../errors';
import type { RevocationReason } from '../x509/crl';
import { readText, writeFileAtomic } from './fsx';
import { canonicalSerial } from './serials';

/** One line of OpenSSL's index.txt: status, expiry, revocation, serial (hex), file, subject. */
export interface IndexEntry {
  status: 'V' | 'R' | 'E';
  expires: Date;
  revoked?: { date: Date; reason?: RevocationReason };
  /** Lower-case hex (serials.ts canonicalSerial), whatever case the line had. */
  serial: string;
  file: string;
  subject: string;
}

export const INDEX_FILE = 'index.txt';

/** OpenSSL index dates: YYMMDDHHMMSSZ (UTCTime), GeneralizedTime from 2050. */
export function indexDate(d: Date): string {
  const iso = d.toISOString();
  const y = d.getUTCFullYear();
  const rest = iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  return (y >= 2050 ? String(y) : String(y).slice(2)) + rest;
}

export function parseIndexDate(s: string): Date {
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new QpkiError('CA_INVALID', `Bad date "${s}" in ${INDEX_FILE}.`);
  let y = Number(m[1]);
  // Two digits: QPKI writes every year so (Go's "06"), 2050 and later too, and reads them back as
  // 1969-2068; OpenSSL switches to four digits in 2050. Reading 50-68 as 20xx serves both: no CA
  // directory lists a certificate that expired in the 1950s.
  if (m[1].length === 2) y += y >= 69 ? 1900 : 2000;
  return new Date(Date.UTC(y, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

/** OpenSSL's one-line DN form: /C=FR/O=ACME/CN=Root, with '/' in values escaped. */
export function opensslDn(rfc4514: string, parts: [string, string][]): string {
  if (!parts.length) return rfc4514;
  return parts.map(([k, v]) => `/${k}=${v.replace(/\//g, '\\/')}`).join('');
}

export function formatIndexLine(e: IndexEntry): string {
  const rev = e.revoked ? indexDate(e.revoked.date) + (e.revoked.reason ? `,${e.revoked.reason}` : '') : '';
  // Tabs and newlines inside a subject would break the format: they are refused when names are built.
  return [e.status, indexDate(e.expires), rev, canonicalSerial(e.serial), e.file, e.subject].join('\t');
}

/**
 * The fields of each non-empty line, checked (six fields, a known status, a hex serial in either
 * case: QPKI writes lower case, OpenSSL and earlier versions of ours upper case). Field 3 comes
 * back in canonical lower case.
 */
function indexLines(text: string): string[][] {
  const out: string[][] = [];
  text.split('\n').forEach((line, i) => {
    if (!line) return;
    const f = line.replace(/\r$/, '').split('\t');
    if (f.length !== 6 || !['V', 'R', 'E'].includes(f[0]) || !/^[0-9A-Fa-f]+$/.test(f[3])) {
      throw new QpkiError('CA_INVALID', `${INDEX_FILE} line ${i + 1} is malformed (expected six tab-separated fields: status V, R or E; expiry; revocation; hex serial; file; subject).`);
    }
    f[3] = canonicalSerial(f[3]);
    out.push(f);
  });
  return out;
}

/**
 * A reason as written in index.txt, by OpenSSL (keyCompromise, CACompromise), QPKI (caCompromise,
 * aaCompromise) or ours (cACompromise): matched without regard to case.
 */
function reasonOf(s: string | undefined): RevocationReason | undefined {
  if (!s) return undefined;
  const names: RevocationReason[] = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'];
  return names.find((n) => n.toLowerCase() === s.toLowerCase());
}

export function parseIndex(text: string): IndexEntry[] {
  return indexLines(text).map((f) => {
    const [d, reason] = f[2] ? f[2].split(',') : [];
    return {
      status: f[0] as IndexEntry['status'],
      expires: parseIndexDate(f[1]),
      revoked: d ? { date: parseIndexDate(d), reason: reasonOf(reason) } : undefined,
      serial: f[3],
      file: f[4],
      subject: f[5],
    };
  });
}

/**
 * Just the serials of index.txt, for the uniqueness check before each issuance: the same line
 * checks as parseIndex without decoding dates, which made re-reading a large index cost more
 * than the signature.
 */
export function readIndexSerials(dir: string): Set<string> {
  const p = join(dir, INDEX_FILE);
  return new Set(existsSync(p) ? indexLines(readText(p)).map((f) => f[3]) : []);
}

export function readIndex(dir: string): IndexEntry[] {
  const p = join(dir, INDEX_FILE);
  return existsSync(p) ? parseIndex(readText(p)) : [];
}

export function writeIndex(dir: string, entries: IndexEntry[]): void {
  writeFileAtomic(join(dir, INDEX_FILE), entries.map((e) => formatIndexLine(e) + '\n').join(''));
}

/**
 * Mark one line revoked and leave every other line byte for byte as it was (QPKI does the same):
 * lines another tool wrote keep their own date and subject forms. Returns the entry as revoked.
 */
export function reviseIndexLine(dir: string, serial: string, revise: (e: IndexEntry) => IndexEntry): IndexEntry | undefined {
  const p = join(dir, INDEX_FILE);
  const text = existsSync(p) ? readText(p) : '';
  const want = canonicalSerial(serial);
  const fields = indexLines(text);
  const at = fields.findIndex((f) => f[3] === want);
  if (at < 0) return undefined;
  const entry = revise(parseIndex(fields[at].join('\t'))[0]);
  const lines = text.split('\n').filter((l) => l.length > 0);
  const f = lines[at].replace(/\r$/, '').split('\t');
  // Only the status and revocation fields change; the serial keeps the case it was written in.
  f[0] = entry.status;
  f[2] = formatIndexLine(entry).split('\t')[2];
  lines[at] = f.join('\t');
  writeFileAtomic(p, lines.map((l) => l + '\n').join(''));
  return entry;
}

/**
 * Add one line to index.txt with a single O_APPEND write: a process killed mid-issuance leaves
 * the line whole or absent, and an issuance costs no rewrite of the whole index.
 */
export function appendIndex(dir: string, e: IndexEntry): void {
  appendIndexEntries(dir, [e]);
}

/** Several lines in one write (a batch of issuances). */
export function appendIndexEntries(dir: string, entries: IndexEntry[]): void {
  if (entries.length) appendFileSync(join(dir, INDEX_FILE), entries.map((e) => formatIndexLine(e) + '\n').join(''));
}
