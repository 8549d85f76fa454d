/**
 * The hash chain itself, free of any file handling: what an entry is, how its hash is taken,
 * and how a journal's text is checked line by line. Both the writer and the verifier use this,
 * so "what counts as intact" is defined once.
 */
import { canonicalSha256 } from './canonical';

export const JOURNAL_KINDS = [
  'ceremony.opened',
  'preflight',
  'module.loaded',
  'token.chosen',
  'token.initialized',
  'token.init.failed',
  'login.succeeded',
  'login.failed',
  'key.generated',
  'key.selected',
  /** The operator chose where the CA key lives instead of the token (a software key file), and why. */
  'key.storage.chosen',
  'certificate.signed',
  'csr.created',
  'csr.accepted',
  'csr.refused',
  'crl.generated',
  'certificate.revoked',
  'issuance.started',
  'signing.prepared',
  'signing.failed',
  'confirmation',
  /** A certificate found in the CA directory that another tool (QPKI) issued, recorded by `ca check --repair`. */
  'certificate.observed',
  /** `ca rotate`: a new key version (pending until activated). */
  'ca.rotated',
  /** `ca activate`: the version that signs from now on. */
  'ca.activated',
  /** `ocsp sign`: an OCSP response signed by the CA (or a delegated responder). */
  'ocsp.signed',
  /** `ceremony run` / the app: the reviewed plan this ceremony follows (its SHA-256 and steps), first thing. */
  'plan.loaded',
  /** A plan step began or ended (step n of N, its id and type, and what it made). */
  'plan.step.started',
  'plan.step.completed',
  /** A departure from the plan (skipped step, retry, error, changed value) with the operator's typed note. */
  'ceremony.deviation',
  /** A witness acknowledged a step, a preflight warning's justification, or the clock against a reference time. */
  'witness.acknowledged',
  'ceremony.closed',
  'error',
] as const;

export type JournalKind = (typeof JOURNAL_KINDS)[number];

export interface JournalEntry {
  seq: number;
  time: string;
  kind: JournalKind;
  operator: string;
  witnesses: string[];
  facts: Record<string, unknown>;
  prev: string;
  hash: string;
}

/** `prev` of the first entry. */
export const ZERO_HASH = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** SHA-256 (hex) of the entry's RFC 8785 canonical encoding without its `hash` member. */
export function entryHash(entry: Omit<JournalEntry, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...body } = entry;
  return canonicalSha256(body);
}

export interface ChainBreak {
  /** The first sequence number that cannot be vouched for: entries 1…seq-1 are intact. */
  seq: number;
  /** 1-based line of the journal file where the problem shows. */
  line: number;
  reason: string;
}

export interface ChainCheck {
  ok: boolean;
  /** Entries verified intact (all of them when ok; those before the break otherwise). */
  entries: JournalEntry[];
  /** Hash of the last intact entry (ZERO_HASH when there is none). */
  lastHash: string;
  firstBroken?: ChainBreak;
}

/** Why `value` is not a well-formed entry, or undefined when it is. */
export function shapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const e = value as Record<string, unknown>;
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return 'bad seq';
  if (typeof e.time !== 'string' || !ISO_UTC_MS.test(e.time) || Number.isNaN(Date.parse(e.time))) return 'bad time';
  if (typeof e.kind !== 'string' || !(JOURNAL_KINDS as readonly string[]).includes(e.kind)) return 'unknown kind';
  if (typeof e.operator !== 'string') return 'bad operator';
  if (!Array.isArray(e.witnesses) || !e.witnesses.every((w) => typeof w === 'string')) return 'bad witnesses';
  if (e.facts === null || typeof e.facts !== 'object' || Array.isArray(e.facts)) return 'bad facts';
  if (typeof e.prev !== 'string' || !HEX64.test(e.prev)) return 'bad prev';
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'bad hash';
  const known = new Set(['seq', 'time', 'kind', 'operator', 'witnesses', 'facts', 'prev', 'hash']);
  const extra = Object.keys(e).find((k) => !known.has(k));
  if (extra) return `unexpected member "${extra}"`;
  return undefined;
}

/**
 * Checks journal text: every line a complete, well-formed entry; seq counting 1, 2, 3…;
 * each `prev` equal to the hash of the entry before; each `hash` matching the entry's content;
 * the file ending in a newline (otherwise the last append was cut short).
 */
export function checkChain(text: string): ChainCheck {
  const entries: JournalEntry[] = [];
  let prevHash = ZERO_HASH;
  const lines = text.split('\n');
  // A file written only by append ends with '\n', so the last piece of the split is empty.
  const tail = lines.pop() ?? '';
  const broken = (line: number, reason: string): ChainCheck => ({
    ok: false,
    entries,
    lastHash: prevHash,
    firstBroken: { seq: entries.length + 1, line, reason },
  });

  for (let i = 0; i < lines.length; i++) {
    const expected = entries.length + 1;
    const line = i + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(lines[i]);
    } catch {
      return broken(line, lines[i].trim() === '' ? 'empty line' : 'line is not valid JSON');
    }
    const problem = shapeProblem(parsed);
    if (problem) return broken(line, `malformed entry: ${problem}`);
    const entry = parsed as JournalEntry;
    if (entry.seq > expected) return broken(line, `entry ${expected} is missing (found entry ${entry.seq} here)`);
    if (entry.seq < expected) return broken(line, `entries out of order or repeated (found entry ${entry.seq} where ${expected} belongs)`);
    if (entry.prev !== prevHash) {
      return broken(line, expected === 1
        ? 'first entry does not start the chain (entries before it were removed?)'
        : `does not chain to entry ${expected - 1}: that entry or this one was changed`);
    }
    if (entryHash(entry) !== entry.hash) return broken(line, 'content does not match its hash: the entry was edited');
    entries.push(entry);
    prevHash = entry.hash;
  }
  if (tail !== '') return broken(lines.length + 1, 'truncated last entry');
  return { ok: true, entries, lastHash: prevHash };
}
