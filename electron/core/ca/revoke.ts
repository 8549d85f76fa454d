import { resolve } from 'node:path';
import { QpkiError } from '../errors';
import { Journal } from '../journal/journal';
import { REVOCATION_REASONS, type RevocationReason } from '../x509/crl';
import { lockCaDir } from './fsx';
import { readIndex, writeIndex, type IndexEntry } from './indexFile';
import { readMeta } from './meta';

/** Mark a certificate revoked in the index (the next CRL lists it). Needs no key. */
export function revokeInIndex(dir: string, serial: string, reason: RevocationReason = 'unspecified', now = new Date(), who?: { operator: string; witnesses: string[] }): IndexEntry {
  const abs = resolve(dir);
  readMeta(abs);
  if (!(reason in REVOCATION_REASONS)) throw new QpkiError('INPUT_INVALID', `Unknown revocation reason "${reason}". Use one of: ${Object.keys(REVOCATION_REASONS).join(', ')}.`);
  const want = serial.replace(/^0x/i, '').replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(want)) throw new QpkiError('INPUT_INVALID', `"${serial}" is not a hex serial number.`);
  const unlock = lockCaDir(abs);
  try {
    const index = readIndex(abs);
    const e = index.find((x) => x.serial.replace(/^0+/, '') === want.replace(/^0+/, ''));
    if (!e) throw new QpkiError('SERIAL_NOT_FOUND', `No certificate with serial ${want} was issued by this CA.`);
    if (e.status === 'R') throw new QpkiError('ALREADY_REVOKED', `Certificate ${e.serial} is already revoked (since ${e.revoked?.date.toISOString()}).`);
    e.status = 'R';
    e.revoked = { date: new Date(Math.floor(now.getTime() / 1000) * 1000), reason };
    writeIndex(abs, index);
    Journal.open(abs, who).append('certificate.revoked', { serial: e.serial, reason, subject: e.subject, time: e.revoked.date.toISOString() });
    return e;
  } finally {
    unlock();
  }
}
