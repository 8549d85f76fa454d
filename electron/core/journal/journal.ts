/**
 * The ceremony journal: `journal.jsonl` in the CA directory, one RFC 8785-canonical JSON entry
 * per line, each carrying the SHA-256 of the entry before it (`prev`) and of itself (`hash`).
 * Editing, deleting, reordering or cutting entries breaks the chain; cutting whole entries off
 * the end shows only against the last hash written on paper (`verifyJournal(dir, { knownHash })`).
 *
 * Crash during an append: the file then ends without a newline. The journal refuses to append
 * onto that fragment (JOURNAL_BROKEN, "run `qpki ca check`"), because chaining onto garbage
 * would either hide the crash or make the next entry unreadable. `repairJournalTail` is the
 * deliberate way out: it moves the fragment, byte for byte, into `journal.jsonl.torn-<time>`
 * beside the journal, cuts the file back to its last complete entry and records that repair
 * as an `error` entry (bytes removed, their SHA-256, where they went) — nothing is lost and
 * the repair itself is on the record.
 *
 * Writers: one process at a time (the CA directory lock keeps it so). Each append still re-reads
 * the tail, so a journal held open by the app chains correctly after the CLI appended.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { createHash, hash } from 'node:crypto';
import { QpkiError } from '../errors';
import { fsyncDir, makeDirsDurable, PARENT_DIR_MODE, PRIVATE_DIR_MODE } from '../dirs';
import { canonicalJson } from './canonical';
import { JOURNAL_KINDS, ZERO_HASH, checkChain, entryHash, shapeProblem, type ChainBreak, type JournalEntry, type JournalKind } from './chain';
import { assertNoSecrets, toFacts } from './facts';

export { JOURNAL_KINDS, ZERO_HASH, type JournalEntry, type JournalKind } from './chain';
export { toFacts } from './facts';
export { formatJournal } from './format';

export const JOURNAL_FILE = 'journal.jsonl';

export function journalPath(caDir: string): string {
  return join(caDir, JOURNAL_FILE);
}

interface Tail {
  seq: number;
  hash: string;
  /** File size right after this process's own last append; unset when the tail was read. */
  size?: number;
}

function fileSize(file: string): number | undefined {
  try {
    return statSync(file).size;
  } catch {
    return undefined;
  }
}

export class Journal {
  private constructor(
    private readonly file: string,
    private operator: string,
    private witnesses: string[],
    private tail: Tail,
  ) {}

  /**
   * Opens (creating the CA directory and the file if missing) and reads the last entry to
   * continue the chain. Throws JOURNAL_BROKEN if the last entry is cut short or altered.
   */
  static open(caDir: string, who?: { operator: string; witnesses: string[] }): Journal {
    const operator = who?.operator ?? defaultOperator();
    const witnesses = who?.witnesses ?? [];
    checkParticipants(operator, witnesses);
    const file = journalPath(caDir);
    try {
      // The folder's entry (and its new parents') flushed too: the record must outlive a power cut.
      makeDirsDurable(caDir, PRIVATE_DIR_MODE, PARENT_DIR_MODE);
      if (!existsSync(file)) {
        closeSync(openSync(file, 'a', 0o644));
        fsyncDir(caDir);
      }
    } catch (e) {
      throw ioError(`Cannot create the journal ${file}`, e);
    }
    return new Journal(file, operator, [...witnesses], readTail(file));
  }

  /** Appends one entry (O_APPEND, fsync) and returns it. Facts are converted with `toFacts`. */
  append(kind: JournalKind, facts: Record<string, unknown>, opts: { sync?: boolean } = {}): JournalEntry {
    return this.appendMany([{ kind, facts }], opts)[0];
  }

  /**
   * Append several entries with one write: every one is checked (kind, no secret-named fact)
   * before any is written, and they are chained in order. A busy CA records a batch of
   * issuances this way instead of paying a system call per entry.
   */
  appendMany(events: { kind: JournalKind; facts: Record<string, unknown> }[], opts: { sync?: boolean } = {}): JournalEntry[] {
    const plain = recordableFacts(events);
    if (!events.length) return [];
    // Another process (the CLI beside the app) may have appended since we last wrote: re-read
    // the tail unless the file is exactly as long as our own last append left it.
    if (this.tail.size === undefined || fileSize(this.file) !== this.tail.size) this.tail = readTail(this.file);
    let { seq, hash: prev } = this.tail;
    const time = new Date().toISOString();
    const entries: JournalEntry[] = [];
    let text = '';
    for (let i = 0; i < events.length; i++) {
      const body: Omit<JournalEntry, 'hash'> = {
        seq: ++seq,
        time,
        kind: events[i].kind,
        operator: this.operator,
        witnesses: [...this.witnesses],
        facts: plain[i],
        prev,
      };
      const { hash, line } = encodeEntry(body);
      entries.push({ ...body, hash });
      text += line + '\n';
      prev = hash;
    }
    const size = appendLine(this.file, text, opts.sync ?? true);
    this.tail = { seq, hash: prev, size };
    return entries;
  }

