import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { checkChain, type JournalEntry } from '../journal/chain';
import { Journal, journalPath, repairJournalTail } from '../journal/journal';
import { QpkiError } from '../errors';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { signatureAlgorithmFromIdentifier, verifySignature } from '../keys/verify';
import { catalystParts, preTbs } from '../x509/catalyst';
import { children, slice, whole } from '../x509/der';
import { describeDocument } from '../x509/describe';
import { pemOrDer, toPem } from '../x509/pem';
import { opensslSubject } from './authority';
import { lockCaDir, overwriteSmallFile, readText, syncPaths, writeFileAtomic } from './fsx';
import { appendIndexEntries, readIndex, type IndexEntry } from './indexFile';
import { revokeInIndex } from './revoke';
import { caCertPath, readMeta, usableVersion } from './meta';
import { caCertificateSerials, canonicalSerial, certFile, certFileName, nextSerialFileText, readSerialFile, serialBigInt, serialFromBigInt, SERIAL_FILE } from './serials';

/**
 * Where an issuance that a crash interrupted stopped. Issuance writes, in this order: journal
 * `issuance.started`, certificate file, index.txt, serial file, journal `certificate.signed`.
 */
export type InterruptedState =
  /** Stopped before the certificate file was written: nothing was issued. */
  | 'not-signed'
  /** The certificate file exists but index.txt does not list it: signed, never delivered. */
  | 'signed-not-indexed'
  /** Listed in index.txt, but the journal lacks its `certificate.signed` entry. */
  | 'indexed-not-journaled';

export interface InterruptedIssuance {
  serial: string;
  /** Journal entry of the `issuance.started`. */
  seq: number;
  state: InterruptedState;
  /** True once `ca check --repair` recorded it in the journal. */
  recorded: boolean;
}

export interface CaCheckResult {
  ok: boolean;
  certificates: number;
  journalEntries: number;
  problems: string[];
  notes: string[];
  /** Serials whose issuance started but never finished and that the journal does not yet account for. */
  inFlight: string[];
  interrupted: InterruptedIssuance[];
  /** The journal ends in a line that a crash cut short (bytes after the last newline). */
  journalTornTail?: { bytes: number };
  /** Temporary files that atomic writes left behind (paths relative to the CA directory). */
  tempFiles: string[];
  /** Serials whose certificate file is missing or damaged and whose signed bytes the journal holds. */
  restorable: string[];
  /**
   * Serials the journal records as signed, with their bytes, that index.txt does not list: a
   * power cut during the flush kept the journal and lost the index lines.
   */
  unindexed: string[];
  /**
   * Listed serials whose certificate is gone everywhere: the file is missing or unreadable, and
   * the journal's record of the issuance stops before `certificate.signed` (a power cut kept
   * the index line and lost the rest). `--repair` revokes them.
   */
  lost: string[];
  /**
   * Listed certificates the journal does not record, whose file verifies under the CA key: issued
   * by another tool working in this directory (QPKI keeps no journal). Not a problem; `--repair`
   * records them (`certificate.observed`) so that the journal accounts for every serial.
   */
  foreign: string[];
  /** The journal does not exist yet (a directory QPKI made): the next change starts it. */
  noJournal: boolean;
  /** The serial file is missing, not even-length hex, or not above every serial used: `--repair` raises it. */
  serialFileLow?: { text: string; highest: string };
  /** The process id in a lock file whose process no longer runs. */
  staleLockPid?: number;
  /** Whether `--repair` has something to do. */
  repairable: boolean;
}

/** The temporary names fsx.writeFileAtomic uses: `.<name>.<12 hex>.tmp` beside the target. */
const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;

function tempFilesIn(abs: string): string[] {
  const out: string[] = [];
  const dirs = [abs, join(abs, 'certs'), join(abs, 'crl')];
  const versions = join(abs, 'versions');
  if (existsSync(versions)) for (const v of readdirSync(versions)) dirs.push(join(versions, v), join(versions, v, 'certs'), join(versions, v, 'keys'));
  for (const d of dirs) {
    if (!existsSync(d) || !statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d)) if (TEMP_FILE.test(f)) out.push(relative(abs, join(d, f)));
  }
  return out;
}

