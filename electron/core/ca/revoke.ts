import { resolve } from 'node:path';
import { QpkiError } from '../errors';
import { Journal } from '../journal/journal';
import { REVOCATION_REASONS, type RevocationReason } from '../x509/crl';
import { lockCaDir } from './fsx';
import { readIndex, reviseIndexLine, type IndexEntry } from './indexFile';
import { canonicalSerial, isHexSerial } from './serials';
import { readMeta } from './meta';

/** Mark a certificate revoked in the index (the next CRL lists it). Needs no key. */
export function revokeInIndex(dir: string, serial: string, reason: RevocationReason = 'unspecified', now = new Date(), who?: { operator: string; witnesses: string[] }): IndexEntry {
  const abs = resolve(dir);
  readMeta(abs);
  if (!(reason in REVOCATION_REASONS)) throw new QpkiError('INPUT_INVALID', `Unknown revocation reason "${reason}". Use one of: ${Object.keys(REVOCATION_REASONS).join(', ')}.`);
  if (!isHexSerial(serial)) throw new QpkiError('INPUT_INVALID', `"${serial}" is not a hex serial number.`);
  const want = canonicalSerial(serial); // either case, with or without 0x, colons or leading zeros
  const unlock = lockCaDir(abs);
  try {
    const found = readIndex(abs).find((x) => x.serial === want);
    if (!found) throw new QpkiError('SERIAL_NOT_FOUND', `No certificate with serial ${want} was issued by this CA.`);
    if (found.status === 'R') throw new QpkiError('ALREADY_REVOKED', `Certificate ${found.serial} is already revoked (since ${found.revoked?.date.toISOString()}).`);
    // Only this line changes: lines QPKI wrote keep their form.
    const e = reviseIndexLine(abs, want, (x) => ({ ...x, status: 'R', revoked: { date: new Date(Math.floor(now.getTime() / 1000) * 1000), reason } }))!;
    Journal.open(abs, who).append('certificate.revoked', { serial: e.serial, reason, subject: e.subject, time: e.revoked!.date.toISOString() });
    return e;
  } finally {
    unlock();
  }
}