  /**
   * Append several entries as one step: every one is checked (kind, no secret-named fact)
   * before the first is written, so a refused entry never leaves the others half-recorded.
   */
  appendAll(events: { kind: JournalKind; facts: Record<string, unknown> }[]): JournalEntry[] {
    return this.appendMany(events, { sync: true });
  }

  /**
   * Make every entry appended so far durable. Callers that append several entries for one
   * operation (issuance) append them unsynced and call this once, with their other writes.
   */
  sync(): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.file, 'r');
      fsyncSync(fd);
    } catch (e) {
      throw ioError(`Cannot flush the journal ${this.file}`, e);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** Hash of the last entry (64 zeros for an empty journal): the value to write on paper. */
  lastHash(): string {
    return this.tail.hash;
  }

  /** Who acts and who watches from the next entry on (people change during a long ceremony). */
  setParticipants(operator: string, witnesses: string[]): void {
    checkParticipants(operator, witnesses);
    this.operator = operator;
    this.witnesses = [...witnesses];
  }
}

/**
 * The canonical line of an entry and its hash, with the facts encoded once. The keys of an
 * entry, in RFC 8785 order, are facts, hash, kind, operator, prev, seq, time, witnesses: the
 * hashed body is the same text without "hash". `encodeEntry` matches `canonicalJson(entry)` and
 * `entryHash(body)` byte for byte (journal.test.ts checks it).
 */
export function encodeEntry(body: Omit<JournalEntry, 'hash'>): { hash: string; line: string } {
  const facts = canonicalJson(body.facts);
  const rest =
    `"kind":${canonicalJson(body.kind)},"operator":${canonicalJson(body.operator)},"prev":${canonicalJson(body.prev)},` +
    `"seq":${canonicalJson(body.seq)},"time":${canonicalJson(body.time)},"witnesses":${canonicalJson(body.witnesses)}}`;
  // A string is hashed as its UTF-8 bytes.
  const entryHash = hash('sha256', `{"facts":${facts},${rest}`, 'hex');
  return { hash: entryHash, line: `{"facts":${facts},"hash":"${entryHash}",${rest}` };
}

/** Refuse, before anything is written, events the journal would refuse (unknown kind, secret-named facts). */
export function assertRecordable(events: { kind: JournalKind; facts: Record<string, unknown> }[]): void {
  recordableFacts(events);
}

/** The events' facts as plain JSON, once every event is known to be recordable. */
function recordableFacts(events: { kind: JournalKind; facts: Record<string, unknown> }[]): ReturnType<typeof toFacts>[] {
  return events.map((e) => {
    if (!(JOURNAL_KINDS as readonly string[]).includes(e.kind)) throw new QpkiError('INTERNAL', `Unknown journal entry kind "${String(e.kind)}".`);
    const f = toFacts(e.facts);
    assertNoSecrets(f);
    return f;
  });
}

export interface JournalVerification {
  ok: boolean;
  /** Entries verified intact: all of them when ok, those before the break otherwise. */
  entries: number;
  /** Hash of the last intact entry. */
  lastHash: string;
  firstBroken?: ChainBreak;
}

/**
 * Checks the whole chain. `knownHash` is a hash written down earlier (on paper, in the
 * transcript): it must be the hash of some entry, otherwise the journal was cut back or rewritten.
 * A missing journal counts as empty; a missing CA directory is CA_NOT_FOUND.
 */
export function verifyJournal(caDir: string, opts: { knownHash?: string } = {}): JournalVerification {
  const check = checkChain(readJournalText(caDir));
  const result: JournalVerification = {
    ok: check.ok,
    entries: check.entries.length,
    lastHash: check.lastHash,
    ...(check.firstBroken ? { firstBroken: check.firstBroken } : {}),
  };
  if (result.ok && opts.knownHash !== undefined) {
    const known = opts.knownHash.replace(/[\s:]/g, '').toLowerCase();
    if (!check.entries.some((e) => e.hash === known) && !(known === ZERO_HASH && check.entries.length === 0)) {
      return {
        ...result,
        ok: false,
        firstBroken: {
          seq: check.entries.length + 1,
          line: check.entries.length + 1,
          reason: 'the recorded hash is not in the journal: entries were cut off the end or the journal was rewritten',
        },
      };
    }
  }
  return result;
}

/** All entries as recorded (chain not checked; see verifyJournal). Throws JOURNAL_BROKEN on unreadable lines. */
export function readJournal(caDir: string): JournalEntry[] {
  const text = readJournalText(caDir);
  const lines = text.split('\n');
  const tail = lines.pop() ?? '';
  if (tail !== '') {
    throw broken(`The last entry of ${journalPath(caDir)} is incomplete (line ${lines.length + 1}): the app stopped while writing it.`);
  }
  return lines.map((line, i) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw broken(`Line ${i + 1} of ${journalPath(caDir)} is not a journal entry.`);
    }
    const problem = shapeProblem(parsed);
    if (problem) throw broken(`Line ${i + 1} of ${journalPath(caDir)} is not a journal entry (${problem}).`);
    return parsed as JournalEntry;
  });
}