function staleLock(abs: string): { pid: number; alive: boolean } | undefined {
  const p = join(abs, '.lock');
  if (!existsSync(p)) return undefined;
  const pid = Number(readFileSync(p, 'utf8').trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return { pid: 0, alive: false };
  try {
    process.kill(pid, 0);
    return { pid, alive: true };
  } catch (e) {
    return { pid, alive: (e as NodeJS.ErrnoException).code === 'EPERM' };
  }
}

/** The CA's keys, read once: issued certificates are checked against them without a full decode. */
interface IssuerKeys {
  spki: Uint8Array;
  altSpki?: Uint8Array;
}

function issuerKeys(caPem: string): IssuerKeys {
  const t = AsnConvert.parse(pemOrDer(caPem, ['CERTIFICATE']), Certificate).tbsCertificate;
  return { spki: new Uint8Array(AsnConvert.serialize(t.subjectPublicKeyInfo)), altSpki: catalystParts(t.extensions).altSpki };
}

/** Serial (canonical lower-case hex) of an issued certificate and whether its signature(s) verify under the CA. */
/**
 * Whether an issued certificate verifies under one of the CA's keys: every key version counts
 * (after `ca rotate` and `ca activate`, what the old key issued stays listed; cross certificates
 * are signed by either). The first key tried is the active one, which signs nearly all.
 */
function checkIssued(pem: string, keys: IssuerKeys[]): { serial: string; valid: boolean; sha256: string } {
  const der = pemOrDer(pem, ['CERTIFICATE']);
  const [tbsT, algT, sigT] = children(der, whole(der));
  const tbsDer = slice(der, tbsT);
  const t = AsnConvert.parse(der, Certificate).tbsCertificate;
  const serial = canonicalSerial(Buffer.from(t.serialNumber).toString('hex'));
  const alg = signatureAlgorithmFromIdentifier(slice(der, algT));
  const sig = der.subarray(sigT.contentStart + 1, sigT.end);
  // A signature BIT STRING that declares unused bits is not the value that was signed.
  const valid = der[sigT.contentStart] === 0 && keys.some((ca) => {
    if (!verifySignature(ca.spki, alg, tbsDer, sig)) return false;
    if (!ca.altSpki) return true;
    const cat = catalystParts(t.extensions);
    // A Catalyst CA's certificates carry both signatures (a cross certificate to a classical key may not).
    if (!cat.altSignature) return !cat.altAlgorithm;
    return !!cat.altAlgorithm && verifySignature(ca.altSpki, signatureAlgorithmFromIdentifier(cat.altAlgorithm), preTbs(tbsDer, 'certificate'), cat.altSignature);
  });
  return { serial, valid, sha256: createHash('sha256').update(der).digest('hex') };
}

/** The keys of every version's CA certificate, the active one first. */
function allIssuerKeys(abs: string, meta: ReturnType<typeof readMeta>): IssuerKeys[] {
  const out: IssuerKeys[] = [];
  for (const id of [meta.active, ...Object.keys(meta.versions).filter((v) => v !== meta.active)]) {
    try {
      out.push(issuerKeys(readText(caCertPath(abs, meta, id))));
    } catch {
      // A version without a readable certificate (pending CA, damaged file) signs nothing here.
    }
  }
  return out;
}

/** A certificate's bytes as the journal recorded them when it was signed (entries since group commit carry them). */
interface JournalCopy {
  der: Buffer;
  sha256: string;
}

/** Entries that hold a certificate this CA issued: signed by ours, or observed from another tool. */
function isSignedRecord(e: JournalEntry): boolean {
  return e.kind === 'certificate.signed' || e.kind === 'certificate.observed';
}

function journalCopies(entries: JournalEntry[]): Map<string, JournalCopy> {
  const out = new Map<string, JournalCopy>();
  for (const e of entries) {
    if (!isSignedRecord(e)) continue;
    const f = e.facts as { serial?: unknown; certificateBase64?: unknown; certificateSha256Fingerprint?: unknown };
    if (typeof f.certificateBase64 !== 'string' || typeof f.certificateSha256Fingerprint !== 'string') continue;
    const der = Buffer.from(f.certificateBase64, 'base64');
    // Only a copy that hashes to the fingerprint recorded beside it is trusted for a restore.
    if (createHash('sha256').update(der).digest('hex') === f.certificateSha256Fingerprint) out.set(factSerial(e), { der, sha256: f.certificateSha256Fingerprint });
  }
  return out;
}

/** An entry's serial in canonical form (journals written before lower case hold upper-case ones). */
function factSerial(e: JournalEntry): string {
  const s = String((e.facts as { serial?: unknown }).serial ?? '');
  return /^[0-9A-Fa-f]+$/.test(s) ? canonicalSerial(s) : s;
}

/**
 * Consistency of a CA directory after a crash or a pulled token: index, serial file, certificate
 * files and journal must agree; no serial appears twice; every issued certificate verifies under
 * the CA key. A crash leaves the issuances in flight interrupted (one for a lone caller, a batch
 * when several issued at once), each named by the journal (an `issuance.started` without its
 * `certificate.signed`); that is reported, not counted as a problem.
 * A journal whose last line a crash cut short is a problem `--repair` fixes (see repairCaDir).
 */
export function checkCaDir(dir: string): CaCheckResult {
  const abs = resolve(dir);
  const found: Findings = { problems: [], notes: [] };
  const meta = readMeta(abs);
  usableVersion(abs, meta);
  const caPem = readText(caCertPath(abs, meta));
  issuerKeys(caPem); // the active certificate must decode
  const keys = allIssuerKeys(abs, meta);

  let index: IndexEntry[] = [];
  try {
    index = readIndex(abs);
  } catch (e) {
    found.problems.push(e instanceof QpkiError ? e.message : String(e));
  }
  const listed = checkListedFiles(abs, index, keys, found);
  // File names in either case (earlier versions of ours wrote upper case), compared canonically.
  const certFiles = existsSync(join(abs, 'certs')) ? readdirSync(join(abs, 'certs')).filter((f) => /^[0-9A-Fa-f]+\.crt$/.test(f)).map((f) => canonicalSerial(f.slice(0, -4))) : [];
  const onDisk = new Set(certFiles);
  const journal = checkJournalFile(abs, found);
  const entries = journal.entries;
  const copies = journalCopies(entries);
  const record = issuanceRecord(entries, listed);
  const revokedInIndex = new Set(index.filter((e) => e.status === 'R').map((e) => e.serial));
  const { restorable, lost } = classifyDamaged(listed.damaged, copies, record, revokedInIndex, found);
  const interrupted = interruptedIssuances(record, listed.indexed, onDisk, found);
  const inFlight = interrupted.filter((i) => !i.recorded).map((i) => i.serial);
  const interruptedSerials = new Set(interrupted.map((i) => i.serial));
  for (const serial of certFiles) {
    if (!listed.indexed.has(serial) && !interruptedSerials.has(serial) && !record.signed.has(serial)) found.problems.push(`certs/${serial}.crt is not in index.txt and the journal records no issuance of it`);
  }
  const unindexed = signedButUnlisted(entries, listed.indexed, copies, found);
  const foreign = issuedByAnotherTool(listed, record, interruptedSerials, found);
  const used = new Set<string>([...listed.indexed, ...onDisk, ...record.signed]);
  const serialFileLow = checkSerialFile(abs, used, found);
  const tempFiles = tempFilesIn(abs);
  for (const f of tempFiles) found.notes.push(`leftover temporary file ${f} from an interrupted write (harmless; --repair deletes it)`);
  const lock = staleLock(abs);
  if (lock?.alive) found.notes.push(`the CA directory is in use by process ${lock.pid}`);
  else if (lock) found.notes.push(`a lock left by process ${lock.pid}, which no longer runs (the next command takes it over; --repair removes it)`);
  const { journalTornTail, noJournal } = journal;

  return {
    ok: found.problems.length === 0,
    certificates: index.length,
    journalEntries: entries.length,
    problems: found.problems,
    notes: found.notes,
    inFlight,
    interrupted,
    journalTornTail,
    tempFiles,
    restorable,
    unindexed,
    lost,
    foreign,
    noJournal,
    serialFileLow,
    staleLockPid: lock && !lock.alive ? lock.pid : undefined,
    // A dead process's lock alone needs no repair: the next command takes it over.
    repairable: !!journalTornTail || tempFiles.length > 0 || inFlight.length > 0 || restorable.length > 0 || unindexed.length > 0 || lost.length > 0 || !!serialFileLow,
  };
}

/** What a check found so far, in the order it found it (the order the operator reads it in). */
interface Findings {
  problems: string[];
  notes: string[];
}

interface ListedFiles {
  indexed: Set<string>;
  /** What is wrong with listed certificate files; reported once the journal says whether it holds copies. */
  damaged: Map<string, string>;
  fileSha256: Map<string, string>;
}

/** Each index.txt line's certificate file: present, holding that serial, verifying under a CA key. */
function checkListedFiles(abs: string, index: IndexEntry[], keys: ReturnType<typeof allIssuerKeys>, found: Findings): ListedFiles {
  const listed: ListedFiles = { indexed: new Set(), damaged: new Map(), fileSha256: new Map() };
  for (const e of index) {
    if (listed.indexed.has(e.serial)) found.problems.push(`serial ${e.serial} appears twice in index.txt`);
    listed.indexed.add(e.serial);
    const p = certFile(abs, e.serial);
    if (!existsSync(p)) {
      listed.damaged.set(e.serial, `index.txt lists ${e.serial} but certs/${e.serial}.crt is missing`);
      continue;
    }
    try {
      const d = checkIssued(readText(p), keys);
      listed.fileSha256.set(e.serial, d.sha256);
      if (d.serial !== e.serial) listed.damaged.set(e.serial, `certs/${e.serial}.crt holds serial ${d.serial}`);
      else if (!d.valid) listed.damaged.set(e.serial, `certs/${e.serial}.crt does not verify under the CA key`);
    } catch (err) {
      listed.damaged.set(e.serial, `certs/${e.serial}.crt is unreadable: ${err instanceof Error ? err.message : err}`);
    }
  }
  return listed;
}

/** The journal: an intact chain, or an intact chain followed by one line a crash cut short. */
function checkJournalFile(abs: string, found: Findings): { entries: JournalEntry[]; journalTornTail: CaCheckResult['journalTornTail']; noJournal: boolean } {
  let text = '';
  try {
    text = existsSync(journalPath(abs)) ? readFileSync(journalPath(abs), 'utf8') : '';
  } catch (e) {
    found.problems.push(`the journal cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const noJournal = !existsSync(journalPath(abs));
  if (noJournal) found.notes.push('no journal yet (QPKI keeps none): the next command that changes this CA starts one, and `qpki ca check --repair` starts it now, recording the certificates already issued');
  const chain = checkChain(text);
  let journalTornTail: CaCheckResult['journalTornTail'];
  const lines = text.split('\n');
  const tornTail = !chain.ok && chain.firstBroken?.reason === 'truncated last entry' && chain.firstBroken.line === lines.length;
  if (tornTail) {
    journalTornTail = { bytes: Buffer.byteLength(lines[lines.length - 1], 'utf8') };
    found.problems.push(`the journal's last line (${journalTornTail.bytes} bytes) was cut short by a crash; nothing more can be recorded until it is set aside: run \`qpki ca check --repair\` (the fragment is kept in a .torn file and the repair is journaled)`);
  } else if (!chain.ok) {
    found.problems.push(`journal broken at entry ${chain.firstBroken?.seq} (line ${chain.firstBroken?.line}): ${chain.firstBroken?.reason}`);
  }
  return { entries: chain.entries, journalTornTail, noJournal };
}

interface IssuanceRecord {
  /** Issuances started and never recorded as signed: serial → the journal entry that started it. */
  started: Map<string, number>;
  signed: Set<string>;
  /** Interruptions a repair already recorded. */
  recorded: Set<string>;
  /** Certificates a repair recorded as lost. */
  lostRecorded: Set<string>;
}

/**
 * What the journal says of each issuance; a listed file that is not the certificate the journal
 * recorded as signed is damaged too (where the journal holds the signed bytes, --repair puts them back).
 */
function issuanceRecord(entries: JournalEntry[], listed: ListedFiles): IssuanceRecord {
  const r: IssuanceRecord = { started: new Map(), signed: new Set(), recorded: new Set(), lostRecorded: new Set() };
  for (const e of entries) {
    const serial = factSerial(e);
    if (isSignedRecord(e)) {
      const recorded = (e.facts as { certificateSha256Fingerprint?: unknown }).certificateSha256Fingerprint;
      const onFile = listed.fileSha256.get(serial);
      if (onFile && typeof recorded === 'string' && onFile !== recorded && !listed.damaged.has(serial)) {
        listed.damaged.set(serial, `certs/${serial}.crt is not the certificate the journal recorded as signed (SHA-256 ${onFile}, recorded ${recorded})`);
      }
    }
  }
  for (const e of entries) {
    const s = factSerial(e);
    if (e.kind === 'issuance.started') r.started.set(s, e.seq);
    if (isSignedRecord(e)) {
      r.signed.add(s);
      r.started.delete(s);
    }
    if (e.kind === 'error' && (e.facts as { event?: unknown }).event === 'issuance.interrupted') r.recorded.add(s);
    if (e.kind === 'error' && (e.facts as { event?: unknown }).event === 'certificate.lost') r.lostRecorded.add(s);
  }
  return r;
}

/** Each damaged listed certificate: restorable from the journal, already revoked as lost, lost, or only a problem. */
function classifyDamaged(damaged: Map<string, string>, copies: Map<string, JournalCopy>, record: IssuanceRecord, revokedInIndex: Set<string>, found: Findings): { restorable: string[]; lost: string[] } {
  const restorable: string[] = [];
  const lost: string[] = [];
  for (const [serial, what] of damaged) {
    if (copies.has(serial)) {
      restorable.push(serial);
      found.problems.push(`${what}; the journal holds the signed certificate: \`qpki ca check --repair\` restores it (a damaged file is kept aside)`);
    } else if (record.lostRecorded.has(serial) && revokedInIndex.has(serial)) {
      found.notes.push(`certificate ${serial} was lost to a power cut before the journal recorded it as signed; a repair revoked it`);
    } else if (record.started.has(serial)) {
      lost.push(serial);
      found.problems.push(`${what.replace(/\.$/, '')}, and the journal holds no signed copy: the issuance was cut off before the journal recorded it as signed, so the certificate is lost. \`qpki ca check --repair\` revokes serial ${serial} (cessationOfOperation) so that it is on the next CRL should it exist anywhere`);
    } else found.problems.push(what);
  }
  return { restorable, lost };
}

/** Issuances started but never finished: how far each got, and whether a repair recorded it. */
function interruptedIssuances(record: IssuanceRecord, indexed: Set<string>, onDisk: Set<string>, found: Findings): InterruptedIssuance[] {
  const interrupted: InterruptedIssuance[] = [];
  for (const [serial, seq] of record.started) {
    const state: InterruptedState = indexed.has(serial) ? 'indexed-not-journaled' : onDisk.has(serial) ? 'signed-not-indexed' : 'not-signed';
    interrupted.push({ serial, seq, state, recorded: record.recorded.has(serial) });
    if (record.recorded.has(serial)) continue;
    const what =
      state === 'not-signed' ? 'stopped before signing; no certificate with that serial exists'
      : state === 'signed-not-indexed' ? `stopped after signing: certs/${serial}.crt exists but index.txt does not list it and it was never delivered`
      : 'completed on disk (index.txt lists it) but the journal lost its certificate.signed entry';
    found.notes.push(`issuance of serial ${serial} (journal entry ${seq}) was interrupted: ${what}. \`qpki ca check --repair\` records this in the journal.`);
  }
  return interrupted;
}

/** Certificates the journal records as signed that index.txt does not list (a power cut in the final flush). */
function signedButUnlisted(entries: JournalEntry[], indexed: Set<string>, copies: Map<string, JournalCopy>, found: Findings): string[] {
  const unindexed: string[] = [];
  for (const e of entries) {
    if (isSignedRecord(e) && (e.facts as { path?: string }).path?.startsWith('certs/') && !indexed.has(factSerial(e))) {
      const what = `the journal records certificate ${factSerial(e)} as signed but index.txt does not list it`;
      if (copies.has(factSerial(e))) {
        unindexed.push(factSerial(e));
        found.problems.push(`${what} (what a power cut during an issuance's final flush leaves); the journal holds the signed certificate: \`qpki ca check --repair\` lists it in index.txt and writes its file`);
      } else found.problems.push(what);
    }
  }
  return unindexed;
}

/**
 * Listed, verified, and unknown to the journal: another tool (QPKI) issued it here. A line whose
 * file is missing or does not verify was reported as the problem it is.
 */
function issuedByAnotherTool(listed: ListedFiles, record: IssuanceRecord, interruptedSerials: Set<string>, found: Findings): string[] {
  const foreign: string[] = [];
  for (const s of listed.indexed) {
    if (record.signed.has(s) || interruptedSerials.has(s) || listed.damaged.has(s)) continue;
    foreign.push(s);
  }
  if (foreign.length) found.notes.push(`${foreign.length} listed certificate(s) verify under the CA key but the journal does not record them (issued by another tool such as QPKI: ${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); \`qpki ca check --repair\` records them`);
  return foreign;
}

/**
 * The serial file holds the NEXT serial (QPKI issues exactly that number): it must be above every
 * serial used here (listed, on disk, signed per the journal, the CA's own), or QPKI would reuse
 * one. A gap is fine (ours raises it before signing, so a crash leaves one). An issuance that
 * stopped before signing used nothing: ours raises the serial file after the journal names the
 * serial, and before any certificate file exists.
 */
function checkSerialFile(abs: string, used: Set<string>, found: Findings): CaCheckResult['serialFileLow'] {
  for (const s of caCertificateSerials(abs, (pem) => describeDocument(pem).serial)) used.add(s);
  let highest = 0n;
  for (const s of used) if (/^[0-9a-f]+$/.test(s) && serialBigInt(s) > highest) highest = serialBigInt(s);
  const sf = readSerialFile(abs);
  if (sf.next !== undefined && sf.next > highest) return undefined;
  found.problems.push(
    sf.next === undefined
      ? `the serial file ${sf.text ? `holds "${sf.text.slice(0, 40)}", not an even number of hex digits` : 'is missing or empty'}; \`qpki ca check --repair\` sets it above the highest serial used (${serialFromBigInt(highest)})`
      : `the serial file names ${sf.text}, which is not above serial ${serialFromBigInt(highest)} already used: QPKI would issue it again (a directory an earlier qpki wrote names its last serial there); \`qpki ca check --repair\` raises it`,
  );
  return { text: sf.text, highest: serialFromBigInt(highest) };
}

export interface CaRepairResult {
  /** The torn journal line set aside, or null when the journal ended cleanly. */
  journal: { removedBytes: number; removedSha256: string; savedTo: string } | null;
  removedTempFiles: string[];
  /** Interrupted issuances now recorded in the journal (`error` entries, event issuance.interrupted). */
  recordedInterruptions: string[];
  /** Certificate files written back from the journal's copy (`error` entries, event certificate.restored). */
  restoredCertificates: string[];
  /** Certificates the journal records as signed, listed again in index.txt (`error` entries, event certificate.indexed). */
  indexedCertificates: string[];
  /** Lost certificates revoked (`certificate.revoked`, then an `error` entry, event certificate.lost). */
  revokedLost: string[];
  /** Certificates another tool issued, now recorded (`certificate.observed`). */
  observedCertificates: string[];
  /** The serial file's new contents when it was raised. */
  serialFileRaised?: string;
  staleLockRemoved: boolean;
  /** The check after the repair. */
  after: CaCheckResult;
}

/** What the journal keeps of a certificate found in the directory: its facts and its bytes. */
function observedFacts(pem: string, path: string): Record<string, unknown> {
  const d = describeDocument(pem);
  return {
    serial: d.serial, subject: d.subject, issuer: d.issuer, notBefore: d.notBefore, notAfter: d.notAfter,
    certificateSha256Fingerprint: d.sha256, path, certificateBase64: Buffer.from(d.der).toString('base64'),
  };
}

/** Set the serial file above `serials` and above what it holds; returns what it now holds. */
function raiseSerialFile(abs: string, serials: string[]): string {
  let highest = 0n;
  for (const s of serials) if (serialBigInt(s) > highest) highest = serialBigInt(s);
  const text = nextSerialFileText(readSerialFile(abs).next, highest);
  overwriteSmallFile(join(abs, SERIAL_FILE), text);
  return text.trim();
}

/**
 * Write a certificate file back from the journal's copy; a file in the way (empty, cut short,
 * another certificate) is kept aside under a name saying when. Returns that name, if any.
 */
function writeBackCertificate(abs: string, serial: string, copy: JournalCopy): string | undefined {
  const setAside = setAsideDamaged(abs, serial);
  writeFileAtomic(join(abs, 'certs', certFileName(serial)), toPem(copy.der, 'CERTIFICATE'), { createOnly: true });
  return setAside;
}

/** Move a damaged certificate file out of the way, never deleting it; its new name, if there was one. */
function setAsideDamaged(abs: string, serial: string): string | undefined {
  const file = certFile(abs, serial);
  if (!existsSync(file)) return undefined;
  const setAside = `${certFileName(serial)}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(file, join(abs, 'certs', setAside));
  return setAside;
}

/**
 * Repairs what a crash leaves behind, and only that: sets aside a journal line cut short (kept
 * byte for byte in a .torn file, the repair journaled), deletes atomic-write temporary files and a
 * dead process's lock, records interrupted issuances in the journal, and writes back a listed
 * certificate file that is missing or damaged from the signed bytes the journal recorded (the
 * damaged file kept aside as `<serial>.crt.damaged-<time>`). index.txt changes in one way only:
 * a certificate the journal records as signed, with its bytes, gets back the line a power cut
 * took (and the serial file follows it). No line is ever removed or rewritten, and no
 * certificate is ever re-signed. A listed certificate whose bytes are lost everywhere (no file,
 * no signed copy in the journal) is revoked, so that the next CRL names it. Refuses when the
 * journal is broken other than at its tail (that is tampering or damage for a person to look
 * at, not a crash).
 */
export function repairCaDir(dir: string, who?: { operator: string; witnesses: string[] }): CaRepairResult {
  const abs = resolve(dir);
  const before = checkCaDir(abs);
  const unlock = lockCaDir(abs); // takes over a dead process's lock; refuses while another runs
  const staleLockRemoved = before.staleLockPid !== undefined;
  let done: Omit<CaRepairResult, 'after' | 'staleLockRemoved'>;
  try {
    const journal = before.journalTornTail ? repairJournalTail(abs, who) : null;
    const mid = journal ? checkCaDir(abs) : before;
    const removedTempFiles = removeTempFiles(abs, mid.tempFiles);
    // Everything below writes to the journal: only onto a chain that is intact (after its torn tail was set aside).
    const chainBroken = mid.problems.some((p) => p.startsWith('journal broken'));
    const recordedInterruptions = chainBroken ? [] : recordInterruptions(abs, mid, who);
    const restored = chainBroken ? { restoredCertificates: [], indexedCertificates: [] } : restoreFromJournal(abs, mid, who);
    const revokedLost = chainBroken ? [] : revokeLost(abs, mid, who);
    const observedCertificates = chainBroken ? [] : recordObserved(abs, mid, who);
    // The serial file raised above every serial used (never lowered).
    const serialFileRaised = mid.serialFileLow ? raiseSerialFile(abs, [mid.serialFileLow.highest]) : undefined;
    done = { journal, removedTempFiles, recordedInterruptions, ...restored, revokedLost, observedCertificates, serialFileRaised };
  } finally {
    unlock();
  }
  return { ...done, staleLockRemoved, after: checkCaDir(abs) };
}

type Who = { operator: string; witnesses: string[] } | undefined;

function removeTempFiles(abs: string, tempFiles: string[]): string[] {
  const removed: string[] = [];
  for (const f of tempFiles) {
    try {
      unlinkSync(join(abs, f));
      removed.push(f);
    } catch (e) {
      throw new QpkiError('IO_ERROR', `Cannot delete ${f}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
    }
  }
  return removed;
}

