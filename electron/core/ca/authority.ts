import { hash } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints, id_ce_subjectKeyIdentifier, Name, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { defaultSignatureAlgorithm, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from '../keys/algorithms';
import type { KeyStorageRef, Signer } from '../keys/signer';
import { keyAlgorithmOfSpki, signatureAlgorithmFromObject, verifySignature } from '../keys/verify';
import { isMlDsa } from '../keys/mldsa';
import { CKM_ML_DSA } from '../pkcs11/constants';
import { assertRecordable, Journal, type JournalKind } from '../journal/journal';
import type { PinProvider, TokenSession } from '../pkcs11/index';
import { buildExtensions, buildSubject, renderSubject, resolveVariables, subjectKeyIdentifier, validityDaysFor, type Profile, type VariableValues } from '../profiles/index';
import { newSerial, prepareCertificate, serialHex, wholeSeconds } from '../x509/certificate';
import { catalystParts } from '../x509/catalyst';
import { checkSigned, checkSignedAsync, signPrepared, type IssuerKeys, type PreparedDocument } from '../x509/tbs';
import { prepareCrl, type RevocationReason } from '../x509/crl';
import { pemOrDer, toPem } from '../x509/pem';
import { lockCaDir, overwriteSmallFile, readText, syncPaths, writeFileAtomic, makeStagingDir } from './fsx';
import { makeDirs } from '../dirs';
import { appendIndexEntries, readIndex, readIndexSerials, type IndexEntry } from './indexFile';
import { revokeInIndex } from './revoke';
import { lintAfterSigning, lintBeforeSigning, lintFacts, refuseIfBlocked, type LintPolicy, type LintReport } from '../lint/gate';
import { loadProfile } from '../profiles/loader';
import { activeVersion, caCertPath, catalystCertName, DEFAULT_PIN_ENV, HSM_CONFIG_FILE, hsmYamlFor, qpkiAlgorithmId, readMeta, storageForMeta, versionKeys, writeMeta, type CaMeta, type KeyRef, usableVersion } from './meta';
import { signerForRef, type CaKeyAccess } from './caKeys';
import { certFacts } from './certFacts';
import { caCertificateSerials, canonicalSerial, certFileName, nextSerialFileText, readSerialFile, serialBigInt, serialFromBigInt, SERIAL_FILE } from './serials';
import { nameString, SHORT } from '../x509/names';

/** keys/software (PKCS#8, key files, ML-DSA) when a software key is made or opened: a CA whose key is in a token never needs it. */
const softwareKeys = () => require('../keys/software') as typeof import('../keys/software');

const DAY_MS = 86_400_000;

/** Requests written together at most: bounds one batch's memory and the work a crash interrupts. */
const MAX_BATCH = 256;

export interface IssueRequest {
  profile: Profile;
  vars: Record<string, unknown>;
  spki: Uint8Array;
  subjectAltSpki?: Uint8Array;
  now?: Date;
  source?: string;
}

interface PreparedIssue {
  opts: IssueRequest;
  subject: Name;
  subjectString: string;
  days: number;
  extensions: ReturnType<typeof buildExtensions>;
}

/**
 * A certificate fixed before it is signed: serial, dates, every extension, encoded as the exact
 * TBS the review shows. Issued by the CA that prepared it (its certificate's hash binds them).
 */
export interface PreparedCertificate {
  serial: string;
  serialBytes: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  subject: Name;
  subjectString: string;
  profile: Profile;
  source: string;
  warnings: string[];
  document: PreparedDocument;
  /** SHA-256 of the issuing CA's certificate. */
  issuerCertSha256: string;
}

/** A CRL fixed before it is signed, with what it was built from (checked again when it is signed). */
export interface PreparedCrl {
  number: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: { serial: string; date: Date; reason?: RevocationReason }[];
  document: PreparedDocument;
  issuerCertSha256: string;
}

interface Waiter extends PreparedIssue {
  /** Set when the certificate was prepared (and reviewed) before it was queued. */
  fixed?: PreparedCertificate;
  resolve(c: IssuedCertificate): void;
  reject(e: unknown): void;
}

interface BatchItem {
  w: Waiter;
  prepared: PreparedCertificate;
  lint?: LintReport;
  lintAfter?: LintReport;
  der?: Uint8Array;
  pem?: string;
}

/** The highest of a set of hex serials (0 for none). */
function highestSerial(serials: Iterable<string>): bigint {
  let h = 0n;
  for (const s of serials) {
    const n = serialBigInt(s);
    if (n > h) h = n;
  }
  return h;
}

export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** How a new CA key is made or found. */
/**
 * The alternative (ML-DSA) key of a new Catalyst CA: a software file with this passphrase (null:
 * unencrypted), or a key in a token, the classical key's or another one (PKCS#11 3.2 CKM_ML_DSA).
 */
export type NewAltCaKey = { passphrase: string | null } | Extract<NewCaKey, { kind: 'pkcs11' }>;

export type NewCaKey =
  /**
   * `expectedFingerprint`: an existing key's public key SHA-256 as a journal recorded it at its generation.
   * `pinEnv`: the variable the hsm.yaml written for QPKI names (default HSM_PIN); never the PIN.
   */
  | { kind: 'pkcs11'; session: TokenSession; label: string; id?: string; useExisting?: boolean; expectedFingerprint?: { sha256: string; where: string }; pinEnv?: string }
  | { kind: 'software'; passphrase: string | null };

// Finding and unlocking a CA's keys (ours and QPKI's storage forms) lives in caKeys.ts.
export type { CaKeyAccess } from './caKeys';

export interface IssuedCertificate {
  /** Our lints on the signed certificate (absent where no gate ran). */
  lint?: LintReport;
  serial: string;
  der: Uint8Array;
  pem: string;
  path: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  fingerprint: string;
  profile: string;
  warnings: string[];
}

export interface InitCaResult {
  dir: string;
  certificate: IssuedCertificate;
  key: { storage: KeyStorageRef; algorithm: KeyAlgorithm; publicKeyFingerprint: string; generated?: { attributes?: Record<string, boolean>; testSignatureVerified: boolean } };
  altKey?: { storage: KeyStorageRef; algorithm: KeyAlgorithm; publicKeyFingerprint: string; generated?: { attributes?: Record<string, boolean>; testSignatureVerified: boolean } };
}

// Reading a CA directory without its keys (ca info, the app's CA view) is in view.ts.
export { caKeyStorages, describeCaDir } from './view';

// Names are shown in one order everywhere (x509/names.ts): the review, the inspector, the CA's facts, `cert show`.
export { nameString };

/** The subject as index.txt lists it (OpenSSL's one-line form). */
export function opensslSubject(n: Name): string {
  return [...n].map((rdn) => rdn.map((atv) => `/${SHORT[atv.type] ?? atv.type}=${atv.value.toString().replace(/\//g, '\\/')}`).join('+')).join('');
}

/** Render the subject and validate variables once, so errors name the variable before anything is signed. */
export function prepareSubject(profile: Profile, vars: Record<string, unknown>): { values: VariableValues; subject: Name; days: number } {
  const values = resolveVariables(profile, vars);
  const subject = buildSubject(profile, values);
  for (const v of Object.values(renderSubject(profile, values))) {
    if (v && /[\t\n\r]/.test(v)) throw new QpkiError('VARIABLE_INVALID', 'Subject values must not contain tabs or line breaks.');
  }
  return { values, subject, days: validityDaysFor(profile, values) };
}

function signatureFor(profile: Profile | undefined, key: KeyAlgorithm): SignatureAlgorithm {
  const want = profile?.signatureAlgorithm;
  return want && signatureFitsKey(want, key) ? want : defaultSignatureAlgorithm(key);
}

/**
 * A CA directory read without unlocking its key(s): enough to prepare what it will sign (the
 * exact TBS of a certificate or CRL), so a review can be shown before any key is touched.
 */
export class CaDirectory {
  readonly dir: string;
  readonly meta: CaMeta;
  readonly certDer: Uint8Array;
  readonly certSha256: string;
  readonly subjectName: Name;
  readonly subjectString: string;
  readonly notAfter: Date;
  /** pathLenConstraint of this CA's own certificate (undefined: none). */
  readonly pathLen?: number;
  /** The CA's public key(s), as its certificate carries them. */
  readonly spki: Uint8Array;
  readonly altSpki?: Uint8Array;
  private root?: boolean;
  /** The subjectKeyIdentifier of this CA's certificate: what the AKI of all it signs repeats. */
  readonly keyIdentifier: Uint8Array;

  constructor(dir: string, meta: CaMeta, certDer: Uint8Array) {
    this.dir = dir;
    this.meta = meta;
    this.certDer = certDer;
    this.certSha256 = sha256Hex(certDer);
    const f = certFacts(certDer);
    this.subjectName = f.tbs.subject;
    this.subjectString = f.subject;
    this.notAfter = new Date(f.notAfter);
    this.spki = f.spki;
    this.altSpki = catalystParts(f.tbs.extensions).altSpki;
    const bc = f.tbs.extensions?.find((e) => e.extnID === id_ce_basicConstraints);
    this.pathLen = bc ? AsnConvert.parse(bc.extnValue.buffer, BasicConstraints).pathLenConstraint : undefined;
    // QPKI (Go) computes its SKIs another way than RFC 7093's method 1 does: repeat the issuer's own.
    const ski = f.tbs.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
    this.keyIdentifier = ski ? new Uint8Array(AsnConvert.parse(ski.extnValue.buffer, SubjectKeyIdentifier).buffer) : subjectKeyIdentifier(f.spki);
  }

  /**
   * Self-issued and signed by its own key: a root. Found when first asked, not on every open: the
   * signature check is a public-key operation that most commands never need.
   */
  get isRoot(): boolean {
    if (this.root === undefined) {
      const f = certFacts(this.certDer);
      this.root = f.subject === f.issuer && isSelfSigned(this.certDer, f.spki);
    }
    return this.root;
  }

  static read(dir: string): CaDirectory {
    const abs = resolve(dir);
    const meta = readMeta(abs);
    usableVersion(abs, meta);
    return new CaDirectory(abs, meta, pemOrDer(readText(caCertPath(abs, meta)), ['CERTIFICATE']));
  }

  /** RFC 5280 4.2.1.9: a CA certificate with pathLenConstraint 0 may be followed by end-entity certificates only. */
  assertMayIssue(profile: Profile): void {
    if (profile.isCa && this.pathLen === 0) {
      throw new QpkiError('PROFILE_INVALID', `${this.subjectString} has pathLenConstraint 0: it may issue end-entity certificates only, not a CA certificate (profile ${profile.name}). Issue this CA from a CA higher in the chain.`);
    }
  }

  get keyAlgorithm(): KeyAlgorithm {
    return keyAlgorithmOfSpki(this.spki);
  }

  get signatureAlgorithm(): SignatureAlgorithm {
    const s = (activeVersion(this.meta).signature_algorithm as SignatureAlgorithm | undefined) ?? this.ownSignatureAlgorithm;
    return s && signatureFitsKey(s, this.keyAlgorithm) ? s : defaultSignatureAlgorithm(this.keyAlgorithm);
  }

  /**
   * A root's own certificate says how this CA signs when its metadata does not (QPKI records no
   * signature_algorithm; its RSA CAs sign SHA-256 PKCS#1 v1.5, not our default for the key).
   */
  private get ownSignatureAlgorithm(): SignatureAlgorithm | undefined {
    const t = AsnConvert.parse(this.certDer, Certificate);
    if (!Buffer.from(AsnConvert.serialize(t.tbsCertificate.issuer)).equals(Buffer.from(AsnConvert.serialize(t.tbsCertificate.subject)))) return undefined;
    try {
      return signatureAlgorithmFromObject(t.signatureAlgorithm);
    } catch {
      return undefined;
    }
  }

  /** A profile's signature block applies when it fits this CA's key (rsa-pss/tls-server from an RSA CA); else the CA's own. */
  signatureFor(profile: Profile): SignatureAlgorithm {
    const want = profile.signatureAlgorithm;
    return want && signatureFitsKey(want, this.keyAlgorithm) ? want : this.signatureAlgorithm;
  }

  /** The Catalyst alternative signature algorithm, when the CA has an alternative key. */
  get altSignatureAlgorithm(): SignatureAlgorithm | undefined {
    return this.altSpki ? defaultSignatureAlgorithm(keyAlgorithmOfSpki(this.altSpki)) : undefined;
  }

  get certPem(): string {
    return toPem(this.certDer, 'CERTIFICATE');
  }

  /** Everything that can be checked before a serial is drawn: profile, variables, key, extensions. */
  prepareRequest(opts: IssueRequest): PreparedIssue {
    const { profile } = opts;
    this.assertMayIssue(profile);
    const { values, subject, days } = prepareSubject(profile, opts.vars);
    keyAlgorithmOfSpki(opts.spki); // refuses keys we cannot describe
    if (profile.altAlgorithm && !opts.subjectAltSpki) {
      throw new QpkiError('INPUT_INVALID', `Profile ${profile.name} is a Catalyst hybrid: the subject needs an alternative ${profile.altAlgorithm} public key.`);
    }
    const extensions = buildExtensions(profile, values, { subjectSpki: opts.spki, issuerSpki: this.spki, issuerKeyId: this.keyIdentifier });
    return { opts, subject, subjectString: nameString(subject), days, extensions };
  }

  /**
   * The certificate this CA would issue for `opts`, fixed: a fresh serial (not one index.txt
   * lists, nor one in `avoid`), dates from `opts.now`, validity cut to the CA's own, every
   * extension. Nothing is written and no key is used.
   */
  prepareCertificate(opts: IssueRequest, avoid?: Set<string>): PreparedCertificate {
    return this.fixCertificate(this.prepareRequest(opts), avoid ?? this.usedSerials());
  }

  /** Every serial this CA must not give again: index.txt's, and its own certificates' (a root's is its own issuer's). */
  usedSerials(): Set<string> {
    const serials = readIndexSerials(this.dir);
    const own = Buffer.from(this.certDer.buffer, this.certDer.byteOffset, this.certDer.byteLength);
    const serialOf = (pem: string) => {
      const der = pemOrDer(pem, ['CERTIFICATE']);
      return certFacts(own.equals(der) ? this.certDer : der).serial;
    };
    for (const s of caCertificateSerials(this.dir, serialOf)) serials.add(s);
    return serials;
  }

  /** Serial, dates and TBS for a request already checked (prepareRequest). */
  fixCertificate(p: PreparedIssue, used: Set<string>): PreparedCertificate {
    const warnings: string[] = [];
    const now = p.opts.now ?? new Date();
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
    let notAfter = new Date(notBefore.getTime() + p.days * DAY_MS);
    if (notAfter > this.notAfter) {
      notAfter = this.notAfter;
      warnings.push(`Validity shortened to end with the CA certificate (${this.notAfter.toISOString()}).`);
    }
    let serialBytes = newSerial();
    while (used.has(canonicalSerial(serialHex(serialBytes)))) serialBytes = newSerial();
    const altSignatureAlgorithm = this.altSignatureAlgorithm;
    const document = prepareCertificate({
      serial: serialBytes, issuer: this.subjectName, subject: p.subject, notBefore, notAfter, spki: p.opts.spki, extensions: p.extensions,
      signatureAlgorithm: this.signatureFor(p.opts.profile), subjectAltSpki: p.opts.subjectAltSpki, ...(altSignatureAlgorithm ? { altSignatureAlgorithm } : {}),
    });
    return {
      serial: canonicalSerial(serialHex(serialBytes)), serialBytes, notBefore, notAfter, subject: p.subject, subjectString: p.subjectString,
      profile: p.opts.profile, source: p.opts.source ?? 'request', warnings, document, issuerCertSha256: this.certSha256,
    };
  }

  /** The next CRL, fixed: its number, dates and every revoked certificate index.txt lists now. */
  prepareCrl(opts: { days: number; now?: Date }): PreparedCrl {
    if (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > 3660) throw new QpkiError('INPUT_INVALID', 'CRL validity must be a whole number of days between 1 and 3660.');
    const now = wholeSeconds(opts.now ?? new Date());
    const number = this.crlNumber();
    const revoked = this.revokedEntries();
    const nextUpdate = new Date(now.getTime() + opts.days * DAY_MS);
    const altSignatureAlgorithm = this.altSignatureAlgorithm;
    const document = prepareCrl({
      issuer: this.subjectName, issuerKeyId: this.keyIdentifier, thisUpdate: now, nextUpdate, crlNumber: number,
      revoked: revoked.map((r) => ({ serial: serialBytesOf(r.serial), date: r.date, reason: r.reason })),
      signatureAlgorithm: this.signatureAlgorithm, ...(altSignatureAlgorithm ? { altSignatureAlgorithm } : {}),
    });
    return { number, thisUpdate: now, nextUpdate, revoked, document, issuerCertSha256: this.certSha256 };
  }

  /** The lint policy of a certificate this CA issues under `profile`: the profile's PKI and accepted lints. */
  certificatePolicy(profile: Profile, external = false): LintPolicy {
    return { pki: profile.pki, accepted: profile.lintAccept, issuerDer: this.certDer, external };
  }

  /**
   * The lint policy of this CA's CRLs: its own profile's PKI and accepted lints (a CA whose
   * profile is not at hand, another tool's, is linted under the private-PKI rules).
   */
  crlPolicy(external = false): LintPolicy {
    let profile: Profile | undefined;
    try {
      const name = activeVersion(this.meta).profiles?.[0];
      profile = name ? loadProfile(name) : undefined;
    } catch {
      profile = undefined;
    }
    return { pki: profile?.pki ?? 'private', accepted: profile?.lintAccept ?? [], issuerDer: this.certDer, external };
  }

  /** The issuer's key algorithms: the shape of the lint copy's signature values (or its throwaway keys). */
  protected lintKeyAlgorithms(): [KeyAlgorithm, KeyAlgorithm | undefined] {
    return [this.keyAlgorithm, this.altSpki ? keyAlgorithmOfSpki(this.altSpki) : undefined];
  }

  /** The lint report of a prepared certificate: its exact TBS, in a lint copy (lintBeforeSigning). */
  async lintCertificate(p: PreparedCertificate, external = false): Promise<LintReport> {
    return lintBeforeSigning(p.document, ...this.lintKeyAlgorithms(), this.certificatePolicy(p.profile, external));
  }

  /** The lint report of a prepared CRL. */
  async lintCrl(p: PreparedCrl, external = false): Promise<LintReport> {
    return lintBeforeSigning(p.document, ...this.lintKeyAlgorithms(), this.crlPolicy(external));
  }

  /** The number the next CRL takes (the crlnumber file). */
  protected crlNumber(): bigint {
    const numPath = join(this.dir, 'crlnumber');
    const current = existsSync(numPath) ? readText(numPath).trim() : '01';
    if (!/^[0-9A-Fa-f]+$/.test(current)) throw new QpkiError('CA_INVALID', 'The crlnumber file is corrupt.');
    return BigInt('0x' + current);
  }

  protected revokedEntries(): { serial: string; date: Date; reason?: RevocationReason }[] {
    return readIndex(this.dir)
      .filter((e) => e.status === 'R' && e.revoked)
      .map((e) => ({ serial: canonicalSerial(e.serial), date: e.revoked!.date, reason: e.revoked!.reason }));
  }
}

function serialBytesOf(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex'));
}

function isSelfSigned(certDer: Uint8Array, spki: Uint8Array): boolean {
  try {
    const c = AsnConvert.parse(certDer, Certificate);
    const alg = signatureAlgorithmFromObject(c.signatureAlgorithm);
    const tbs = new Uint8Array(AsnConvert.serialize(c.tbsCertificate));
    return verifySignature(spki, alg, tbs, new Uint8Array(c.signatureValue));
  } catch {
    return false;
  }
}

/**
 * An open CA directory with its signing key(s). Every change goes through here, under the
 * directory lock, written atomically and recorded in the journal.
 */
export class CertificateAuthority extends CaDirectory {
  readonly signer: Signer;
  readonly altSigner?: Signer;
  readonly journal: Journal;

  constructor(dir: string, meta: CaMeta, certDer: Uint8Array, signer: Signer, altSigner: Signer | undefined, journal: Journal) {
    super(dir, meta, certDer);
    this.signer = signer;
    this.altSigner = altSigner;
    this.journal = journal;
    if (!Buffer.from(this.spki).equals(Buffer.from(signer.spki))) {
      throw new QpkiError('KEY_INVALID', `The key found for this CA does not match the public key in its certificate (${dir}). Refusing to sign with it.`);
    }
    if (altSigner && (!this.altSpki || !Buffer.from(this.altSpki).equals(Buffer.from(altSigner.spki)))) {
      throw new QpkiError('KEY_INVALID', `The alternative key found for this CA does not match the alternative public key in its certificate (${dir}). Refusing to sign with it.`);
    }
  }

  private issuerKeys(): IssuerKeys {
    return { spki: this.spki, ...(this.altSpki ? { altSpki: this.altSpki } : {}) };
  }

  /** The chain from this CA up to its root, PEM, this CA first. */
  chainPem(): string {
    const p = join(this.dir, 'chain.crt');
    return existsSync(p) ? readText(p) : this.certPem;
  }

  /** Issued serials as listed in index.txt, re-read only when the file changed under us. */
  private indexCache?: { serials: Set<string>; size: number; mtimeMs: number; highest: bigint };
  /** Serializes issuances in this process; the directory lock keeps other processes out. */
  private queue: Promise<unknown> = Promise.resolve();
  /** One fsync barrier shared by the issuances that finished since the last one (group commit). */
  private pendingSync?: Promise<void>;

  private issuedSerials(): Set<string> {
    const p = join(this.dir, 'index.txt');
    const st = existsSync(p) ? statSync(p) : undefined;
    const c = this.indexCache;
    if (c && st && c.size === st.size && c.mtimeMs === st.mtimeMs) return c.serials;
    const serials = this.usedSerials();
    this.indexCache = { serials, size: st?.size ?? 0, mtimeMs: st?.mtimeMs ?? 0, highest: highestSerial(serials) };
    return serials;
  }

  /** The directory lock, taken at the first change and kept until close(): one writer per CA. */
  private unlock?: () => void;

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      this.unlock ??= lockCaDir(this.dir);
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Release the directory lock (the CA object stays usable and takes it again when needed). */
  async close(): Promise<void> {
    await this.queue;
    if (this.unflushed) await this.flush();
    await this.pendingSync;
    this.unlock?.();
    this.unlock = undefined;
  }

  /**
   * Make the issuances written so far durable: the journal (which holds each certificate), the
   * index, the serial file and the directories that name the new certificate files. Issuances that complete together share one
   * barrier, so a busy CA pays one flush per batch rather than several per certificate.
   */
  private durable(): Promise<void> {
    if (this.durability === 'deferred') {
      this.unflushed = true;
      return Promise.resolve();
    }
    return this.flush();
  }

  /**
   * `each` (the default, and what a ceremony wants): an issuance returns once it is on disk.
   * `deferred` (bulk runs, rehearsals, load tests): writes stay whole-or-nothing if the process
   * dies, but reach the disk at the next `flush()` or `close()`, so a power cut can lose the
   * issuances since then.
   */
  durability: 'each' | 'deferred' = 'each';
  private unflushed = false;

  /** Flush everything written so far (shared by callers that arrive together). */
  flush(): Promise<void> {
    this.unflushed = false;
    this.pendingSync ??= new Promise<void>((resolveSync, rejectSync) => {
      setImmediate(() => {
        this.pendingSync = undefined;
        try {
          this.journal.sync();
          // The serial file is rewritten in place, so its contents need the flush as much as the index's.
          syncPaths([join(this.dir, 'index.txt'), join(this.dir, 'serial'), join(this.dir, 'certs'), this.dir]);
          resolveSync();
        } catch (e) {
          rejectSync(e);
        }
      });
    });
    return this.pendingSync;
  }

  /**
   * Issue a certificate for `spki` from `profile`. The profile decides the extensions and the
   * subject; validity never runs past the CA's own. The journal records the serial before the
   * token signs, so a crash mid-issuance is accounted for. The promise resolves once the
   * certificate, the index line and the journal entries are on disk.
   *
   * Requests that arrive while a batch is being written form the next batch (group commit):
   * one journal write for their `issuance.started` entries, one for their `certificate.signed`
   * entries, one index append, one serial-file write and one flush, however many callers wait.
   */
  async issue(opts: IssueRequest): Promise<IssuedCertificate> {
    return this.enqueue(this.prepareRequest(opts));
  }

  /**
   * Issue a certificate prepared (and reviewed) before: exactly its TBS is signed, under its
   * serial, which must still be unused. Same journal, order and durability as `issue`.
   */
  async issuePrepared(fixed: PreparedCertificate): Promise<IssuedCertificate> {
    if (fixed.issuerCertSha256 !== this.certSha256) throw new QpkiError('INPUT_INVALID', `This certificate was prepared for another CA than ${this.subjectString}.`);
    return this.enqueue({ opts: { profile: fixed.profile, vars: {}, spki: new Uint8Array(0), source: fixed.source }, subject: fixed.subject, subjectString: fixed.subjectString, days: 0, extensions: [] }, fixed);
  }

  private enqueue(prepared: PreparedIssue, fixed?: PreparedCertificate): Promise<IssuedCertificate> {
    const done = new Promise<IssuedCertificate>((resolveIssue, rejectIssue) => {
      this.waiting.push({ ...prepared, ...(fixed ? { fixed } : {}), resolve: resolveIssue, reject: rejectIssue });
    });
    if (!this.drainQueued) this.queueDrain();
    return done;
  }

  /** Requests waiting for the next batch, and whether a batch is already queued to take them. */
  private waiting: Waiter[] = [];
  private drainQueued = false;

  /** Queue a batch behind whatever holds the CA now; it takes every request waiting when it starts. */
  private queueDrain(): void {
    this.drainQueued = true;
    let started = false;
    this.exclusive(async () => {
      started = true;
      this.drainQueued = false;
      const batch = this.waiting.splice(0, MAX_BATCH);
      if (this.waiting.length) this.queueDrain();
      await this.writeBatch(batch);
    }).catch((e: unknown) => {
      // The directory lock could not be taken (another process holds the CA): every request
      // waiting for it fails with that reason instead of waiting forever.
      if (started) return;
      this.drainQueued = false;
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  /**
   * Write one batch under the directory lock, in the order `ca check` expects of every
   * issuance: journal `issuance.started`, certificate file, index line, serial file, journal
   * `certificate.signed`. Each caller gets its own result or error; a failure at one step
   * stops the requests not yet past it, and what was written before stays accounted for.
   * Every signature is checked against the CA's key(s) before its certificate is written.
   */
  // eslint-disable-next-line max-lines-per-function -- the durable write of a batch in its one safe order (certificates, index, serial, journal, each fsync): split, the order would no longer be visible in one place
  private async writeBatch(batch: Waiter[]): Promise<void> {
    const items: BatchItem[] = [];
    try {
      const used = this.issuedSerials();
      for (const w of batch) {
        if (w.fixed) {
          // A reviewed certificate keeps its serial; one listed since (another process) is refused.
          if (used.has(w.fixed.serial)) {
            w.reject(new QpkiError('CA_INVALID', `Serial ${w.fixed.serial} was issued since this certificate was reviewed; prepare it again.`));
            continue;
          }
          used.add(w.fixed.serial);
          items.push({ w, prepared: w.fixed });
          continue;
        }
        const prepared = this.fixCertificate(w, used);
        used.add(prepared.serial);
        items.push({ w, prepared });
      }
      // The lint gate, before anything of these is journaled or signed: a refused one leaves no trace but its refusal.
      for (const i of [...items]) {
        try {
          i.lint = await this.lintCertificate(i.prepared);
          refuseIfBlocked(i.lint, `The certificate for ${i.prepared.subjectString} (serial ${i.prepared.serial}, profile ${i.prepared.profile.name})`);
        } catch (e) {
          this.recordSigningFailure(i.prepared.serial, e);
          i.w.reject(e);
          items.splice(items.indexOf(i), 1);
        }
      }
      if (!items.length) return;
      this.journal.appendMany(
        items.map((i) => ({ kind: 'issuance.started' as const, facts: { serial: i.prepared.serial, profile: i.prepared.profile.name, subject: i.prepared.subjectString, source: i.prepared.source, tbsSha256: sha256Hex(i.prepared.document.tbs), lint: lintFacts(i.lint!) } })),
        { sync: false },
      );
      this.advanceSerialFile(items.map((i) => i.prepared.serial));
    } catch (e) {
      for (const w of batch) w.reject(e);
      this.indexCache = undefined;
      return;
    }

    // Sign in order; a refused or unverifiable signature fails only its own request. In a batch
    // of several, each signature is verified on another thread (keys/verifyWorker.ts) while the
    // token signs the next (checkSignedAsync); alone, it is verified here, which spares starting
    // that thread.
    let failure: unknown;
    const signed: BatchItem[] = [];
    const issuer = this.issuerKeys();
    const pooled = items.length > 1;
    const checked: { i: BatchItem; der?: Uint8Array; verdict: Promise<unknown> }[] = [];
    for (const i of items) {
      try {
        const der = await signPrepared(i.prepared.document, this.signer, this.altSigner);
        // The verdict is the error, or undefined: a rejection waiting for its turn is not left unhandled.
        checked.push({ i, der, verdict: pooled ? checkSignedAsync(der, i.prepared.document, issuer).then(() => undefined, (e: unknown) => e) : Promise.resolve(checkSigned(der, i.prepared.document, issuer)) });
      } catch (e) {
        checked.push({ i, verdict: Promise.resolve(e) });
      }
    }
    for (const { i, der, verdict } of checked) {
      try {
        const refused = await verdict;
        if (refused !== undefined || der === undefined) throw refused;
        // And again on the real certificate: what is written passed the gate as signed.
        i.lintAfter = lintAfterSigning(der, 'certificate', this.certificatePolicy(i.prepared.profile), i.lint);
        refuseIfBlocked(i.lintAfter, `The signed certificate ${i.prepared.serial}`, 'after');
        i.der = der;
        signed.push(i);
      } catch (e) {
        this.recordSigningFailure(i.prepared.serial, e);
        i.w.reject(e);
      }
    }

    // Certificate files first (never overwriting): a crash leaves certificates the index does
    // not list yet, which `ca check` names from the journal's issuance.started entries.
    const written: BatchItem[] = [];
    for (const i of signed) {
      if (failure !== undefined) {
        i.w.reject(failure);
        continue;
      }
      try {
        i.pem = toPem(i.der!, 'CERTIFICATE');
        writeFileAtomic(join(this.dir, 'certs', certFileName(i.prepared.serial)), i.pem, { createOnly: true, sync: false });
        written.push(i);
      } catch (e) {
        failure = e;
        i.w.reject(e);
      }
    }
    if (!written.length) {
      this.indexCache = undefined;
      return;
    }
    try {
      appendIndexEntries(
        this.dir,
        written.map((i) => ({ status: 'V' as const, expires: i.prepared.notAfter, serial: i.prepared.serial, file: 'unknown', subject: opensslSubject(i.prepared.subject) })),
      );
      const results = written.map((i): IssuedCertificate => ({
        serial: i.prepared.serial,
        der: i.der!,
        pem: i.pem!,
        path: join(this.dir, 'certs', certFileName(i.prepared.serial)),
        subject: i.prepared.subjectString,
        issuer: this.subjectString,
        notBefore: i.prepared.notBefore,
        notAfter: i.prepared.notAfter,
        fingerprint: sha256Hex(i.der!),
        profile: i.prepared.profile.name,
        warnings: i.prepared.warnings,
        lint: i.lintAfter,
      }));
      this.journal.appendMany(
        results.map((r, k) => ({
          kind: 'certificate.signed' as const,
          facts: {
            serial: r.serial,
            profile: r.profile,
            subject: r.subject,
            issuer: r.issuer,
            notBefore: r.notBefore.toISOString(),
            notAfter: r.notAfter.toISOString(),
            certificateSha256Fingerprint: r.fingerprint,
            path: `certs/${r.serial}.crt`,
            hybrid: !!this.altSigner,
            tbsSha256: sha256Hex(written[k].prepared.document.tbs),
            signaturesVerified: true,
            lint: lintFacts(written[k].lintAfter!),
            // The flush makes the journal durable, not each certificate file's contents (one
            // fsync per file would cost more than the signature): the journal keeps the signed
            // bytes, and `ca check --repair` restores a file a power cut left empty or cut short.
            certificateBase64: Buffer.from(r.der).toString('base64'),
          },
        })),
        { sync: false },
      );
      this.rememberIndex();
      const durable = this.durable();
      // Callers wait for the flush; the next batch need not.
      durable.then(
        () => written.forEach((i, k) => i.w.resolve(results[k])),
        (e) => written.forEach((i) => i.w.reject(e)),
      );
    } catch (e) {
      this.indexCache = undefined;
      for (const i of written) i.w.reject(e);
    }
  }

  /**
   * Keep the serial file above every serial this batch takes, before any is signed: QPKI issues
   * the number it names, so it must never be one of ours. A crash after this leaves only a gap.
   */
  private advanceSerialFile(serials: string[]): void {
    const c = this.indexCache!;
    for (const s of serials) {
      const n = serialBigInt(s);
      if (n > c.highest) c.highest = n;
    }
    const { next } = readSerialFile(this.dir);
    const text = nextSerialFileText(next, c.highest);
    if (next === undefined || serialBigInt(text.trim()) !== next) overwriteSmallFile(join(this.dir, SERIAL_FILE), text);
  }

  /** A signature that failed (refused by the token, or not verifying) is on the record with its reason. */
  private recordSigningFailure(serial: string, e: unknown): void {
    try {
      const err = e instanceof QpkiError ? e : null;
      this.journal.append('signing.failed', { serial, code: err?.code ?? 'INTERNAL', reason: err?.message ?? String(e) }, { sync: false });
    } catch { /* the failure itself is what the caller reports */ }
  }

  /** After our own index append: remember its size and time so the next batch need not re-read it. */
  private rememberIndex(): void {
    const c = this.indexCache;
    if (!c) return;
    const st = statSync(join(this.dir, 'index.txt'));
    this.indexCache = { ...c, size: st.size, mtimeMs: st.mtimeMs };
  }

  /** Mark a certificate revoked in the index (the next CRL lists it). */
  revoke(serial: string, reason: RevocationReason = 'unspecified', now = new Date()): IndexEntry {
    return revokeInIndex(this.dir, serial, reason, now);
  }

  /** Sign a new CRL listing every revoked certificate; PEM and DER written atomically. */
  async generateCrl(opts: { days: number; now?: Date }): Promise<SignedCrl> {
    return this.signCrl(this.prepareCrl(opts));
  }

  /**
   * Sign a CRL prepared (and reviewed) before: exactly its TBS, and only while its number is
   * still the next one and index.txt still lists the same revocations (a CRL is never replaced
   * by one built from other facts than those reviewed).
   */
  async signCrl(p: PreparedCrl): Promise<SignedCrl> {
    if (p.issuerCertSha256 !== this.certSha256) throw new QpkiError('INPUT_INVALID', `This CRL was prepared for another CA than ${this.subjectString}.`);
    const unlock = lockCaDir(this.dir);
    try {
      if (this.crlNumber() !== p.number) throw new QpkiError('CA_INVALID', `CRL number ${p.number} was used since this CRL was reviewed; prepare it again.`);
      const now = this.revokedEntries();
      const same = now.length === p.revoked.length && now.every((r, k) => r.serial === p.revoked[k].serial && r.reason === p.revoked[k].reason && r.date.getTime() === p.revoked[k].date.getTime());
      if (!same) throw new QpkiError('CA_INVALID', 'The revocations in index.txt changed since this CRL was reviewed; prepare it again.');
      let der: Uint8Array;
      let lintAfter: LintReport;
      try {
        const lintBefore = await this.lintCrl(p);
        refuseIfBlocked(lintBefore, `CRL ${p.number}`);
        der = await signPrepared(p.document, this.signer, this.altSigner);
        checkSigned(der, p.document, this.issuerKeys());
        lintAfter = lintAfterSigning(der, 'crl', this.crlPolicy(), lintBefore);
        refuseIfBlocked(lintAfter, `The signed CRL ${p.number}`, 'after');
      } catch (e) {
        this.recordSigningFailure(`CRL ${p.number}`, e);
        throw e;
      }
      const pem = toPem(der, 'X509 CRL');
      const paths = [join(this.dir, 'crl', 'ca.crl'), join(this.dir, 'crl', 'ca.crl.der')];
      writeFileAtomic(paths[0], pem);
      writeFileAtomic(paths[1], der);
      // Lower case and an even length, as QPKI writes it and its hex decoder needs.
      writeFileAtomic(join(this.dir, 'crlnumber'), serialFromBigInt(p.number + 1n) + '\n');
      const fingerprint = sha256Hex(der);
      this.journal.append('crl.generated', {
        crlNumber: p.number.toString(), revoked: p.revoked.length, thisUpdate: p.thisUpdate.toISOString(), nextUpdate: p.nextUpdate.toISOString(),
        crlSha256Fingerprint: fingerprint, tbsSha256: sha256Hex(p.document.tbs), signaturesVerified: true, lint: lintFacts(lintAfter),
      });
      return { pem, der, number: p.number, paths, fingerprint, revoked: p.revoked.length, nextUpdate: p.nextUpdate, lint: lintAfter };
    } finally {
      unlock();
    }
  }
}

export interface SignedCrl {
  lint: LintReport;
  pem: string;
  der: Uint8Array;
  number: bigint;
  paths: string[];
  fingerprint: string;
  revoked: number;
  nextUpdate: Date;
}

/** Where no PIN was given for the token of the alternative key: say which token wants one. */
function altPinMissing(ref: KeyRef): PinProvider {
  return () => {
    const s = ref.storage;
    const where = s.type === 'pkcs11' ? `token "${s.token_label}" (serial ${s.token_serial})` : 'its token';
    throw new QpkiError('PIN_REQUIRED', `The CA's alternative (${ref.algorithm}) key is in ${where}, not in the classical key's token: give that token's PIN too.`);
  };
}

/** The active version, or a clear refusal for a CA still waiting for its certificate (see pending.ts). */

/** Open an existing CA directory and unlock its key(s). */
export async function openCa(dir: string, access: CaKeyAccess = {}): Promise<CertificateAuthority> {
  const abs = resolve(dir);
  const meta = readMeta(abs);
  usableVersion(abs, meta);
  const certDer = pemOrDer(readText(caCertPath(abs, meta)), ['CERTIFICATE']);
  // A malformed index.txt (another tool's, or damaged) is refused before anything is written,
  // the journal a QPKI directory lacks included.
  readIndexSerials(abs);
  const keys = versionKeys(meta, meta.active);
  const classical = keys.find((k) => k.id === 'default' || k.id === 'classical') ?? keys[0];
  const pqc = keys.find((k) => k.id === 'pqc' && k !== classical);
  const opened: TokenSession[] = [];
  const signer = await signerForRef(abs, classical, access, opened, access.pin);
  assertCertifiedKey(signer, certFacts(certDer).spki, abs);
  // A Catalyst CA's ML-DSA key in the classical key's token signs through the same session; in a
  // token of its own it needs that token's PIN.
  const altSigner = pqc ? await signerForRef(abs, pqc, access, opened, access.altPin ?? altPinMissing(pqc), access.altPkcs11Lib) : undefined;
  return new CertificateAuthority(abs, meta, certDer, signer, altSigner, Journal.open(abs));
}

/**
 * A token key's public object can be replaced by anyone holding the token, without the PIN: the
 * key reached must be the one the CA certificate carries, or nothing is signed with it.
 */
function assertCertifiedKey(signer: Signer, certSpki: Uint8Array, dir: string): void {
  const st = signer.storage;
  if (st.type !== 'pkcs11') return;
  const have = sha256Hex(signer.spki);
  const want = sha256Hex(certSpki);
  if (have !== want) {
    throw new QpkiError('KEY_CHECK_FAILED', `Key "${st.key_label}" on token "${st.token_label}" is not the key of the CA certificate in ${dir}: its public key SHA-256 is ${have}, the certificate's is ${want}. The token's public key object may have been replaced; nothing was signed.`);
  }
}

/** Where a CA's active keys are, from its metadata alone: no certificate or index is read. */
/** A CA key made (or found) for a new CA; a software key is held in memory until it is written. */
export interface MadeKey {
  signer: Signer;
  generated?: InitCaResult['key']['generated'];
  /** An existing token key's proof: a test signature verified, and whether a journal's fingerprint matched. */
  proven?: { testSignatureVerified: boolean; journal: 'matched' | 'not-recorded' };
  /** A software key not yet written: its PKCS#8 and the file name it gets (versions/v1/keys/…). */
  software?: { pkcs8: Uint8Array; rel: string };
}

/** The key a new CA signs with, made in the token or in memory (software); nothing is written. */
export async function makeKeyInMemory(key: NewCaKey, algorithm: KeyAlgorithm, keyName: string): Promise<MadeKey> {
  if (key.kind === 'software') {
    const { pkcs8 } = softwareKeys().generateSoftwareKey(algorithm);
    const rel = `versions/v1/keys/${keyName}`;
    const signer = softwareKeys().signerFromPkcs8(pkcs8, { type: 'software', path: rel, encrypted: key.passphrase !== null });
    // The same proof as for a token key: a test signature verified with the public key alone.
    const probe = new TextEncoder().encode(`qpki key generation self-test ${keyName} ${new Date().toISOString()}`);
    const sigAlg = defaultSignatureAlgorithm(algorithm);
    const testSignatureVerified = verifySignature(signer.spki, sigAlg, probe, await signer.sign(sigAlg, probe));
    if (!testSignatureVerified) throw new QpkiError('KEY_CHECK_FAILED', `The test signature of the new ${algorithm} key did not verify.`);
    return { signer, generated: { testSignatureVerified }, software: { pkcs8, rel } };
  }
  const { session } = key;
  if (key.useExisting) {
    // Without CKM_ML_DSA the token can neither hold nor use an ML-DSA key: say that, not "key not found".
    if (isMlDsa(algorithm) && !session.hasMechanism(CKM_ML_DSA)) {
      throw new QpkiError('MECHANISM_UNSUPPORTED', `Token "${session.token.label}" has no ML-DSA (PKCS#11 3.2 CKM_ML_DSA), so it cannot hold a ${algorithm} CA key. Use a software ML-DSA key (leave out the token options) or a hybrid/catalyst profile (classical key in the token, ML-DSA key in a file).`);
    }
    const info = session.findKey({ label: key.label, id: key.id });
    if (info.keyAlgorithm !== algorithm) {
      throw new QpkiError('KEY_INVALID', `Key "${info.label}" is ${info.keyAlgorithm}, but the profile needs ${algorithm}.`);
    }
    if (info.attributes.extractable || !info.attributes.sensitive) {
      throw new QpkiError('KEY_INVALID', `Key "${info.label}" is extractable or not sensitive; a CA key must never leave the token.`);
    }
    // The same proof as a new key: its public key, which goes into the certificate, is its own.
    const proof = await session.proveKey(info, key.expectedFingerprint ? { expectedFingerprint: key.expectedFingerprint } : {});
    return { signer: session.signer(proof.key), proven: { testSignatureVerified: proof.testSignature.verified, journal: proof.journal } };
  }
  const rep = await session.generateKey({ algorithm, label: key.label, id: key.id });
  return { signer: session.signer(rep.key), generated: { attributes: { ...rep.key.attributes }, testSignatureVerified: rep.testSignature.verified } };
}

/** Write a software key made in memory into `stage` (encrypted under `passphrase`, or not when null). */
export function writeMadeKey(stage: string, made: MadeKey, passphrase: string | null): Signer {
  if (!made.software) return made.signer;
  makeDirs(join(stage, 'versions', 'v1', 'keys'));
  softwareKeys().writeKeyFile(join(stage, made.software.rel), made.software.pkcs8, passphrase);
  return { ...made.signer, storage: { type: 'software', path: made.software.rel, encrypted: passphrase !== null } };
}

/** Make the key and write it into `stage` at once (a pending CA's key, whose passphrase is known). */
export async function makeKey(stage: string, key: NewCaKey, algorithm: KeyAlgorithm, keyName: string): Promise<MadeKey> {
  const made = await makeKeyInMemory(key, algorithm, keyName);
  if (made.software && key.kind === 'software') return { ...made, signer: writeMadeKey(stage, made, key.passphrase) };
  return made;
}

/** What creating a CA directory (active or pending) needs. */
export interface NewCaOptions {
  dir: string;
  profile: Profile;
  vars: Record<string, unknown>;
  key: NewCaKey;
  now?: Date;
  /**
   * Ceremony events that happened before the CA directory existed (ceremony opened, preflight,
   * module loaded, token chosen, login, key generated in the token): written first, in order,
   * so the journal reads as the ceremony happened.
   */
  journalPreamble?: { kind: JournalKind; facts: Record<string, unknown> }[];
  /** Operator and witnesses named at the start of the ceremony. */
  participants?: { operator: string; witnesses: string[] };
  /** Also run zlint and pkilint (where installed) for the draft's lint report. */
  externalLint?: boolean;
}

/** A new CA needs a CA profile and a directory that is absent or empty: an existing CA is never overwritten. */
export function assertNewCaTarget(dir: string, profile: Profile): void {
  if (!profile.isCa) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is not a CA profile (basicConstraints ca: true).`);
  if (existsSync(join(dir, 'ca.meta.json'))) throw new QpkiError('CA_EXISTS', `${dir} already holds a CA; it is never overwritten.`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new QpkiError('OUTPUT_EXISTS', `${dir} exists and is not empty; choose a new directory for the CA.`);
}

/**
 * Everything a new CA will be, fixed before its certificate is signed: its key(s) (made in the
 * token, or held in memory until written), the exact TBS of its certificate (self-signed, or
 * prepared by `parent`), and what its metadata will say. Nothing is written; `completeNewCa`
 * signs and writes.
 */
export interface NewCaDraft {
  dir: string;
  profile: Profile;
  created: Date;
  key: MadeKey;
  altKey?: MadeKey;
  /** The self-signed root's certificate, or the one `parent` will issue. */
  certificate: { self: PreparedDocument; serial: string; notBefore: Date; notAfter: Date; subject: Name } | { parent: CertificateAuthority; prepared: PreparedCertificate };
  rendered: Record<string, string | undefined>;
  /** What the journal records of the key(s), in the order they were made. */
  keyEvents: { kind: JournalKind; facts: Record<string, unknown> }[];
  options: InitCaOptions;
  /** The lint gate's report on the certificate's exact TBS (in a lint copy); signing refuses it while it has blocking errors. */
  lint: LintReport;
}

/** The lint policy of a new root: its profile's PKI and accepted lints; no issuer but itself. */
function rootLintPolicy(profile: Profile, external = false): LintPolicy {
  return { pki: profile.pki, accepted: profile.lintAccept, root: true, external };
}

async function lintDraftCertificate(certificate: NewCaDraft['certificate'], profile: Profile, key: MadeKey, altKey: MadeKey | undefined, external = false): Promise<LintReport> {
  if ('self' in certificate) return lintBeforeSigning(certificate.self, key.signer.keyAlgorithm, altKey?.signer.keyAlgorithm, rootLintPolicy(profile, external));
  return certificate.parent.lintCertificate(certificate.prepared, external);
}

export type InitCaOptions = NewCaOptions & { altKey?: NewAltCaKey; parent?: CertificateAuthority };

export async function prepareNewCa(opts: InitCaOptions): Promise<NewCaDraft> {
  const dir = resolve(opts.dir);
  const { profile } = opts;
  assertNewCaTarget(dir, profile);
  assertRecordable(opts.journalPreamble ?? []);
  opts.parent?.assertMayIssue(profile); // before any key is made for a certificate the parent may not sign
  if (profile.altAlgorithm && !opts.altKey) throw new QpkiError('INPUT_INVALID', `Profile ${profile.name} is a Catalyst hybrid: an ${profile.altAlgorithm} key (a software file, or a key in a token with ML-DSA) is needed too.`);
  const altSpec = altKeySpec(opts);
  // Before the classical key is made: a token without ML-DSA would leave it there for nothing.
  if (altSpec?.kind === 'pkcs11' && !altSpec.session.hasMechanism(CKM_ML_DSA)) {
    throw new QpkiError('MECHANISM_UNSUPPORTED', `Token "${altSpec.session.token.label}" has no ML-DSA (PKCS#11 3.2 CKM_ML_DSA), so it cannot hold the ${profile.altAlgorithm} key of this Catalyst CA. Keep that key in an encrypted software ML-DSA key file (the default; qpki: leave out --pqc-pkcs11-*), or name a token that has ML-DSA.`);
  }
  const { values, subject, days } = prepareSubject(profile, opts.vars);
  let key: MadeKey | undefined;
  let altKey: MadeKey | undefined;
  try {
    const algo = qpkiAlgorithmId(profile.algorithm);
    key = await makeKeyInMemory(opts.key, profile.algorithm, `ca.${algo}.key`);
    if (profile.altAlgorithm && altSpec) altKey = await makeKeyInMemory(altSpec, profile.altAlgorithm, `ca.${qpkiAlgorithmId(profile.altAlgorithm)}.key`);
    const created = opts.now ?? new Date();
    const altSpki = altKey?.signer.spki;
    let certificate: NewCaDraft['certificate'];
    if (opts.parent) {
      const prepared = opts.parent.prepareCertificate({ profile, vars: opts.vars, spki: key.signer.spki, subjectAltSpki: altSpki, now: created, source: `subordinate CA ${dir}` });
      certificate = { parent: opts.parent, prepared };
    } else {
      const serial = newSerial();
      const notBefore = wholeSeconds(created);
      const notAfter = new Date(notBefore.getTime() + days * DAY_MS);
      const self = prepareCertificate({
        serial, issuer: subject, subject, notBefore, notAfter, spki: key.signer.spki,
        extensions: buildExtensions(profile, values, { subjectSpki: key.signer.spki, issuerSpki: key.signer.spki }),
        signatureAlgorithm: signatureFor(profile, profile.algorithm),
        subjectAltSpki: altSpki, ...(altKey ? { altSignatureAlgorithm: defaultSignatureAlgorithm(altKey.signer.keyAlgorithm) } : {}),
      });
      certificate = { self, serial: canonicalSerial(serialHex(serial)), notBefore, notAfter, subject };
    }
    const keyEvents: NewCaDraft['keyEvents'] = [{
      kind: key.generated ? 'key.generated' : 'key.selected',
      facts: {
        role: 'CA key', algorithm: profile.algorithm, storage: key.signer.storage, attributes: key.generated?.attributes ?? null,
        testSignatureVerified: key.generated?.testSignatureVerified ?? key.proven?.testSignatureVerified ?? null, existing: !key.generated,
        ...(key.proven ? { journalFingerprint: key.proven.journal } : {}), publicKeySha256Fingerprint: sha256Hex(key.signer.spki),
      },
    }];
    if (altKey) {
      // A token key gets the same record as the classical one: its attributes and its proof signature.
      const inToken = altKey.signer.storage.type === 'pkcs11';
      keyEvents.push({
        kind: altKey.generated ? 'key.generated' : 'key.selected',
        facts: {
          role: 'CA alternative (post-quantum) key', algorithm: altKey.signer.keyAlgorithm, storage: altKey.signer.storage, publicKeySha256Fingerprint: sha256Hex(altKey.signer.spki),
          ...(inToken ? { attributes: altKey.generated?.attributes ?? null, testSignatureVerified: altKey.generated?.testSignatureVerified ?? altKey.proven?.testSignatureVerified ?? null, existing: !altKey.generated } : {}),
        },
      });
    }
    const lint = await lintDraftCertificate(certificate, profile, key, altKey, opts.externalLint);
    return { dir, profile, created, key, altKey, certificate, rendered: renderSubject(profile, values), keyEvents, options: opts, lint };
  } catch (e) {
    const told = keyLeftInToken(e, opts.key, key);
    throw altSpec ? keyLeftInToken(told, altSpec, altKey) : told;
  }
}

/** The alternative key's spec: a token key as given, or a software file under the given passphrase. */
function altKeySpec(opts: InitCaOptions): NewCaKey | undefined {
  if (!opts.profile.altAlgorithm || !opts.altKey) return undefined;
  return 'kind' in opts.altKey ? opts.altKey : { kind: 'software', passphrase: opts.altKey.passphrase };
}

/** The exact TBS of the draft's certificate, as the review shows it. */
export function draftDocument(d: NewCaDraft): PreparedDocument {
  return 'self' in d.certificate ? d.certificate.self : d.certificate.prepared.document;
}

/**
 * Sign the draft's certificate, check it, and write the CA directory: assembled in a staging
 * directory beside the target and renamed into place at the end, so a failure part-way leaves
 * no CA directory at all. Software key files are written under the passphrases given here (or
 * those the draft's options named). An existing CA is never overwritten.
 * `keyEventsRecorded`: the caller already recorded the key(s) as they were made (the app's
 * ceremony record), so the new journal does not record them twice.
 */
// eslint-disable-next-line max-lines-per-function -- a new CA made durable in its one safe order (files, metadata, journal), with what it undoes on a failure
export async function completeNewCa(d: NewCaDraft, secrets: { passphrase?: string | null; altPassphrase?: string | null; keyEventsRecorded?: boolean } = {}): Promise<InitCaResult> {
  const { dir, profile, options: opts } = d;
  assertNewCaTarget(dir, profile);
  const stage = makeStagingDir(dir);
  try {
    let certificate: IssuedCertificate;
    let chain: string;
    if ('self' in d.certificate) {
      const c = d.certificate;
      // The gate again, on the same bytes: the draft's report is what was shown, this is what holds.
      const lintBefore = await lintDraftCertificate(c, profile, d.key, d.altKey);
      refuseIfBlocked(lintBefore, `The root certificate ${nameString(c.subject)} (profile ${profile.name})`);
      const der = await signPrepared(c.self, d.key.signer, d.altKey?.signer);
      checkSigned(der, c.self, { spki: d.key.signer.spki, ...(d.altKey ? { altSpki: d.altKey.signer.spki } : {}) });
      // A self-signed root: linted again whole (its self-signature is read), see lintAfterSigning.
      const lintAfter = lintAfterSigning(der, 'certificate', rootLintPolicy(profile), lintBefore);
      refuseIfBlocked(lintAfter, `The signed root certificate ${nameString(c.subject)}`, 'after');
      const pem = toPem(der, 'CERTIFICATE');
      certificate = {
        serial: c.serial, der, pem, path: join(dir, 'ca.crt'), subject: nameString(c.subject), issuer: nameString(c.subject),
        notBefore: c.notBefore, notAfter: c.notAfter, fingerprint: sha256Hex(der), profile: profile.name, warnings: [], lint: lintAfter,
      };
      chain = pem;
    } else {
      certificate = await d.certificate.parent.issuePrepared(d.certificate.prepared);
      chain = certificate.pem + d.certificate.parent.chainPem();
    }
    const passphrase = secrets.passphrase !== undefined ? secrets.passphrase : opts.key.kind === 'software' ? opts.key.passphrase : null;
    const altPassphrase = secrets.altPassphrase !== undefined ? secrets.altPassphrase : opts.altKey && !('kind' in opts.altKey) ? opts.altKey.passphrase : null;
    const signer = writeMadeKey(stage, d.key, passphrase);
    const altSigner = d.altKey ? writeMadeKey(stage, d.altKey, altPassphrase) : undefined;
    const algo = qpkiAlgorithmId(profile.algorithm);
    const algos = [algo, ...(profile.altAlgorithm ? [qpkiAlgorithmId(profile.altAlgorithm)] : [])];
    writeFileAtomic(join(stage, 'versions', 'v1', 'certs', `ca.${algo}.pem`), certificate.pem);
    if (profile.altAlgorithm) {
      writeFileAtomic(join(stage, 'versions', 'v1', 'certs', `ca.${algos[1]}.pem`), certificate.pem);
      // The name QPKI loads a Catalyst CA certificate by.
      writeFileAtomic(join(stage, 'versions', 'v1', 'certs', catalystCertName({ profiles: [profile.name], algos, created: '' })), certificate.pem);
    }
    // QPKI finds a token key through the CA directory's hsm.yaml (storage.config).
    const tokenStorage = signer.storage.type === 'pkcs11' ? signer.storage : undefined;
    if (tokenStorage) writeFileAtomic(join(stage, HSM_CONFIG_FILE), hsmYamlFor(tokenStorage, (opts.key.kind === 'pkcs11' && opts.key.pinEnv) || DEFAULT_PIN_ENV));
    writeFileAtomic(join(stage, 'ca.crt'), certificate.pem);
    writeFileAtomic(join(stage, 'chain.crt'), chain);
    writeFileAtomic(join(stage, 'index.txt'), '');
    // The NEXT serial, as QPKI reads it: above the CA's own (a root's is under its own name).
    writeFileAtomic(join(stage, SERIAL_FILE), nextSerialFileText(undefined, serialBigInt(certificate.serial)));
    writeFileAtomic(join(stage, 'crlnumber'), '01\n');
    makeDirs(join(stage, 'certs'));
    makeDirs(join(stage, 'crl'));
    const rendered = d.rendered;
    const created = d.created.toISOString();
    const keys: KeyRef[] = [{ id: altSigner ? 'classical' : 'default', algorithm: algo, storage: storageForMeta(signer.storage) }];
    if (altSigner) keys.push({ id: 'pqc', algorithm: algos[1], storage: storageForMeta(altSigner.storage) });
    const meta: CaMeta = {
      subject: { common_name: rendered.cn ?? '', ...(rendered.o ? { organization: [rendered.o] } : {}), ...(rendered.c ? { country: [rendered.c] } : {}), dn: certificate.subject },
      created,
      active: 'v1',
      ...(opts.parent ? { parent: opts.parent.dir } : {}),
      versions: {
        v1: { profiles: [profile.name], algos, status: 'active', created, activated_at: created, keys, signature_algorithm: signatureFor(profile, profile.algorithm) },
      },
    };
    writeMeta(stage, meta);
    // The target is absent or an empty directory (checked above; rmdir refuses anything else).
    if (existsSync(dir)) rmdirSync(dir);
    renameSync(stage, dir);
    certificate.path = join(dir, 'ca.crt');
    const journal = Journal.open(dir, opts.participants);
    journal.appendAll(opts.journalPreamble ?? []);
    if (!secrets.keyEventsRecorded) {
      // The record names the storage as written (encrypted or not).
      const stored = [signer.storage, altSigner?.storage];
      journal.appendAll(d.keyEvents.map((e, k) => ({ ...e, facts: { ...e.facts, storage: stored[k] ?? e.facts.storage } })));
    }
    journal.append('certificate.signed', {
      serial: certificate.serial, profile: profile.name, subject: certificate.subject, issuer: certificate.issuer,
      notBefore: certificate.notBefore.toISOString(), notAfter: certificate.notAfter.toISOString(),
      certificateSha256Fingerprint: certificate.fingerprint, path: 'ca.crt', selfSigned: !opts.parent, hybrid: !!altSigner,
      tbsSha256: sha256Hex(draftDocument(d).tbs), signaturesVerified: true, ...(certificate.lint ? { lint: lintFacts(certificate.lint) } : {}),
    });
    return {
      dir,
      certificate,
      key: { storage: signer.storage, algorithm: profile.algorithm, publicKeyFingerprint: sha256Hex(signer.spki), generated: d.key.generated },
      altKey: altSigner ? { storage: altSigner.storage, algorithm: altSigner.keyAlgorithm, publicKeyFingerprint: sha256Hex(altSigner.spki), ...(altSigner.storage.type === 'pkcs11' ? { generated: d.altKey?.generated } : {}) } : undefined,
    };
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    const told = keyLeftInToken(e, opts.key, d.key);
    const alt = altKeySpec(opts);
    throw alt ? keyLeftInToken(told, alt, d.altKey) : told;
  }
}

/** Create a CA directory in one go: prepared and completed with no review between (the command line). */
export async function initCa(opts: InitCaOptions): Promise<InitCaResult> {
  return completeNewCa(await prepareNewCa(opts));
}

/**
 * A CA key generated in the token before a later step failed stays in the token: deleting HSM
 * keys is the security officer's call, not a side effect. The error says so, and how to go on.
 */
export function keyLeftInToken(e: unknown, key: NewCaKey, made: { signer: Signer; generated?: unknown } | undefined): unknown {
  if (!(e instanceof QpkiError) || key.kind !== 'pkcs11' || key.useExisting || !made?.generated) return e;
  const ref = made.signer.storage;
  const id = ref.type === 'pkcs11' ? ref.key_id : undefined;
  return new QpkiError(
    e.code,
    `${e.message} The key "${key.label}"${id ? ` (id ${id})` : ''} generated for this CA stays in token "${key.session.token.label}": choose it as the existing key when you try again (qpki: --use-existing-key), or remove it from the token.`,
    e.details,
  );
}
