/**
 * The command line's share of the ceremony record. A `qpki` run is one short ceremony step: what
 * it does before a CA directory is at hand (module loaded, token chosen, login) is held here and
 * written into that CA's journal — as `ca init`'s journal preamble, or first thing after an
 * existing CA is opened — under the operator and witnesses given with --operator/--witness.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Journal, JournalKind } from '../core/journal/journal';
import { appFingerprint, fileSha256 } from '../core/journal/fingerprint';
import { preflight } from '../core/journal/preflight';
import { QpkiError, toErrorPayload } from '../core/errors';
import { lockCaDir } from '../core/ca/fsx';
import type { CaKeyAccess, CertificateAuthority } from '../core/ca/index';
import type { TokenSession } from '../core/pkcs11/index';

/** The journal's code (and node:crypto with it), loaded by the runs that write a record: every command loads this module, `ca info` and the like write none. */
const journalCode = () => require('../core/journal/journal') as typeof import('../core/journal/journal');

declare const QPKI_VERSION: string | undefined;

export interface CeremonyOptions {
  operator?: string;
  witness?: string[];
  purpose?: string;
}

type Event = { kind: JournalKind; facts: Record<string, unknown> };

let given: CeremonyOptions = {};
let held: Event[] = [];
const librariesRecorded = new Set<string>();
/** The CA journal this run wrote to, closed at the end of the run when a ceremony was opened. */
let run: { journal: Journal; command: string; close: boolean; dir: string } | null = null;

const printable = (s: string) => s.trim() !== '' && s.length <= 200 && !/[\u0000-\u001f\u007f]/.test(s);

/** The global --operator/--witness/--purpose of this run (set before the command's action). */
export function setCeremonyOptions(o: CeremonyOptions): void {
  // Checked before anything is done, so a bad name never stops a ceremony half-way.
  if (o.operator !== undefined && !printable(o.operator)) throw new QpkiError('INPUT_INVALID', '--operator must be 1 to 200 printable characters.');
  for (const w of o.witness ?? []) if (!printable(w)) throw new QpkiError('INPUT_INVALID', 'Each --witness must be 1 to 200 printable characters.');
  if (o.purpose !== undefined && (o.purpose.trim() === '' || o.purpose.length > 500)) throw new QpkiError('INPUT_INVALID', '--purpose must be 1 to 500 characters.');
  given = { operator: o.operator, witness: o.witness ?? [], purpose: o.purpose };
  held = [];
  librariesRecorded.clear();
  run = null;
}

/** True when the people present are named: an operator and at least one witness. */
export function peopleNamed(): boolean {
  return !!given.operator && (given.witness?.length ?? 0) > 0;
}

/** True when the operator named a ceremony on the command line. */
export function ceremonyGiven(): boolean {
  return !!(given.operator || given.witness?.length || given.purpose);
}

/** Who is recorded on each entry; undefined keeps the journal's default (the OS user, no witnesses). */
export function participants(): { operator: string; witnesses: string[] } | undefined {
  if (!given.operator && !given.witness?.length) return undefined;
  const { userInfo } = require('node:os') as typeof import('node:os');
  return { operator: given.operator ?? userInfo().username, witnesses: [...(given.witness ?? [])] };
}

export function hold(kind: JournalKind, facts: Record<string, unknown>): void {
  held.push({ kind, facts: { ...facts, observedAt: new Date().toISOString() } });
}

/** A PKCS#11 library about to be used: its path and the SHA-256 of the file, once per run. */
export function holdModule(path: string, info?: { manufacturer: string; description: string; libraryVersion: string }): void {
  const abs = resolve(path);
  if (librariesRecorded.has(abs)) return;
  librariesRecorded.add(abs);
  hold('module.loaded', { path: abs, librarySha256: existsSync(abs) ? fileSha256(abs) : null, ...(info ?? {}) });
}

export function holdToken(s: TokenSession): void {
  hold('token.chosen', { label: s.token.label, serial: s.token.serial, model: s.token.model, manufacturer: s.token.manufacturer });
}

export function holdLogin(s: TokenSession, error?: unknown): void {
  if (error === undefined) hold('login.succeeded', { token: s.token.label, serial: s.token.serial });
  else hold('login.failed', { token: s.token.label, serial: s.token.serial, code: toErrorPayload(error).code });
}

/** The folder of the running qpki (package.json beside dist/ or the sources), for the app fingerprint. */
export function appRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return __dirname;
    dir = up;
  }
}

