import { hash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints, id_ce_subjectKeyIdentifier, Name, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { QpkiError } from '../errors';
import { defaultSignatureAlgorithm, signatureFitsKey, type KeyAlgorithm, type SignatureAlgorithm } from '../keys/algorithms';
import type { KeyStorageRef, Signer } from '../keys/signer';
import { generateSoftwareKey, signerFromPkcs8, writeKeyFile } from '../keys/software';
import { keyAlgorithmOfSpki, signatureAlgorithmFromObject, verifySignature } from '../keys/verify';
import { isMlDsa } from '../keys/mldsa';
import { CKM_ML_DSA } from '../pkcs11/constants';
import { assertRecordable, Journal, type JournalKind } from '../journal/journal';
import type { TokenSession } from '../pkcs11/index';
import { buildExtensions, buildSubject, renderSubject, resolveVariables, subjectKeyIdentifier, validityDaysFor, type Profile, type VariableValues } from '../profiles/index';
import { buildCertificate, newSerial, serialHex, type AltSigning } from '../x509/certificate';
import { buildCrl, type RevocationReason } from '../x509/crl';
import { pemOrDer, toPem } from '../x509/pem';
import { lockCaDir, overwriteSmallFile, readText, syncPaths, writeFileAtomic, makeStagingDir } from './fsx';
import { appendIndexEntries, readIndex, readIndexSerials, type IndexEntry } from './indexFile';
import { revokeInIndex } from './revoke';
import { activeVersion, caCertPath, catalystCertName, DEFAULT_PIN_ENV, HSM_CONFIG_FILE, hsmYamlFor, qpkiAlgorithmId, readMeta, storageForMeta, versionKeys, writeMeta, type CaMeta, type KeyRef, usableVersion } from './meta';
import { resolveKeyStorage, signerForRef, type CaKeyAccess, type ResolvedStorage } from './caKeys';
import { caCertificateSerials, canonicalSerial, certFileName, nextSerialFileText, readSerialFile, serialBigInt, serialFromBigInt, SERIAL_FILE } from './serials';

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

interface Waiter extends PreparedIssue {
  resolve(c: IssuedCertificate): void;
  reject(e: unknown): void;
}

interface BatchItem {
  w: Waiter;
  serial: Uint8Array;
  sHex: string;
  notBefore: Date;
  notAfter: Date;
  warnings: string[];
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
export type NewCaKey =
  /** pinEnv: the variable the hsm.yaml written for QPKI names (default HSM_PIN); never the PIN. */
  | { kind: 'pkcs11'; session: TokenSession; label: string; id?: string; useExisting?: boolean; pinEnv?: string }
  | { kind: 'software'; passphrase: string | null };

// Finding and unlocking a CA's keys (ours and QPKI's storage forms) lives in caKeys.ts.
export type { CaKeyAccess } from './caKeys';

export interface IssuedCertificate {
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
  altKey?: { storage: KeyStorageRef; algorithm: KeyAlgorithm; publicKeyFingerprint: string };
}

export function nameString(n: Name): string {
  // RFC 4514 order (most specific first) is what people read; @peculiar/x509 would do the same.
  return [...n]
    .reverse()
    .map((rdn) => rdn.map((atv) => `${SHORT[atv.type] ?? atv.type}=${escapeDn(atv.value.toString())}`).join('+'))
    .join(', ');
}

const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'E', '2.5.4.97': 'organizationIdentifier',
};

function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/** The subject as index.txt lists it (OpenSSL's one-line form). */
export function opensslSubject(n: Name): string {
  return [...n].map((rdn) => rdn.map((atv) => `/${SHORT[atv.type] ?? atv.type}=${atv.value.toString().replace(/\//g, '\\/')}`).join('+')).join('');
}

function certFacts(der: Uint8Array) {
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
 * An open CA directory with its signing key(s). Every change goes through here, under the
 * directory lock, written atomically and recorded in the journal.
 */
export class CertificateAuthority {
  readonly dir: string;
  readonly meta: CaMeta;
  readonly certDer: Uint8Array;
  readonly signer: Signer;
  readonly altSigner?: Signer;
  readonly journal: Journal;
  readonly subjectName: Name;
  readonly subjectString: string;
  readonly notAfter: Date;
  /** pathLenConstraint of this CA's own certificate (undefined: none). */
  readonly pathLen?: number;
  /** The subjectKeyIdentifier of this CA's certificate: what the AKI of all it signs repeats. */
  readonly keyIdentifier: Uint8Array;

  constructor(dir: string, meta: CaMeta, certDer: Uint8Array, signer: Signer, altSigner: Signer | undefined, journal: Journal) {
    this.dir = dir;
    this.meta = meta;
    this.certDer = certDer;
    this.signer = signer;
    this.altSigner = altSigner;
    this.journal = journal;
    const f = certFacts(certDer);
    this.subjectName = f.tbs.subject;
    this.subjectString = f.subject;
    this.notAfter = new Date(f.notAfter);
    const bc = f.tbs.extensions?.find((e) => e.extnID === id_ce_basicConstraints);
    this.pathLen = bc ? AsnConvert.parse(bc.extnValue.buffer, BasicConstraints).pathLenConstraint : undefined;
    const ski = f.tbs.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
    this.keyIdentifier = ski ? new Uint8Array(AsnConvert.parse(ski.extnValue.buffer, SubjectKeyIdentifier).buffer) : subjectKeyIdentifier(signer.spki);
    if (!Buffer.from(f.spki).equals(Buffer.from(signer.spki))) {
      throw new QpkiError('KEY_INVALID', `The key found for this CA does not match the public key in its certificate (${dir}). Refusing to sign with it.`);
    }
  }

  /** RFC 5280 4.2.1.9: a CA certificate with pathLenConstraint 0 may be followed by end-entity certificates only. */
  assertMayIssue(profile: Profile): void {
    if (profile.isCa && this.pathLen === 0) {
      throw new QpkiError('PROFILE_INVALID', `${this.subjectString} has pathLenConstraint 0: it may issue end-entity certificates only, not a CA certificate (profile ${profile.name}). Issue this CA from a CA higher in the chain.`);
    }
  }

  get signatureAlgorithm(): SignatureAlgorithm {
    const s = (activeVersion(this.meta).signature_algorithm as SignatureAlgorithm | undefined) ?? this.ownSignatureAlgorithm;
    return s && signatureFitsKey(s, this.signer.keyAlgorithm) ? s : defaultSignatureAlgorithm(this.signer.keyAlgorithm);
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
    return want && signatureFitsKey(want, this.signer.keyAlgorithm) ? want : this.signatureAlgorithm;
  }

  get certPem(): string {
    return toPem(this.certDer, 'CERTIFICATE');
  }

  private alt(): AltSigning | undefined {
    return this.altSigner ? { signer: this.altSigner, signatureAlgorithm: defaultSignatureAlgorithm(this.altSigner.keyAlgorithm) } : undefined;
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
    const serials = readIndexSerials(this.dir);
    // The CA certificates' own serials are taken too: a root's is its own issuer's.
    for (const s of caCertificateSerials(this.dir, (pem) => certFacts(pemOrDer(pem, ['CERTIFICATE'])).serial)) serials.add(s);
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
    const prepared = this.prepareIssue(opts);
    const done = new Promise<IssuedCertificate>((resolveIssue, rejectIssue) => {
      this.waiting.push({ ...prepared, resolve: resolveIssue, reject: rejectIssue });
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

  /** Everything that can be checked before the lock: profile, variables, key, extensions. */
  private prepareIssue(opts: IssueRequest): PreparedIssue {
    const { profile } = opts;
    this.assertMayIssue(profile);
    const { values, subject, days } = prepareSubject(profile, opts.vars);
    keyAlgorithmOfSpki(opts.spki); // refuses keys we cannot describe
    if (profile.altAlgorithm && !opts.subjectAltSpki) {
      throw new QpkiError('INPUT_INVALID', `Profile ${profile.name} is a Catalyst hybrid: the subject needs an alternative ${profile.altAlgorithm} public key.`);
    }
    const extensions = buildExtensions(profile, values, { subjectSpki: opts.spki, issuerSpki: this.signer.spki, issuerKeyId: this.keyIdentifier });
    return { opts, subject, subjectString: nameString(subject), days, extensions };
  }

  /**
   * Write one batch under the directory lock, in the order `ca check` expects of every
   * issuance: journal `issuance.started`, certificate file, index line, serial file, journal
   * `certificate.signed`. Each caller gets its own result or error; a failure at one step
   * stops the requests not yet past it, and what was written before stays accounted for.
   */
  private async writeBatch(batch: Waiter[]): Promise<void> {
    const items: BatchItem[] = [];
    try {
      const used = this.issuedSerials();
      for (const w of batch) {
        const warnings: string[] = [];
        const now = w.opts.now ?? new Date();
        const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
        let notAfter = new Date(notBefore.getTime() + w.days * DAY_MS);
        if (notAfter > this.notAfter) {
          notAfter = this.notAfter;
          warnings.push(`Validity shortened to end with the CA certificate (${this.notAfter.toISOString()}).`);
        }
        let serial = newSerial();
        while (used.has(canonicalSerial(serialHex(serial)))) serial = newSerial();
        const sHex = canonicalSerial(serialHex(serial));
        used.add(sHex);
        items.push({ w, serial, sHex, notBefore, notAfter, warnings });
      }
      this.journal.appendMany(
        items.map((i) => ({ kind: 'issuance.started' as const, facts: { serial: i.sHex, profile: i.w.opts.profile.name, subject: i.w.subjectString, source: i.w.opts.source ?? 'request' } })),
        { sync: false },
      );
      this.advanceSerialFile(items.map((i) => i.sHex));
    } catch (e) {
      for (const w of batch) w.reject(e);
      this.indexCache = undefined;
      return;
    }

    // Sign in order; a refused signature fails only its own request.
    let failure: unknown;
    const signed: BatchItem[] = [];
    for (const i of items) {
      try {
        i.der = await buildCertificate({
          serial: i.serial,
          issuer: this.subjectName,
          subject: i.w.subject,
          notBefore: i.notBefore,
          notAfter: i.notAfter,
          spki: i.w.opts.spki,
          extensions: i.w.extensions,
          signer: this.signer,
          signatureAlgorithm: this.signatureFor(i.w.opts.profile),
          subjectAltSpki: i.w.opts.subjectAltSpki,
          alt: this.alt(),
        });
        signed.push(i);
      } catch (e) {
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
        writeFileAtomic(join(this.dir, 'certs', certFileName(i.sHex)), i.pem, { createOnly: true, sync: false });
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
        written.map((i) => ({ status: 'V' as const, expires: i.notAfter, serial: i.sHex, file: 'unknown', subject: opensslSubject(i.w.subject) })),
      );
      const results = written.map((i): IssuedCertificate => ({
        serial: i.sHex,
        der: i.der!,
        pem: i.pem!,
        path: join(this.dir, 'certs', certFileName(i.sHex)),
        subject: i.w.subjectString,
        issuer: this.subjectString,
        notBefore: i.notBefore,
        notAfter: i.notAfter,
        fingerprint: sha256Hex(i.der!),
        profile: i.w.opts.profile.name,
        warnings: i.warnings,
      }));
      this.journal.appendMany(
        results.map((r) => ({
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
  async generateCrl(opts: { days: number; now?: Date }): Promise<{ pem: string; der: Uint8Array; number: bigint; paths: string[]; fingerprint: string; revoked: number; nextUpdate: Date }> {
    if (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > 3660) throw new QpkiError('INPUT_INVALID', 'CRL validity must be a whole number of days between 1 and 3660.');
    const unlock = lockCaDir(this.dir);
    try {
      const now = opts.now ?? new Date();
      const numPath = join(this.dir, 'crlnumber');
      const current = existsSync(numPath) ? readText(numPath).trim() : '01';
      if (!/^[0-9A-Fa-f]+$/.test(current)) throw new QpkiError('CA_INVALID', 'The crlnumber file is corrupt.');
      const number = BigInt('0x' + current);
      const revoked = readIndex(this.dir)
        .filter((e) => e.status === 'R' && e.revoked)
        .map((e) => ({ serial: new Uint8Array(Buffer.from(e.serial.length % 2 ? '0' + e.serial : e.serial, 'hex')), date: e.revoked!.date, reason: e.revoked!.reason }));
      const nextUpdate = new Date(now.getTime() + opts.days * DAY_MS);
      const der = await buildCrl({
        issuer: this.subjectName,
        issuerKeyId: this.keyIdentifier,
        thisUpdate: now,
        nextUpdate,
        crlNumber: number,
        revoked,
        signer: this.signer,
        signatureAlgorithm: this.signatureAlgorithm,
        alt: this.alt(),
      });
      const pem = toPem(der, 'X509 CRL');
      const paths = [join(this.dir, 'crl', 'ca.crl'), join(this.dir, 'crl', 'ca.crl.der')];
      writeFileAtomic(paths[0], pem);
      writeFileAtomic(paths[1], der);
      // Lower case and an even length, as QPKI writes it and its hex decoder needs.
      writeFileAtomic(numPath, serialFromBigInt(number + 1n) + '\n');
      const fingerprint = sha256Hex(der);
      this.journal.append('crl.generated', { crlNumber: number.toString(), revoked: revoked.length, thisUpdate: now.toISOString(), nextUpdate: nextUpdate.toISOString(), crlSha256Fingerprint: fingerprint });
      return { pem, der, number, paths, fingerprint, revoked: revoked.length, nextUpdate };
    } finally {
      unlock();
    }
  }
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
  const signer = await signerForRef(abs, classical, access);
  const altSigner = pqc ? await signerForRef(abs, pqc, access) : undefined;
  return new CertificateAuthority(abs, meta, certDer, signer, altSigner, Journal.open(abs));
}

/** Read a CA's metadata and certificate without unlocking any key (ca info, the app's CA view). */
export function describeCaDir(dir: string): { dir: string; meta: CaMeta; certPem: string; subject: string; notAfter: Date; issued: IndexEntry[]; keys: () => { id: string; algorithm: string; storage: ResolvedStorage }[] } {
  const abs = resolve(dir);
  const meta = readMeta(abs);
  usableVersion(abs, meta);
  const certDer = pemOrDer(readText(caCertPath(abs, meta)), ['CERTIFICATE']);
  const f = certFacts(certDer);
  // Keys are resolved on request: a QPKI CA's hsm.yaml is read only by what needs its token.
  const keys = () => versionKeys(meta, meta.active).map((k) => ({ id: k.id, algorithm: k.algorithm, storage: resolveKeyStorage(abs, k.storage) }));
  return { dir: abs, meta, certPem: toPem(certDer, 'CERTIFICATE'), subject: f.subject, notAfter: new Date(f.notAfter), issued: readIndex(abs), keys };
}

export async function makeKey(stage: string, key: NewCaKey, algorithm: KeyAlgorithm, keyName: string): Promise<{ signer: Signer; generated?: InitCaResult['key']['generated'] }> {
  if (key.kind === 'software') {
    const { pkcs8 } = generateSoftwareKey(algorithm);
    const rel = `versions/v1/keys/${keyName}`;
    mkdirSync(join(stage, 'versions', 'v1', 'keys'), { recursive: true, mode: 0o700 });
    writeKeyFile(join(stage, rel), pkcs8, key.passphrase);
    const signer = signerFromPkcs8(pkcs8, { type: 'software', path: rel, encrypted: key.passphrase !== null });
    // The same proof as for a token key: a test signature verified with the public key alone.
    const probe = new TextEncoder().encode(`qpki key generation self-test ${keyName} ${new Date().toISOString()}`);
    const sigAlg = defaultSignatureAlgorithm(algorithm);
    const testSignatureVerified = verifySignature(signer.spki, sigAlg, probe, await signer.sign(sigAlg, probe));
    if (!testSignatureVerified) throw new QpkiError('KEY_CHECK_FAILED', `The test signature of the new ${algorithm} key did not verify.`);
    return { signer, generated: { testSignatureVerified } };
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
    return { signer: session.signer(info) };
  }
  const rep = await session.generateKey({ algorithm, label: key.label, id: key.id });
  return { signer: session.signer(rep.key), generated: { attributes: { ...rep.key.attributes }, testSignatureVerified: rep.testSignature.verified } };
}

/**
 * Create a CA directory: key (in the token or a file), CA certificate (self-signed, or issued by
 * `parent`), metadata, index, serial and CRL number. Everything is assembled in a staging
 * directory beside the target and renamed into place at the end, so a failure part-way leaves
 * no CA directory at all. An existing CA is never overwritten.
 */
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
}

/** A new CA needs a CA profile and a directory that is absent or empty: an existing CA is never overwritten. */
export function assertNewCaTarget(dir: string, profile: Profile): void {
  if (!profile.isCa) throw new QpkiError('PROFILE_INVALID', `Profile ${profile.name} is not a CA profile (basicConstraints ca: true).`);
  if (existsSync(join(dir, 'ca.meta.json'))) throw new QpkiError('CA_EXISTS', `${dir} already holds a CA; it is never overwritten.`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new QpkiError('OUTPUT_EXISTS', `${dir} exists and is not empty; choose a new directory for the CA.`);
}

export async function initCa(opts: NewCaOptions & { altKey?: { passphrase: string | null }; parent?: CertificateAuthority }): Promise<InitCaResult> {
  const dir = resolve(opts.dir);
  const { profile } = opts;
  assertNewCaTarget(dir, profile);
  assertRecordable(opts.journalPreamble ?? []);
  opts.parent?.assertMayIssue(profile); // before any key is made for a certificate the parent may not sign
  if (profile.altAlgorithm && !opts.altKey) throw new QpkiError('INPUT_INVALID', `Profile ${profile.name} is a Catalyst hybrid: an ${profile.altAlgorithm} key (software file) is needed too.`);
  const { values, subject, days } = prepareSubject(profile, opts.vars);
  const stage = makeStagingDir(dir);
  let made: Awaited<ReturnType<typeof makeKey>> | undefined;
  try {
    const algo = qpkiAlgorithmId(profile.algorithm);
    made = await makeKey(stage, opts.key, profile.algorithm, `ca.${algo}.key`);
    let altSigner: Signer | undefined;
    if (profile.altAlgorithm && opts.altKey) {
      altSigner = (await makeKey(stage, { kind: 'software', passphrase: opts.altKey.passphrase }, profile.altAlgorithm, `ca.${qpkiAlgorithmId(profile.altAlgorithm)}.key`)).signer;
    }
    const now = opts.now ?? new Date();
    let certificate: IssuedCertificate;
    let chain: string;
    if (opts.parent) {
      certificate = await opts.parent.issue({ profile, vars: opts.vars, spki: made.signer.spki, subjectAltSpki: altSigner?.spki, now, source: `subordinate CA ${dir}` });
      chain = certificate.pem + opts.parent.chainPem();
    } else {
      const serial = newSerial();
      const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
      const notAfter = new Date(notBefore.getTime() + days * DAY_MS);
      const der = await buildCertificate({
        serial,
        issuer: subject,
        subject,
        notBefore,
        notAfter,
        spki: made.signer.spki,
        extensions: buildExtensions(profile, values, { subjectSpki: made.signer.spki, issuerSpki: made.signer.spki }),
        signer: made.signer,
        signatureAlgorithm: signatureFor(profile, profile.algorithm),
        subjectAltSpki: altSigner?.spki,
        alt: altSigner ? { signer: altSigner, signatureAlgorithm: defaultSignatureAlgorithm(altSigner.keyAlgorithm) } : undefined,
      });
      const pem = toPem(der, 'CERTIFICATE');
      certificate = {
        serial: canonicalSerial(serialHex(serial)), der, pem, path: join(dir, 'ca.crt'), subject: nameString(subject), issuer: nameString(subject),
        notBefore, notAfter, fingerprint: sha256Hex(der), profile: profile.name, warnings: [],
      };
      chain = pem;
    }
    const algos = [algo, ...(profile.altAlgorithm ? [qpkiAlgorithmId(profile.altAlgorithm)] : [])];
    writeFileAtomic(join(stage, 'versions', 'v1', 'certs', `ca.${algo}.pem`), certificate.pem);
    if (profile.altAlgorithm) {
      writeFileAtomic(join(stage, 'versions', 'v1', 'certs', `ca.${algos[1]}.pem`), certificate.pem);
      // The name QPKI loads a Catalyst CA certificate by.
      writeFileAtomic(join(stage, 'versions', 'v1', 'certs', catalystCertName({ profiles: [profile.name], algos, created: '' })), certificate.pem);
    }
    // QPKI finds a token key through the CA directory's hsm.yaml (storage.config).
    const tokenStorage = made.signer.storage.type === 'pkcs11' ? made.signer.storage : undefined;
    if (tokenStorage) writeFileAtomic(join(stage, HSM_CONFIG_FILE), hsmYamlFor(tokenStorage, (opts.key.kind === 'pkcs11' && opts.key.pinEnv) || DEFAULT_PIN_ENV));
    writeFileAtomic(join(stage, 'ca.crt'), certificate.pem);
    writeFileAtomic(join(stage, 'chain.crt'), chain);
    writeFileAtomic(join(stage, 'index.txt'), '');
    // The NEXT serial, as QPKI reads it: above the CA's own (a root's is under its own name).
    writeFileAtomic(join(stage, SERIAL_FILE), nextSerialFileText(undefined, serialBigInt(certificate.serial)));
    writeFileAtomic(join(stage, 'crlnumber'), '01\n');
    mkdirSync(join(stage, 'certs'), { recursive: true });
    mkdirSync(join(stage, 'crl'), { recursive: true });
    const rendered = renderSubject(profile, values);
    const created = now.toISOString();
    const keys: KeyRef[] = [{ id: altSigner ? 'classical' : 'default', algorithm: algo, storage: storageForMeta(made.signer.storage) }];
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
    if (existsSync(dir)) rmSync(dir, { recursive: false }); // an empty directory, checked above
    renameSync(stage, dir);
    certificate.path = join(dir, 'ca.crt');
    const journal = Journal.open(dir, opts.participants);
    journal.appendAll(opts.journalPreamble ?? []);
    journal.append(made.generated ? 'key.generated' : 'key.selected', {
      role: 'CA key',
      algorithm: profile.algorithm,
      storage: made.signer.storage,
      attributes: made.generated?.attributes ?? null,
      testSignatureVerified: made.generated?.testSignatureVerified ?? null,
      existing: !made.generated,
      publicKeySha256Fingerprint: sha256Hex(made.signer.spki),
    });
    if (altSigner) journal.append('key.generated', { role: 'CA alternative (post-quantum) key', algorithm: altSigner.keyAlgorithm, storage: altSigner.storage, publicKeySha256Fingerprint: sha256Hex(altSigner.spki) });
    journal.append('certificate.signed', {
      serial: certificate.serial, profile: profile.name, subject: certificate.subject, issuer: certificate.issuer,
      notBefore: certificate.notBefore.toISOString(), notAfter: certificate.notAfter.toISOString(),
      certificateSha256Fingerprint: certificate.fingerprint, path: 'ca.crt', selfSigned: !opts.parent, hybrid: !!altSigner,
    });
    return {
      dir,
      certificate,
      key: { storage: made.signer.storage, algorithm: profile.algorithm, publicKeyFingerprint: sha256Hex(made.signer.spki), generated: made.generated },
      altKey: altSigner ? { storage: altSigner.storage, algorithm: altSigner.keyAlgorithm, publicKeyFingerprint: sha256Hex(altSigner.spki) } : undefined,
    };
  } catch (e) {
    rmSync(stage, { recursive: true, force: true });
    throw keyLeftInToken(e, opts.key, made);
  }
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