/** Interrupted issuances not yet recorded, each an `error` entry (event issuance.interrupted) saying how far it got. */
function recordInterruptions(abs: string, mid: CaCheckResult, who: Who): string[] {
  if (!mid.inFlight.length) return [];
  const recorded: string[] = [];
  const j = Journal.open(abs, who);
  for (const i of mid.interrupted.filter((x) => !x.recorded)) {
    const cert = certFile(abs, i.serial);
    const facts: Record<string, unknown> = { event: 'issuance.interrupted', serial: i.serial, startedEntry: i.seq, state: i.state };
    if (i.state !== 'not-signed' && existsSync(cert)) {
      // A power cut can leave the file of a certificate never delivered empty or cut short.
      try {
        facts.certificateSha256Fingerprint = describeDocument(readText(cert)).sha256;
      } catch {
        facts.certificateFile = 'unreadable (empty or cut short)';
      }
    }
    j.append('error', facts);
    recorded.push(i.serial);
  }
  return recorded;
}

/**
 * Listed certificates written back from the journal's signed copy, and certificates the journal
 * records as signed listed again in index.txt, in the order they were signed, with the file
 * written back where it is missing or not the recorded one.
 */
function restoreFromJournal(abs: string, mid: CaCheckResult, who: Who): { restoredCertificates: string[]; indexedCertificates: string[] } {
  const restoredCertificates: string[] = [];
  const indexedCertificates: string[] = [];
  if (!mid.restorable.length && !mid.unindexed.length) return { restoredCertificates, indexedCertificates };
  const copies = journalCopies(checkChain(readText(journalPath(abs))).entries);
  const j = Journal.open(abs, who);
  for (const serial of mid.restorable) {
    const copy = copies.get(serial);
    if (!copy) continue;
    const setAside = writeBackCertificate(abs, serial, copy);
    j.append('error', { event: 'certificate.restored', serial, certificateSha256Fingerprint: copy.sha256, from: 'journal', ...(setAside ? { damagedFileKeptAs: `certs/${setAside}` } : {}) });
    restoredCertificates.push(serial);
  }
  const lines: IndexEntry[] = [];
  const indexedFacts: Record<string, unknown>[] = [];
  for (const serial of mid.unindexed) {
    const copy = copies.get(serial);
    if (!copy) continue;
    let onFile: string | undefined;
    try {
      onFile = createHash('sha256').update(pemOrDer(readText(certFile(abs, serial)), ['CERTIFICATE'])).digest('hex');
    } catch {
      onFile = undefined; // missing, empty or unreadable: written back below
    }
    const setAside = onFile === copy.sha256 ? undefined : writeBackCertificate(abs, serial, copy);
    const t = AsnConvert.parse(copy.der, Certificate).tbsCertificate;
    lines.push({ status: 'V', expires: t.validity.notAfter.getTime(), serial, file: 'unknown', subject: opensslSubject(t.subject) });
    indexedFacts.push({
      event: 'certificate.indexed',
      serial,
      certificateSha256Fingerprint: copy.sha256,
      from: 'journal',
      certificateFile: onFile === copy.sha256 ? 'kept' : 'written from the journal',
      ...(setAside ? { damagedFileKeptAs: `certs/${setAside}` } : {}),
    });
  }
  if (lines.length) {
    // On disk first, then journaled: a failure in between leaves them listed as still to do.
    appendIndexEntries(abs, lines);
    raiseSerialFile(abs, lines.map((l) => l.serial));
    syncPaths([join(abs, 'index.txt'), join(abs, SERIAL_FILE)]);
    j.appendAll(indexedFacts.map((facts) => ({ kind: 'error' as const, facts })));
    indexedCertificates.push(...lines.map((l) => l.serial));
  }
  return { restoredCertificates, indexedCertificates };
}