/**
 * Sets aside a last entry that a crash cut short (see the file comment). Returns null when the
 * journal ends cleanly. The repair is recorded as an `error` entry with the fragment's size and hash.
 */
export function repairJournalTail(
  caDir: string,
  who?: { operator: string; witnesses: string[] },
): { removedBytes: number; removedSha256: string; savedTo: string } | null {
  const file = journalPath(caDir);
  if (!existsSync(file)) return null;
  let fragment: Buffer;
  let savedTo: string;
  const fd = openSync(file, 'r+');
  try {
    const data = readFileSync(fd);
    if (data.length === 0 || data[data.length - 1] === 0x0a) return null;
    const keep = data.lastIndexOf(0x0a) + 1;
    fragment = data.subarray(keep);
    savedTo = `${file}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const out = openSync(savedTo, 'wx', 0o644);
    try {
      writeAll(out, fragment);
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    ftruncateSync(fd, keep);
    fsyncSync(fd);
  } catch (e) {
    if (e instanceof QpkiError) throw e;
    throw ioError(`Cannot repair the journal ${file}`, e);
  } finally {
    closeSync(fd);
  }
  fsyncDir(caDir);
  const removedSha256 = createHash('sha256').update(fragment).digest('hex');
  Journal.open(caDir, who).append('error', {
    event: 'journal.repaired',
    reason: 'truncated last entry',
    removedBytes: fragment.length,
    removedSha256,
    savedTo: basename(savedTo),
  });
  return { removedBytes: fragment.length, removedSha256, savedTo };
}

function readJournalText(caDir: string): string {
  if (!existsSync(caDir) || !statSync(caDir).isDirectory()) {
    throw new QpkiError('CA_NOT_FOUND', `No CA directory at ${caDir}.`);
  }
  const file = journalPath(caDir);
  if (!existsSync(file)) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw ioError(`Cannot read the journal ${file}`, e);
  }
}

/** Reads just enough of the file's end to find the last complete entry. */
function readTail(file: string): Tail {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw ioError(`Cannot open the journal ${file}`, e);
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { seq: 0, hash: ZERO_HASH };
    let chunk = 8 * 1024; // an entry is a few hundred bytes; grown below if one is longer
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      if (buf[buf.length - 1] !== 0x0a) {
        throw broken(`The last entry of ${file} is incomplete: the app stopped while writing it. Nothing more is recorded until it is set aside: run \`qpki ca check\` on this CA directory.`);
      }
      const before = buf.lastIndexOf(0x0a, buf.length - 2);
      if (before < 0 && start > 0) {
        chunk *= 4;
        continue;
      }
      return parseTail(file, buf.subarray(before + 1, buf.length - 1).toString('utf8'));
    }
  } finally {
    closeSync(fd);
  }
}

function parseTail(file: string, line: string): Tail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  const problem = parsed === undefined ? 'not JSON' : shapeProblem(parsed);
  const entry = parsed as JournalEntry;
  if (problem || entryHash(entry) !== entry.hash) {
    throw broken(`The last entry of ${file} is damaged or was altered${problem ? ` (${problem})` : ''}; nothing more is recorded. Run \`qpki ca check\` on this CA directory.`);
  }
  return { seq: entry.seq, hash: entry.hash };
}

/** Append one line; returns the file's size afterwards. */
function appendLine(file: string, line: string, sync: boolean): number {
  let fd: number;
  try {
    fd = openSync(file, 'a', 0o644);
  } catch (e) {
    throw ioError(`Cannot open the journal ${file}`, e);
  }
  try {
    writeAll(fd, Buffer.from(line, 'utf8'));
    if (sync) fsyncSync(fd);
    return fstatSync(fd).size;
  } catch (e) {
    throw ioError(`Cannot write to the journal ${file}`, e);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

function defaultOperator(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

function checkParticipants(operator: string, witnesses: string[]): void {
  const okName = (s: unknown) => typeof s === 'string' && s.trim() !== '' && s.length <= 200 && !/[\u0000-\u001f\u007f]/.test(s);
  if (!okName(operator)) throw new QpkiError('INPUT_INVALID', 'The operator name must be 1 to 200 printable characters.');
  if (!Array.isArray(witnesses) || !witnesses.every(okName)) {
    throw new QpkiError('INPUT_INVALID', 'Each witness name must be 1 to 200 printable characters.');
  }
}

function broken(message: string): QpkiError {
  return new QpkiError('JOURNAL_BROKEN', message);
}

function ioError(what: string, e: unknown): QpkiError {
  const code = (e as NodeJS.ErrnoException)?.code;
  return new QpkiError('IO_ERROR', `${what}${code ? ` (${code})` : ''}.`);
}
