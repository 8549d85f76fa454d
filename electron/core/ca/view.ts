/**
 * Reading a CA directory without its keys: its metadata, its certificate's facts, its index, where
 * its keys are, and a pending CA's request. This is what `ca info` and the app's CA view show.
 * It is apart from authority.ts so that reading a CA does not load what signing needs (profiles,
 * lints, PKCS#11, software keys, node:crypto, the ASN.1 schema libraries): `ca info` loads none of them.
 */
import { join, resolve } from 'node:path';
import * as z from 'zod/mini';
import { QpkiError } from '../errors';
import type { KeyAlgorithm } from '../keys/algorithms';
import { readTlv } from '../x509/der';
import { parseCertificateModel, type NameModel } from '../x509/model';
import { dnString } from '../x509/names';
import { pemOrDer, toPem } from '../x509/pem';
import { readText } from './fsx';
import { readIndex, type IndexEntry } from './indexFile';
import { resolveKeyStorage, type ResolvedStorage } from './keyStorage';
import { caCertPath, keyAlgorithmFromQpkiId, META_FILE, readMeta, usableVersion, versionKeys, versionStatus, type CaMeta, type KeyRef } from './meta';

export function caKeyStorages(dir: string): { id: string; algorithm: string; storage: ResolvedStorage }[] {
  const abs = resolve(dir);
  const meta = readMeta(abs);
  usableVersion(abs, meta);
  return activeKeyStorages(abs, meta);
}

export function activeKeyStorages(abs: string, meta: CaMeta): { id: string; algorithm: string; storage: ResolvedStorage }[] {
  return versionKeys(meta, meta.active).map((k) => ({ id: k.id, algorithm: k.algorithm, storage: resolveKeyStorage(abs, k.storage) }));
}

/** Read a CA's metadata and certificate without unlocking any key (ca info, the app's CA view). */
export function describeCaDir(dir: string): { dir: string; meta: CaMeta; certPem: string; subject: string; notAfter: Date; issued: IndexEntry[]; keys: () => { id: string; algorithm: string; storage: ResolvedStorage }[] } {
  const abs = resolve(dir);
  const meta = readMeta(abs);
  usableVersion(abs, meta);
  const certDer = pemOrDer(readText(caCertPath(abs, meta)), ['CERTIFICATE']);
  const f = caCertSummary(certDer);
  // Keys are resolved on request: a QPKI CA's hsm.yaml is read only by what needs its token.
  const keys = () => activeKeyStorages(abs, meta);
  return { dir: abs, meta, certPem: toPem(certDer, 'CERTIFICATE'), subject: f.subject, notAfter: new Date(f.notAfter), issued: readIndex(abs), keys };
}

/** What a pending version adds to ca.meta.json (read raw: the shared schema keeps only what active CAs use). */
const pendingFields = z.object({
  spki: z.string().check(z.regex(/^[A-Za-z0-9+/]+={0,2}$/)),
  spki_sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  csr: z.string(),
});

export interface PendingCaInfo {
  dir: string;
  meta: CaMeta;
  profile: string;
  subject: string;
  algorithm: KeyAlgorithm;
  keys: KeyRef[];
  spki: Uint8Array;
  spkiSha256: string;
  csrPath: string;
  created: string;
}

/**
 * The subject (as nameString shows it) and end of validity of a CA's certificate, read with the
 * app's own DER reader, so that `ca info` never loads the ASN.1 schema libraries (half of its module
 * start-up). Only names whose every value is UTF8String, PrintableString or IA5String (valid
 * UTF-8 where it says so) and DER times (…Z) are read here: the text of every other form is
 * what @peculiar/asn1-x509 makes of it (hex for some, its own decoding for others), so those
 * certificates, and any this reader refuses, take the full parse (certFacts) and read exactly as
 * before.
 */
export function caCertSummary(der: Uint8Array): { subject: string; notAfter: number } {
  const plain = plainCertSummary(der);
  if (plain) return plain;
  const f = (require('./certFacts') as typeof import('./certFacts')).certFacts(der);
  return { subject: f.subject, notAfter: f.notAfter.getTime() };
}

/** The summary read without the ASN.1 schema libraries; undefined for a name or time of another form, or DER this reader refuses. */
export function plainCertSummary(der: Uint8Array): { subject: string; notAfter: number } | undefined {
  let m;
  try {
    m = parseCertificateModel(der);
  } catch {
    return undefined; // the full parse says what is wrong, as it always did
  }
  const subject = plainNameString(m.subject);
  const na = m.notAfter;
  if (subject === undefined || !/^(\d{12}|\d{14})Z$/.test(na.text) || na.text.length !== (na.tag === 0x17 ? 13 : 15)) return undefined;
  return { subject, notAfter: na.date.getTime() };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** nameString of a name with only UTF8String, PrintableString and IA5String values; undefined for any other. */
function plainNameString(n: NameModel): string | undefined {
  const rdns: { type: string; text: string }[][] = [];
  for (const rdn of n.rdns) {
    const values: { type: string; text: string }[] = [];
    for (const a of rdn) {
      let text: string;
      if (a.tag === 0x13 || a.tag === 0x16) text = a.value;
      else if (a.tag === 0x0c) {
        try {
          const t = readTlv(a.raw, 0);
          text = strictUtf8.decode(a.raw.subarray(t.contentStart, t.end));
        } catch {
          return undefined;
        }
      } else return undefined;
      values.push({ type: a.oid, text });
    }
    rdns.push(values);
  }
  return dnString(rdns);
}

function rawPendingFields(dir: string): z.infer<typeof pendingFields> {
  const raw = JSON.parse(readText(join(dir, META_FILE))) as { active: string; versions: Record<string, unknown> };
  const r = pendingFields.safeParse(raw.versions[raw.active]);
  if (!r.success) throw new QpkiError('CA_INVALID', `${join(dir, META_FILE)} says the CA is pending but does not record its key's public key (${r.error.issues[0]?.path.join('.')}).`);
  return r.data;
}

/** The pending state of a CA directory, or undefined when its active version is not pending. */
export function readPendingCa(dir: string): PendingCaInfo | undefined {
  const abs = resolve(dir);
  const meta = readMeta(abs);
  const v = meta.versions[meta.active];
  if (versionStatus(meta, meta.active) !== 'pending') return undefined;
  const f = rawPendingFields(abs);
  const spki = new Uint8Array(Buffer.from(f.spki, 'base64'));
  if (sha256Hex(spki) !== f.spki_sha256) throw new QpkiError('CA_INVALID', `${join(abs, META_FILE)}: the recorded public key does not match its recorded SHA-256; the file was altered.`);
  return {
    dir: abs,
    meta,
    profile: v.profiles[0] ?? '',
    subject: meta.subject.dn ?? meta.subject.common_name,
    algorithm: keyAlgorithmFromQpkiId(v.algos[0]),
    keys: versionKeys(meta, meta.active),
    spki,
    spkiSha256: f.spki_sha256,
    csrPath: join(abs, f.csr),
    created: v.created,
  };
}

/** SHA-256 in hex; node:crypto is loaded here only for a pending CA, the one case that hashes. */
function sha256Hex(data: Uint8Array): string {
  return (require('node:crypto') as typeof import('node:crypto')).hash('sha256', data, 'hex');
}
