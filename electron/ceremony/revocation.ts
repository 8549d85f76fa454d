/**
 * Revocation in the app: the open CA's issued certificates, read from its index, and revoking one
 * by serial with a reason BR 7.2.2 allows for its kind. Main decides the kind from the certificate
 * file, offers only the reasons that kind takes, asks the operator itself, and journals the
 * revocation under the ceremony's participants. Plain Node, no `electron` import.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QpkiError } from '../core/errors';
import { readIndex, type IndexEntry } from '../core/ca/indexFile';
import { ALLOWED_REVOCATION_REASONS, revocationReasonProblem, revokeInIndex } from '../core/ca/revoke';
import { canonicalSerial, isHexSerial } from '../core/ca/serials';
import { readMeta } from '../core/ca/meta';
import type { RevocationReason } from '../core/x509/crl';
import { parseCertificateModel, parseCrlModel } from '../core/x509/model';
import { pemOrDer } from '../core/x509/pem';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { nameString } from '../core/ca/authority';
import type { AppState } from './state';
import type { Output } from '../../shared/contract';
import { askAndRecord, type SigningContext } from './signing';

/** BR 7.2.2's CRLReasons in words, as the operator reads them. */
export const REASON_WORDS: Record<string, string> = {
  unspecified: 'No reason given (no reason code in the CRL)',
  keyCompromise: 'Key compromise: the private key is known or suspected to be in other hands',
  affiliationChanged: 'Affiliation changed: the subject’s name or organization changed',
  superseded: 'Superseded: replaced by a new certificate',
  cessationOfOperation: 'Cessation of operation: the subject no longer uses it',
  privilegeWithdrawn: 'Privilege withdrawn: the subject is no longer allowed to hold it',
};

type Kind = 'ca' | 'subscriber';

function openDir(state: AppState): string {
  if (!state.caDir) throw new QpkiError('CA_NOT_FOUND', 'Open the CA directory first.');
  readMeta(state.caDir);
  return state.caDir;
}

function certificateOf(dir: string, e: IndexEntry): { kind: Kind | null; notBefore: string | null; subject: string | null } {
  const file = join(dir, 'certs', `${e.serial}.crt`);
  if (!existsSync(file)) return { kind: null, notBefore: null, subject: null };
  try {
    const m = parseCertificateModel(pemOrDer(readFileSync(file, 'utf8'), ['CERTIFICATE']));
    // The subject as the app writes names everywhere else (RFC 4514), not the index's OpenSSL "/CN=…" line.
    return { kind: m.basicConstraints?.ca === true ? 'ca' : 'subscriber', notBefore: m.notBefore.date.toISOString(), subject: nameString(AsnConvert.parse(m.subject.der, Name)) };
  } catch {
    return { kind: null, notBefore: null, subject: null };
  }
}

/** The reasons main accepts for a kind; a certificate whose file is lost takes only those both kinds allow. */
function reasonsFor(kind: Kind | null): RevocationReason[] {
  if (kind) return [...ALLOWED_REVOCATION_REASONS[kind]];
  return ALLOWED_REVOCATION_REASONS.subscriber.filter((r) => ALLOWED_REVOCATION_REASONS.ca.includes(r));
}

export function listIssued(state: AppState): Output<'listIssued'> {
  const dir = openDir(state);
  return {
    certificates: readIndex(dir).map((e) => {
      const c = certificateOf(dir, e);
      return {
        serial: e.serial, subject: c.subject ?? e.subject, kind: c.kind ?? 'unknown',
        status: e.status === 'R' ? 'revoked' : e.status === 'E' || e.expires.getTime() < Date.now() ? 'expired' : 'valid',
        notBefore: c.notBefore, notAfter: e.expires.toISOString(),
        revoked: e.revoked ? { date: e.revoked.date.toISOString(), reason: e.revoked.reason ?? 'unspecified', words: REASON_WORDS[e.revoked.reason ?? 'unspecified'] ?? e.revoked.reason ?? 'unspecified' } : null,
        reasons: e.status === 'R' ? [] : reasonsFor(c.kind).map((r) => ({ reason: r, words: REASON_WORDS[r] ?? r })),
      };
    }),
  };
}

