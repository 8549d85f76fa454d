/**
 * CA key versions, as QPKI lays them out (versions/<id>/{keys,certs,cross-signed}, ca.meta.json's
 * `active`, `activated_at`, `archived_at`, `cross_signed_by`): the key-rollover ceremony.
 *  - `ca rotate`: a new key and a new self-signed CA certificate under the same name, as a pending
 *    version; with cross-signing, the old key certifies the new key and the new key the old one,
 *    so that relying parties that trust either root reach certificates from both.
 *  - `ca activate`: the version that signs from now on; the one before is archived.
 * Where QPKI differs by a standard, ours follows the standard: QPKI's cross certificate reuses
 * the new certificate's serial under the same issuer name (RFC 5280 4.1.2.2 wants serials unique
 * per issuer), ours gives each cross certificate its own serial and lists it in index.txt.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AuthorityKeyIdentifier, Certificate, Name, Extension, id_ce_authorityKeyIdentifier, id_ce_subjectKeyIdentifier, KeyIdentifier, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { defaultSignatureAlgorithm, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from '../keys/algorithms';
import type { Signer } from '../keys/signer';
import { generateSoftwareKey, signerFromPkcs8, writeKeyFile } from '../keys/software';
import { verifySignature } from '../keys/verify';
import { Journal, type JournalKind } from '../journal/journal';
import { buildExtensions, subjectKeyIdentifier, type Profile } from '../profiles/index';
import { buildCertificate, newSerial, serialHex } from '../x509/certificate';
import { catalystParts, OID_ALT_SIGNATURE_ALGORITHM, OID_ALT_SIGNATURE_VALUE, OID_SUBJECT_ALT_PUBLIC_KEY_INFO } from '../x509/catalyst';
import { describeDocument } from '../x509/describe';
import { children, slice, whole } from '../x509/der';
import { pemOrDer, toPem } from '../x509/pem';
import { makeKey, nameString, opensslSubject, sha256Hex, type CertificateAuthority, type NewCaKey } from './authority';
import { lockCaDir, readText, syncPaths, writeFileAtomic } from './fsx';
import { appendIndexEntries, readIndexSerials } from './indexFile';
import { caCertPath, catalystCertName, qpkiAlgorithmId, readMeta, storageForMeta, versionStatus, writeMeta, type CaMeta, type KeyRef } from './meta';
import { caCertificateSerials, canonicalSerial, certFileName, nextSerialFileText, readSerialFile, serialBigInt, SERIAL_FILE } from './serials';

const DAY_MS = 86_400_000;

export interface VersionView {
  id: string;
  status: 'active' | 'pending' | 'archived';
  profiles: string[];
  algos: string[];
  created: string;
  activatedAt?: string;
  archivedAt?: string;
  crossSignedBy: string[];
  certificate?: { subject: string; serial: string; notBefore: string; notAfter: string; sha256: string };
  problem?: string;
}

/** Version ids in creation order (v1, v2, … as both tools name them). */
export function versionIds(meta: CaMeta): string[] {
  return Object.keys(meta.versions).sort((a, b) => (Number(a.slice(1)) || 0) - (Number(b.slice(1)) || 0) || a.localeCompare(b));
}

export function listVersions(dir: string): { dir: string; active: string; versions: VersionView[] } {
  const abs = resolve(dir);
  const meta = readMeta(abs);
  const versions = versionIds(meta).map((id): VersionView => {
    const v = meta.versions[id];
    const out: VersionView = {
      id, status: versionStatus(meta, id), profiles: v.profiles, algos: v.algos, created: v.created,
      activatedAt: v.activated_at, archivedAt: v.archived_at, crossSignedBy: v.cross_signed_by ?? [],
    };
    try {
      const d = describeDocument(readText(caCertPath(abs, meta, id)));
      out.certificate = { subject: d.subject ?? '', serial: d.serial ?? '', notBefore: d.notBefore ?? '', notAfter: d.notAfter ?? '', sha256: d.sha256 };
    } catch (e) {
      out.problem = e instanceof Error ? e.message : String(e);
    }
    return out;
  });
  return { dir: abs, active: meta.active, versions };
}

/**
 * Make `id` the version that signs. The active one is archived (QPKI's rule); ca.crt and, for a
 * root, chain.crt follow, so OpenSSL users see the certificate that now signs.
 */
