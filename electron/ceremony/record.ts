/**
 * The ceremony as the app records it. The journal lives in the CA directory, which a root
 * ceremony only creates when it signs; what happens before (ceremony opened, preflight, module,
 * token, login, key) is held here in order and handed to initCa as its journal preamble, or
 * written first into an existing CA's journal when one is opened. From then on every event goes
 * straight to that journal, under the operator and witnesses named at the start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, verifyJournal, type JournalKind } from '../core/journal/journal';
import { appFingerprint, preflight, type PreflightReport } from '../core/journal';

export interface PendingEvent {
  kind: JournalKind;
  facts: Record<string, unknown>;
  time: string;
}

export interface Participants {
  operator: string;
  witnesses: string[];
}

export class CeremonyRecord {
  participants: Participants | null = null;
  purpose: string | null = null;
  /** The CA directory whose journal this ceremony writes to, once there is one. */
  dir: string | null = null;
  /** The journal of the last closed ceremony, for the transcript. */
  lastDir: string | null = null;
  closed = false;
  /** PKCS#11 libraries this ceremony has recorded (path → recorded), so each is named once before use. */
  readonly modules = new Set<string>();
  private pending: PendingEvent[] = [];
  /** The open ceremony's preflight warnings, and whether a witness has confirmed the preflight (clock, and the reason for any warning). */
  preflightWarnings: string[] = [];
  preflightConfirmed = false;

  /** Opens a ceremony: who, why, which app, and the preflight checks of this machine. */
  open(who: Participants, purpose: string, app: { version: string; root: string }, diskPlace: string): { preflight: PreflightReport; app: { sha256: string; files: number } } {
    // Events from before any ceremony was opened (a library loaded first: main changes no token
    // and signs nothing outside a ceremony) stay on the record, after the opening entries, each
    // with the time it happened.
    const earlier = this.participants === null ? this.pending : [];
    this.reset();
    this.participants = { operator: who.operator, witnesses: [...who.witnesses] };
    this.purpose = purpose;
    const fp = appFingerprint(app.root);
    const report = preflight(diskPlace);
    this.preflightWarnings = [...report.warnings];
    this.preflightConfirmed = false;
    this.record('ceremony.opened', { purpose, appVersion: app.version, appFiles: fp.files, appSha256: fp.sha256 });
    this.record('preflight', {
      networkInterfacesUp: report.networkInterfacesUp,
      clock: report.clock,
      freeDiskBytes: report.freeDiskBytes,
      warnings: report.warnings,
    });
    this.pending.push(...earlier);
    return { preflight: report, app: fp };
  }

  /** Records an event: in the CA's journal when there is one, otherwise held in order. */
  record(kind: JournalKind, facts: Record<string, unknown>): void {
    if (this.dir && existsSync(this.dir)) {
      Journal.open(this.dir, this.participants ?? undefined).append(kind, facts);
      return;
    }
    this.pending.push({ kind, facts, time: new Date().toISOString() });
  }

  /** The held events as initCa's journal preamble; they are gone from here once taken. */
  takePreamble(): { kind: JournalKind; facts: Record<string, unknown> }[] {
    return this.pending.splice(0).map((p) => ({ kind: p.kind, facts: { ...p.facts, observedAt: p.time } }));
  }

  /** Give back a preamble that was not written (initCa refused before it wrote the journal). */
  restorePreamble(events: { kind: JournalKind; facts: Record<string, unknown> }[]): void {
    const back = events.map(({ kind, facts }) => {
      const { observedAt, ...rest } = facts as Record<string, unknown> & { observedAt?: string };
      return { kind, facts: rest, time: String(observedAt ?? new Date().toISOString()) };
    });
    this.pending.unshift(...back);
  }

  /** From now on the ceremony writes to this CA's journal; held events go first, in order. */
  attach(dir: string): void {
    if (this.dir === dir) return;
    this.dir = dir;
    const events = this.takePreamble();
    if (!events.length) return;
    Journal.open(dir, this.participants ?? undefined).appendAll(events);
  }

  pendingEvents(): readonly PendingEvent[] {
    return this.pending;
  }

  /**
   * Closes the ceremony with the journal's hash as it stood: the entry that says so is the last
   * one, and its own hash is the final hash the witnesses copy onto the transcript.
   */
  close(reason: string, recordsDir?: string): { dir: string | null; finalHash: string | null; entries: number; intact: boolean } {
    // A ceremony that ended without a CA directory (a token initialized, then stopped) still
    // leaves its record: the held events go into a journal of their own under recordsDir.
    if ((!this.dir || !existsSync(this.dir)) && recordsDir && this.participants && !this.closed && this.pending.length) {
      this.attach(join(recordsDir, `ceremony-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    }
    const dir = this.dir && existsSync(this.dir) ? this.dir : null;
    let out = { dir, finalHash: null as string | null, entries: 0, intact: true };
    if (dir && !this.closed) {
      const before = verifyJournal(dir);
      const j = Journal.open(dir, this.participants ?? undefined);
      const closing = j.append('ceremony.closed', {
        reason,
        ...(this.purpose ? { purpose: this.purpose } : {}),
        entriesBefore: before.entries,
        journalIntact: before.ok,
        journalHashBefore: before.lastHash,
      });
      const after = verifyJournal(dir);
      out = { dir, finalHash: closing.hash, entries: after.entries, intact: after.ok };
    }
    this.closed = true;
    this.lastDir = dir ?? this.lastDir;
    this.dir = null;
    this.pending = [];
    return out;
  }

  get isOpen(): boolean {
    return this.participants !== null && !this.closed;
  }

  private reset(): void {
    this.participants = null;
    this.purpose = null;
    this.dir = null;
    this.closed = false;
    this.pending = [];
    this.modules.clear();
  }
}