/** The certificate `serial` of the CA in `dir`, checked to be revocable for `reason` (BR 7.2.2 by its kind). */
function revocable(dir: string, serial: string, reason: RevocationReason): { e: IndexEntry; kind: Kind | null } {
  if (!isHexSerial(serial)) throw new QpkiError('INPUT_INVALID', `"${serial}" is not a hex serial number.`);
  const want = canonicalSerial(serial);
  const e = readIndex(dir).find((x) => x.serial === want);
  if (!e) throw new QpkiError('SERIAL_NOT_FOUND', `No certificate with serial ${want} was issued by this CA.`);
  if (e.status === 'R') throw new QpkiError('ALREADY_REVOKED', `Certificate ${e.serial} is already revoked (since ${e.revoked?.date.toISOString()}).`);
  const { kind } = certificateOf(dir, e);
  for (const k of kind ? [kind] : (['subscriber', 'ca'] as const)) {
    const problem = revocationReasonProblem(reason, k);
    if (problem) throw new QpkiError('REVOCATION_REASON_NOT_ALLOWED', problem, { reason, kind: k, section: 'CABF BR 7.2.2' });
  }
  return { e, kind };
}

/** A revocation a ceremony plan's CRL step names, resolved by main from the plan (a serial, and why). */
export interface PlannedRevocation {
  serial: string;
  reason: RevocationReason;
  /** The plan's words for it ("step 4 of 4 (crl: …) revokes step partner"), shown in the dialog and recorded. */
  why: string;
}

/**
 * A plan's CRL step revokes exactly what the plan names before its CRL is prepared, each asked in
 * main's own dialog. All are checked before the first question, so a plan that names a serial
 * this CA never issued revokes nothing. One already revoked for the plan's reason (an earlier
 * attempt of this step, declined at the CRL's signature) is not asked again.
 */
export async function revokeForPlan(ctx: SigningContext, planned: PlannedRevocation[]): Promise<void> {
  const dir = openDir(ctx.state);
  const todo: PlannedRevocation[] = [];
  for (const v of planned) {
    const e = readIndex(dir).find((x) => x.serial === canonicalSerial(v.serial));
    if (e?.status === 'R') {
      const had = e.revoked?.reason ?? 'unspecified';
      if (had === v.reason) continue;
      throw new QpkiError('ALREADY_REVOKED', `Certificate ${e.serial} is already revoked for ${had}, not for the plan's ${v.reason}; a revocation is never changed. Record a deviation with a note. Nothing was revoked.`);
    }
    revocable(dir, v.serial, v.reason);
    todo.push(v);
  }
  for (const v of todo) await revokeCertificate(ctx, v.serial, v.reason, v.why);
}

export async function revokeCertificate(ctx: SigningContext, serial: string, reason: RevocationReason, why?: string): Promise<Output<'revokeCertificate'>> {
  const { state } = ctx;
  const dir = openDir(state);
  // Checked before the question: the operator is never asked to confirm what main would refuse.
  const { e, kind } = revocable(dir, serial, reason);
  state.ceremony.attach(dir);
  const yes = await askAndRecord(ctx, {
    kind: 'revoke',
    title: `Revoke the ${kind === 'ca' ? 'CA' : kind === 'subscriber' ? 'end-entity' : ''} certificate ${e.serial}? This cannot be undone.`,
    facts: [
      { label: 'Subject', value: e.subject },
      { label: 'Serial', value: e.serial },
      { label: 'Kind', value: kind === 'ca' ? 'CA certificate' : kind === 'subscriber' ? 'end-entity (subscriber) certificate' : 'unknown (certificate file missing)' },
      { label: 'Reason (BR 7.2.2)', value: REASON_WORDS[reason] ?? reason },
      { label: 'CA directory', value: dir },
      ...(why ? [{ label: 'Ceremony plan', value: why }] : []),
    ],
    action: 'Revoke',
  }, { serial: e.serial, reason, ...(why ? { plan: why } : {}) });
  if (!yes) throw new QpkiError('NOT_CONFIRMED', 'The revocation was not confirmed in the app’s confirmation dialog; nothing was revoked.');
  // revokeInIndex checks again under the CA's lock (another process may have revoked it since).
  const done = revokeInIndex(dir, e.serial, reason, new Date(), state.ceremony.participants ?? undefined);
  return { serial: done.serial, reason, date: done.revoked!.date.toISOString() };
}

/** The CRL in the CA directory that signing the next one replaces, or null when there is none. */
export function currentCrl(dir: string): { number: string; thisUpdate: string } | null {
  const file = join(dir, 'crl', 'ca.crl');
  if (!existsSync(file)) return null;
  try {
    const m = parseCrlModel(pemOrDer(readFileSync(file, 'utf8'), ['X509 CRL']));
    return { number: m.crlNumber?.toString() ?? 'none', thisUpdate: m.thisUpdate.date.toISOString() };
  } catch {
    // Unreadable: still replaced, and the operator is told so.
    return { number: 'unreadable', thisUpdate: 'unknown' };
  }
}