export function activateVersion(dir: string, id: string, who?: { operator: string; witnesses: string[] }): { previous: string; active: string; certificate: string } {
  const abs = resolve(dir);
  const unlock = lockCaDir(abs);
  try {
    const meta = readMeta(abs);
    if (!meta.versions[id]) throw new QpkiError('INPUT_INVALID', `${abs} has no version "${id}" (it has ${versionIds(meta).join(', ')}).`);
    if (meta.active === id) throw new QpkiError('INPUT_INVALID', `Version ${id} is already the active one.`);
    const certPath = caCertPath(abs, meta, id);
    const pem = readText(certPath);
    const d = describeDocument(pem);
    const now = new Date().toISOString();
    const previous = meta.active;
    const next: CaMeta = {
      ...meta,
      active: id,
      versions: {
        ...meta.versions,
        [previous]: { ...meta.versions[previous], status: 'archived', archived_at: now },
        [id]: { ...meta.versions[id], status: 'active', activated_at: now, archived_at: undefined },
      },
    };
    // The certificate files first: a crash before the metadata leaves the old version active.
    if (existsSync(join(abs, 'ca.crt'))) writeFileAtomic(join(abs, 'ca.crt'), toPem(pemOrDer(pem, ['CERTIFICATE']), 'CERTIFICATE'));
    if (d.subject === d.issuer && existsSync(join(abs, 'chain.crt'))) writeFileAtomic(join(abs, 'chain.crt'), toPem(pemOrDer(pem, ['CERTIFICATE']), 'CERTIFICATE'));
    writeMeta(abs, next);
    Journal.open(abs, who).append('ca.activated', { version: id, previous, certificateSha256Fingerprint: d.sha256, serial: d.serial, subject: d.subject });
    return { previous, active: id, certificate: certPath };
  } finally {
    unlock();
  }
}

export interface RotateOptions {
  /** The CA, opened with its current key (needed to cross-sign; its lock is taken here). */
  current: CertificateAuthority;
  profile: Profile;
  vars: Record<string, unknown>;
  key: NewCaKey;
  /** The ML-DSA key of a Catalyst profile (always a file). */
  altKey?: { passphrase: string | null };
  crossSign?: boolean;
  now?: Date;
  journalPreamble?: { kind: JournalKind; facts: Record<string, unknown> }[];
}

export interface RotateResult {
  version: string;
  certificate: { serial: string; path: string; sha256: string; notAfter: Date };
  key: { storage: Signer['storage']; algorithm: KeyAlgorithm; publicKeySha256: string };
  crossSigned: { serial: string; path: string; sha256: string; issuedBy: string; subjectKey: string }[];
}

/** The id QPKI gives the next version: v<count + 1>, moved on if a stray directory has it. */
function nextVersionId(abs: string, meta: CaMeta): string {
  let n = Object.keys(meta.versions).length + 1;
  while (meta.versions[`v${n}`] || existsSync(join(abs, 'versions', `v${n}`))) n++;
  return `v${n}`;
}

/** Extensions of `cert` for a certificate of the same key issued by another key: AKI replaced, Catalyst ones rebuilt by the builder. */
function recertifiedExtensions(cert: Certificate, issuerCert: Certificate): Extension[] {
  const drop = new Set([id_ce_authorityKeyIdentifier, OID_SUBJECT_ALT_PUBLIC_KEY_INFO, OID_ALT_SIGNATURE_ALGORITHM, OID_ALT_SIGNATURE_VALUE]);
  const keep = (cert.tbsCertificate.extensions ?? []).filter((e) => !drop.has(e.extnID));
  const skiExt = issuerCert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  const issuerSpki = new Uint8Array(AsnConvert.serialize(issuerCert.tbsCertificate.subjectPublicKeyInfo));
  const keyId = skiExt ? new Uint8Array(AsnConvert.parse(skiExt.extnValue.buffer, SubjectKeyIdentifier).buffer) : subjectKeyIdentifier(issuerSpki);
  const aki = new Extension({ extnID: id_ce_authorityKeyIdentifier, critical: false, extnValue: new OctetString(new Uint8Array(AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(keyId).buffer as ArrayBuffer) })))) });
  return [...keep, aki];
}

/**
 * A new key version: key made (in the token or a file), its self-signed certificate, and with
 * `crossSign` the two cross certificates. Written under versions/<id>/ (QPKI's layout), the cross
 * certificates also listed in index.txt and certs/ (they are issued under the CA's name), the
 * serial file raised above all of them, then the metadata (the step that makes it count) and the
 * journal. The new version is pending: the old key keeps signing until `ca activate`.
 */