/**
 * Lost certificates (their interruptions recorded first): revoked, so that a copy that escaped (a
 * bulk run returns certificates before its flush) is refused by whoever checks the CRL.
 */
function revokeLost(abs: string, mid: CaCheckResult, who: Who): string[] {
  const revoked: string[] = [];
  for (const serial of mid.lost) {
    const setAside = setAsideDamaged(abs, serial);
    revokeInIndex(abs, serial, 'cessationOfOperation', new Date(), who);
    Journal.open(abs, who).append('error', { event: 'certificate.lost', serial, revoked: 'cessationOfOperation', ...(setAside ? { damagedFileKeptAs: `certs/${setAside}` } : {}) });
    revoked.push(serial);
  }
  return revoked;
}

/**
 * A CA another tool made or issued in: its CA certificate (when the journal is new) and the
 * certificates it listed are recorded, with their bytes, so the journal accounts for them.
 */
function recordObserved(abs: string, mid: CaCheckResult, who: Who): string[] {
  if (!mid.noJournal && !mid.foreign.length) return [];
  const j = Journal.open(abs, who);
  const events: { kind: 'certificate.observed'; facts: Record<string, unknown> }[] = [];
  if (mid.noJournal) {
    const meta = readMeta(abs);
    const p = caCertPath(abs, meta);
    events.push({ kind: 'certificate.observed', facts: { ...observedFacts(readText(p), relative(abs, p)), role: 'CA certificate', version: meta.active, note: 'the journal starts here: this CA directory was made without one (by QPKI)' } });
  }
  const observed: string[] = [];
  for (const serial of mid.foreign) {
    const p = certFile(abs, serial);
    events.push({ kind: 'certificate.observed', facts: { ...observedFacts(readText(p), relative(abs, p)), note: 'listed in index.txt and verified under the CA key, not issued through this journal (by QPKI)' } });
    observed.push(serial);
  }
  j.appendAll(events);
  return observed;
}
