import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError } from '../errors';
import { Journal } from '../journal/journal';
import { REVOCATION_REASONS, type RevocationReason } from '../x509/crl';
import { parseCertificateModel } from '../x509/model';
import { pemOrDer } from '../x509/pem';
import { lockCaDir } from './fsx';
import { readIndex, reviseIndexLine, type IndexEntry } from './indexFile';
import { canonicalSerial, isHexSerial } from './serials';
import { readMeta } from './meta';

/**
 * The reasons a CRL entry may give, by the kind of certificate (CA/Browser Forum BR 7.2.2, the
 * CRLReasons table): a subscriber certificate takes no reason code (unspecified) or one of five;
 * a CA certificate must carry a reason code, so unspecified is not one. cACompromise,
 * certificateHold and aACompromise are not in the table at all (a compromised CA key is
 * keyCompromise). The same rules hold for a private PKI: they are what relying parties expect.
 */
export const ALLOWED_REVOCATION_REASONS: Record<'subscriber' | 'ca', readonly RevocationReason[]> = {
  subscriber: ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'],
  ca: ['keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'privilegeWithdrawn'],
};

/** Why `reason` may not revoke a certificate of this kind, or undefined when it may. */
export function revocationReasonProblem(reason: RevocationReason, kind: 'subscriber' | 'ca'): string | undefined {
  if (ALLOWED_REVOCATION_REASONS[kind].includes(reason)) return undefined;
  const allowed = ALLOWED_REVOCATION_REASONS[kind].join(', ');
  if (kind === 'ca' && reason === 'unspecified')
    return `A CA certificate's CRL entry must carry a reason code (CA/Browser Forum BR 7.2.2): give --reason, one of ${allowed}.`;
  return `Revocation reason ${reason} is not allowed for a ${kind === 'ca' ? 'CA' : 'subscriber'} certificate (CA/Browser Forum BR 7.2.2, CRLReasons${reason === 'cACompromise' ? '; a compromised CA key is keyCompromise' : ''}); use one of ${allowed}.`;
}

/** Whether the certificate with this index entry is a CA certificate, read from its file; undefined when the file is gone. */
function isCaCertificate(dir: string, e: IndexEntry): boolean | undefined {
  const file = join(dir, 'certs', `${e.serial}.crt`);
  if (!existsSync(file)) return undefined;
  try {
    return parseCertificateModel(pemOrDer(readFileSync(file, 'utf8'), ['CERTIFICATE'])).basicConstraints?.ca === true;
  } catch {
    return undefined;
  }
}

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
    // A certificate whose file is lost is judged by both sets: only a reason both allow passes.
    const ca = isCaCertificate(abs, found);
    for (const kind of ca === undefined ? (['subscriber', 'ca'] as const) : [ca ? ('ca' as const) : ('subscriber' as const)]) {
      const problem = revocationReasonProblem(reason, kind);
      if (problem) throw new QpkiError('REVOCATION_REASON_NOT_ALLOWED', problem, { reason, kind, section: 'CABF BR 7.2.2' });
    }
    // Only this line changes: lines QPKI wrote keep their form.
    const e = reviseIndexLine(abs, want, (x) => ({ ...x, status: 'R', revoked: { date: new Date(Math.floor(now.getTime() / 1000) * 1000), reason } }))!;
    Journal.open(abs, who).append('certificate.revoked', { serial: e.serial, reason, subject: e.subject, time: e.revoked!.date.toISOString() });
    return e;
  } finally {
    unlock();
  }
}