// eslint-disable-next-line max-lines-per-function -- the rotation steps in order, each with what undoes it if a later one fails
export async function rotateCa(opts: RotateOptions): Promise<RotateResult> {
  const ca = opts.current;
  const abs = ca.dir;
  const { profile } = opts;
  if (!profile.isCa) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is not a CA profile.`);
  const oldCert = AsnConvert.parse(ca.certDer, Certificate);
  const selfSigned = Buffer.from(AsnConvert.serialize(oldCert.tbsCertificate.issuer)).equals(Buffer.from(AsnConvert.serialize(oldCert.tbsCertificate.subject)));
  if (!selfSigned) throw new QpkiError('INPUT_INVALID', `${abs} is a subordinate CA: its new key needs a certificate from its parent. Make the new key with \`qpki ca csr\` and have the parent issue it; \`ca rotate\` rolls over a root.`);
  if (profile.altAlgorithm && !opts.altKey) throw new QpkiError('INPUT_INVALID', `Profile ${profile.name} is a Catalyst hybrid: an ${profile.altAlgorithm} key file is needed too.`);
  if (opts.crossSign && profile.altAlgorithm && !ca.altSigner) throw new QpkiError('INPUT_INVALID', 'Cross-signing into a Catalyst version needs a Catalyst current version (the old key would have no alternative signature to give).');
  const meta = readMeta(abs);
  const id = nextVersionId(abs, meta);
  const { resolveVariables } = await import('../profiles/index');
  const values = resolveVariables(profile, { cn: nameString(oldCert.tbsCertificate.subject), ...opts.vars });
  const now = opts.now ?? new Date();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const subject = oldCert.tbsCertificate.subject; // the CA's name stays, byte for byte
  const stage = join(abs, 'versions', `.${id}.staging`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync(join(stage, 'certs'), { recursive: true });
  const unlock = lockCaDir(abs);
  let made: { signer: Signer; generated?: unknown } | undefined;
  try {
    const algo = qpkiAlgorithmId(profile.algorithm);
    made = await newVersionKey(stage, id, opts.key, profile.algorithm, `ca.${algo}.key`);
    const signer = made.signer;
    const alt = profile.altAlgorithm ? (await newVersionKey(stage, id, { kind: 'software', passphrase: opts.altKey!.passphrase }, profile.altAlgorithm, `ca.${qpkiAlgorithmId(profile.altAlgorithm)}.key`)).signer : undefined;
    // Serials: unused in the directory (index, CA certificates of every version), random.
    const used = readIndexSerials(abs);
    for (const s of caCertificateSerials(abs, (pem) => describeDocument(pem).serial)) used.add(s);
    const fresh = () => {
      let s = newSerial();
      while (used.has(canonicalSerial(serialHex(s)))) s = newSerial();
      used.add(canonicalSerial(serialHex(s)));
      return s;
    };
    const sigAlg = profile.signatureAlgorithm && signatureFitsKey(profile.signatureAlgorithm, profile.algorithm) ? profile.signatureAlgorithm : defaultSignatureAlgorithm(profile.algorithm);
    const rootSerial = fresh();
    const notAfter = new Date(notBefore.getTime() + profile.validityDays * DAY_MS);
    const rootDer = await buildCertificate({
      serial: rootSerial, issuer: subject, subject, notBefore, notAfter, spki: signer.spki,
      extensions: buildExtensions(profile, values, { subjectSpki: signer.spki, issuerSpki: signer.spki }),
      signer, signatureAlgorithm: sigAlg,
      subjectAltSpki: alt?.spki, alt: alt ? { signer: alt, signatureAlgorithm: defaultSignatureAlgorithm(alt.keyAlgorithm) } : undefined,
    });
    const rootPem = toPem(rootDer, 'CERTIFICATE');
    const algos = [algo, ...(profile.altAlgorithm ? [qpkiAlgorithmId(profile.altAlgorithm)] : [])];
    writeFileAtomic(join(stage, 'certs', `ca.${algo}.pem`), rootPem);
    if (profile.altAlgorithm) {
      writeFileAtomic(join(stage, 'certs', `ca.${algos[1]}.pem`), rootPem);
      writeFileAtomic(join(stage, 'certs', catalystCertName({ profiles: [profile.name], algos, created: '' })), rootPem);
    }

    // Cross certificates: the old key certifies the new one (by-<old>, QPKI's name), and the new
    // key the old one (in the old version's cross-signed/, by-<new>); neither outlives its issuer.
    const cross = opts.crossSign ? await signCrossCertificates({ ca, oldCert, rootDer, signer, alt, sigAlg, subject, notBefore, fresh, id, active: meta.active }) : [];

    // On disk: the version directory, the cross certificates (with certs/ copies and index lines),
    // the serial file, then the metadata and the journal.
    renameSync(stage, join(abs, 'versions', id));
    for (const c of cross) {
      const pem = toPem(c.der, 'CERTIFICATE');
      writeFileAtomic(join(abs, c.file), pem, { createOnly: true });
      writeFileAtomic(join(abs, 'certs', certFileName(c.serial)), pem, { createOnly: true });
    }
    if (cross.length) appendIndexEntries(abs, cross.map((c) => ({ status: 'V' as const, expires: c.notAfter, serial: c.serial, file: 'unknown', subject: opensslSubject(subject) })));
    let highest = 0n;
    for (const s of used) if (serialBigInt(s) > highest) highest = serialBigInt(s);
    writeFileAtomic(join(abs, SERIAL_FILE), nextSerialFileText(readSerialFile(abs).next, highest));
    syncPaths([join(abs, 'index.txt'), join(abs, SERIAL_FILE), join(abs, 'certs'), join(abs, 'versions')]);
    const created = now.toISOString();
    const keys: KeyRef[] = [{ id: alt ? 'classical' : 'default', algorithm: algo, storage: storageForMeta(signer.storage) }];
    if (alt) keys.push({ id: 'pqc', algorithm: algos[1], storage: storageForMeta(alt.storage) });
    const fresh2 = readMeta(abs);
    writeMeta(abs, {
      ...fresh2,
      versions: {
        ...fresh2.versions,
        ...(cross.length ? { [meta.active]: { ...fresh2.versions[meta.active], cross_signed_by: [...(fresh2.versions[meta.active].cross_signed_by ?? []), id] } } : {}),
        [id]: { profiles: [profile.name], algos, status: 'pending', created, keys, signature_algorithm: sigAlg, ...(cross.length ? { cross_signed_by: [meta.active] } : {}) },
      },
    });
    const rootSha = sha256Hex(rootDer);
    const j = ca.journal;
    j.appendAll([
      ...(opts.journalPreamble ?? []),
      { kind: made.generated ? 'key.generated' : 'key.selected', facts: { role: `CA key, version ${id}`, algorithm: profile.algorithm, storage: signer.storage, publicKeySha256Fingerprint: sha256Hex(signer.spki), existing: !made.generated } },
      ...(alt ? [{ kind: 'key.generated' as const, facts: { role: `CA alternative (post-quantum) key, version ${id}`, algorithm: alt.keyAlgorithm, storage: alt.storage, publicKeySha256Fingerprint: sha256Hex(alt.spki) } }] : []),
      { kind: 'certificate.signed', facts: { serial: canonicalSerial(serialHex(rootSerial)), profile: profile.name, subject: nameString(subject), issuer: nameString(subject), notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString(), certificateSha256Fingerprint: rootSha, path: `versions/${id}/certs/ca.${algo}.pem`, selfSigned: true, hybrid: !!alt, version: id } },
      ...cross.map((c) => ({ kind: 'certificate.signed' as const, facts: { serial: c.serial, profile: 'cross-certificate', subject: c.subject, issuer: c.subject, notBefore: notBefore.toISOString(), notAfter: c.notAfter.toISOString(), certificateSha256Fingerprint: sha256Hex(c.der), path: `certs/${certFileName(c.serial)}`, crossCertificate: { issuedByVersion: c.issuedBy, certifiesVersion: c.subjectKey, file: c.file }, certificateBase64: Buffer.from(c.der).toString('base64') } })),
      { kind: 'ca.rotated', facts: { version: id, previous: meta.active, profile: profile.name, status: 'pending', certificateSha256Fingerprint: rootSha, crossSigned: cross.length > 0 } },
    ]);
    return {
      version: id,
      certificate: { serial: canonicalSerial(serialHex(rootSerial)), path: join(abs, 'versions', id, 'certs', `ca.${algo}.pem`), sha256: rootSha, notAfter },
      key: { storage: signer.storage, algorithm: profile.algorithm, publicKeySha256: sha256Hex(signer.spki) },
      crossSigned: cross.map((c) => ({ serial: c.serial, path: join(abs, c.file), sha256: sha256Hex(c.der), issuedBy: c.issuedBy, subjectKey: c.subjectKey })),
    };
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw e;
  } finally {
    unlock();
  }
}

