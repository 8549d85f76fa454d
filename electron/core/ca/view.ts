/**
 * Reading a CA directory without its keys: its metadata, its certificate's facts, its index, where
 * its keys are, and a pending CA's request. This is what `ca info` and the app's CA view show.
 * It is apart from authority.ts so that reading a CA does not load what signing needs (profiles,
 * lints, PKCS#11, software keys, node:crypto): `ca info` loads none of them.
 */
import { join, resolve } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import * as z from 'zod/mini';
import { QpkiError } from '../errors';
import type { KeyAlgorithm } from '../keys/algorithms';
import { nameString } from '../x509/names';
import { pemOrDer, toPem } from '../x509/pem';
import { readText } from './fsx';
import { readIndex, type IndexEntry } from './indexFile';
import { resolveKeyStorage, type ResolvedStorage } from './keyStorage';
import { caCertPath, keyAlgorithmFromQpkiId, META_FILE, readMeta, usableVersion, versionKeys, versionStatus, type CaMeta, type KeyRef } from './meta';
import { canonicalSerial } from './serials';

type CertFacts = ReturnType<typeof parseCertFacts>;
/**
 * Facts of a certificate already read, by its bytes' object: opening a CA reads its certificate
 * once and parsed it three times (the key check, the directory, the serials in use), a few
 * milliseconds each on a command's cold code. Keyed by the array itself, never by equal bytes
 * elsewhere, and nothing here changes a certificate's bytes after reading them.
 */
const certFactsRead = new WeakMap<Uint8Array, CertFacts>();

export function certFacts(der: Uint8Array): CertFacts {
  let f = certFactsRead.get(der);
  if (!f) certFactsRead.set(der, (f = parseCertFacts(der)));
  return f;
}

function parseCertFacts(der: Uint8Array) {
  const c = AsnConvert.parse(der, Certificate);
  const t = c.tbsCertificate;
  return {
    subject: nameString(t.subject),
    issuer: nameString(t.issuer),
    notBefore: t.validity.notBefore.getTime(),
    notAfter: t.validity.notAfter.getTime(),
    spki: new Uint8Array(AsnConvert.serialize(t.subjectPublicKeyInfo)),
    serial: canonicalSerial(Buffer.from(t.serialNumber).toString('hex')),
    tbs: t,
  };
}


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
  const f = certFacts(certDer);
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