/** `ceremony.opened` and `preflight` for a run that starts a ceremony (always for `ca init`). */
function opening(caDir: string, defaultPurpose: string): Event[] {
  let app: { sha256: string; files: number } | { error: string };
  try {
    app = appFingerprint(appRoot());
  } catch (e) {
    app = { error: toErrorPayload(e).message };
  }
  const p = preflight(caDir);
  return [
    {
      kind: 'ceremony.opened',
      facts: {
        purpose: given.purpose ?? defaultPurpose,
        command: defaultPurpose,
        appVersion: typeof QPKI_VERSION === 'string' ? QPKI_VERSION : 'dev',
        ...('sha256' in app ? { appSha256: app.sha256, appFiles: app.files } : { appFingerprintError: app.error }),
      },
    },
    { kind: 'preflight', facts: { networkInterfacesUp: p.networkInterfacesUp, clock: p.clock, freeDiskBytes: p.freeDiskBytes, warnings: p.warnings } },
  ];
}

/** `ca init`: the journal preamble (ceremony opened, preflight, held events) for initCa. */
export function initPreamble(caDir: string, command: string): Event[] {
  const out = [...opening(caDir, command), ...held];
  held = [];
  return out;
}

/**
 * An existing CA's journal: the ceremony opening when one was named, then the held events,
 * and from here on the named people on every entry core writes.
 */
export function recordInto(journal: Journal, caDir: string, command: string): void {
  const who = participants();
  if (who) journal.setParticipants(who.operator, who.witnesses);
  const events = [...(ceremonyGiven() ? opening(caDir, command) : []), ...held];
  held = [];
  if (!events.length) return;
  // Under the CA's lock, as core's own entries are: two runs never chain onto the same entry.
  locked(caDir, () => journal.appendAll(events));
}

function locked<T>(caDir: string, fn: () => T): T {
  const unlock = lockCaDir(caDir);
  try {
    return fn();
  } finally {
    unlock();
  }
}

/** Close the ceremony in `journal`: the entry carries the hash the journal had before it. */
export function closeInto(journal: Journal, command: string, caDir: string): string {
  return locked(caDir, () => {
    const before = journalCode().verifyJournal(caDir).lastHash;
    return journal.append('ceremony.closed', { command, journalHashBefore: before }).hash;
  });
}

/** `ca init` made `caDir`: its ceremony is closed at the end of the run. */
export function initDone(caDir: string, command: string): void {
  run = { journal: journalCode().Journal.open(caDir, participants()), command, close: true, dir: caDir };
}

/**
 * Open an existing CA for a command, with the record kept: the token the CA key is reached
 * through (module, token, login — done inside core) is journaled, a refused PIN included.
 */
export async function openCaRecorded(dir: string, access: CaKeyAccess, command: string): Promise<CertificateAuthority> {
  const abs = resolve(dir);
  let ca: CertificateAuthority;
  try {
    // Loaded here, not at the top: every command loads this module, few open a CA.
    const { openCa } = await import('../core/ca/index');
    ca = await openCa(abs, access);
  } catch (e) {
    const code = toErrorPayload(e).code;
    if (/^PIN_|^NOT_LOGGED_IN$/.test(code) && existsSync(join(abs, 'ca.meta.json')) && existsSync(join(abs, 'journal.jsonl'))) {
      try {
        const j = journalCode().Journal.open(abs, participants());
        hold('login.failed', { code });
        recordInto(j, abs, command);
      } catch { /* the refusal itself is what the operator must see */ }
    }
    throw e;
  }
  const st = ca.signer.storage;
  if (st.type === 'pkcs11' && !access.session) {
    holdModule(st.lib);
    hold('token.chosen', { label: st.token_label, serial: st.token_serial });
    hold('login.succeeded', { token: st.token_label, serial: st.token_serial });
  }
  // A Catalyst CA's ML-DSA key in a token of its own: that token was opened and logged in to as well.
  const alt = ca.altSigner?.storage;
  if (alt?.type === 'pkcs11' && !(st.type === 'pkcs11' && st.lib === alt.lib && st.token_serial === alt.token_serial) && alt.token_serial !== access.session?.token.serial) {
    holdModule(alt.lib);
    hold('token.chosen', { label: alt.token_label, serial: alt.token_serial, role: 'post-quantum key' });
    hold('login.succeeded', { token: alt.token_label, serial: alt.token_serial });
  }
  recordInto(ca.journal, abs, command);
  run = { journal: ca.journal, command, close: ceremonyGiven(), dir: abs };
  return ca;
}

/** End of a successful run: close the ceremony it opened. */
export function finishRun(): void {
  if (run?.close) closeInto(run.journal, run.command, run.dir);
  run = null;
}