interface CrossCertificate { der: Uint8Array; serial: string; file: string; issuedBy: string; subjectKey: string; notAfter: Date; subject: string }

/** The two cross certificates of a rollover, each verified under the key meant to sign it before anything is written. */
async function signCrossCertificates(c: {
  ca: CertificateAuthority; oldCert: Certificate; rootDer: Uint8Array; signer: Signer; alt: Signer | undefined; sigAlg: SignatureAlgorithm;
  subject: Name; notBefore: Date; fresh: () => Uint8Array; id: string; active: string;
}): Promise<CrossCertificate[]> {
  const { ca, oldCert, rootDer, signer, alt, sigAlg, subject, notBefore, fresh, id, active } = c;
  const cross: CrossCertificate[] = [];
  const newCert = AsnConvert.parse(rootDer, Certificate);
  const pairs: { subjectCert: Certificate; subjectSpki: Uint8Array; subjectAlt?: Uint8Array; issuerCert: Certificate; issuer: Signer; issuerAlt?: Signer; file: string; issuedBy: string; subjectKey: string }[] = [
    { subjectCert: newCert, subjectSpki: signer.spki, subjectAlt: alt?.spki, issuerCert: oldCert, issuer: ca.signer, issuerAlt: ca.altSigner, file: join('versions', id, 'cross-signed', `by-${active}.crt`), issuedBy: active, subjectKey: id },
    { subjectCert: oldCert, subjectSpki: ca.signer.spki, subjectAlt: catalystParts(oldCert.tbsCertificate.extensions).altSpki, issuerCert: newCert, issuer: signer, issuerAlt: alt, file: join('versions', active, 'cross-signed', `by-${id}.crt`), issuedBy: id, subjectKey: active },
  ];
  for (const p of pairs) {
    const serial = fresh();
    const end = Math.min(p.subjectCert.tbsCertificate.validity.notAfter.getTime().getTime(), p.issuerCert.tbsCertificate.validity.notAfter.getTime().getTime());
    const der = await buildCertificate({
      serial, issuer: subject, subject, notBefore, notAfter: new Date(end), spki: p.subjectSpki,
      extensions: recertifiedExtensions(p.subjectCert, p.issuerCert),
      signer: p.issuer, signatureAlgorithm: p.issuer === ca.signer ? ca.signatureAlgorithm : sigAlg,
      subjectAltSpki: p.issuerAlt ? p.subjectAlt : undefined,
      alt: p.issuerAlt && p.subjectAlt ? { signer: p.issuerAlt, signatureAlgorithm: defaultSignatureAlgorithm(p.issuerAlt.keyAlgorithm) } : undefined,
    });
    // Proof before anything is written: it verifies under the key that was meant to sign it.
    const [tbsT, , sigT] = children(der, whole(der));
    if (!verifySignature(p.issuer.spki, p.issuer === ca.signer ? ca.signatureAlgorithm : sigAlg, slice(der, tbsT), der.subarray(sigT.contentStart + 1, sigT.end))) {
      throw new QpkiError('KEY_CHECK_FAILED', `The cross certificate by ${p.issuedBy} does not verify under that key.`);
    }
    cross.push({ der, serial: canonicalSerial(serialHex(serial)), file: p.file, issuedBy: p.issuedBy, subjectKey: p.subjectKey, notAfter: new Date(end), subject: nameString(subject) });
  }
  return cross;
}

/** A key for a new version: in the token (authority's makeKey) or a file under versions/<id>/keys/. */
async function newVersionKey(stage: string, id: string, key: NewCaKey, algorithm: KeyAlgorithm, keyName: string): Promise<{ signer: Signer; generated?: unknown }> {
  if (key.kind === 'pkcs11') return makeKey(stage, key, algorithm, keyName);
  const { pkcs8 } = generateSoftwareKey(algorithm);
  writeKeyFile(join(stage, 'keys', keyName), pkcs8, key.passphrase);
  const signer = signerFromPkcs8(pkcs8, { type: 'software', path: `versions/${id}/keys/${keyName}`, encrypted: key.passphrase !== null });
  const probe = new TextEncoder().encode(`qpki key rotation self-test ${keyName} ${new Date().toISOString()}`);
  const sigAlg = defaultSignatureAlgorithm(algorithm);
  if (!verifySignature(signer.spki, sigAlg, probe, await signer.sign(sigAlg, probe))) throw new QpkiError('KEY_CHECK_FAILED', `The test signature of the new ${algorithm} key did not verify.`);
  return { signer, generated: { testSignatureVerified: true } };
}
