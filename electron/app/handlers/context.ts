/**
 * What every group of the handler table shares: the app's state, main's dialogs, the ceremony's
 * record and its plan, and the few steps several handlers take the same way.
 */
import type { Channel, Input, Output } from '../../../shared/contract';
import { QpkiError } from '../../core/errors';
import { type KeyInfo as CoreKeyInfo } from '../../core/pkcs11';

import { fileSha256 } from '../../core/journal';
import { type AppState } from '../../ceremony/state';
import type { Confirm } from '../../ceremony/confirmation';
import * as signing from '../../ceremony/signing';
import { casBackedBy, rememberCa } from '../../ceremony/known-cas';
import { PlanSession, planView } from '../../ceremony/plan-session';
import { keyInfo } from './token-views';
import { keyGeneratedAt } from '../../ceremony/key-record';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJournal, type JournalKind } from '../../core/journal/journal';

export interface HandlerDeps {
  /** Ask the operator for a directory (a dialog in the app; a fixed answer in tests). */
  chooseDirectory(purpose: 'open-ca' | 'new-ca' | 'plan-output'): Promise<string | null>;
  /** Ask where to save an export (a dialog in the app). */
  chooseSavePath(suggested: string, what?: 'certificate' | 'transcript'): Promise<string | null>;
  /** Print the transcript page to an A4 PDF at `dest` (printToPDF in the app, headless Chromium in tests). */
  printPdf(html: string, dest: string): Promise<void>;
  /** Ask the operator in main's own dialog; a step that needs it happens only on an explicit yes. */
  confirm: Confirm;
  /** Ask for a PKCS#11 library file (the native open dialog in the app). */
  chooseModuleFile(): Promise<string | null>;
  /** Ask for a ceremony plan file (the native open dialog in the app; a fixed answer in tests). */
  choosePlanFile(): Promise<string | null>;
}

/** One function per contract channel, typed by the contract. */
export type Impl = { [C in Channel]: (input: Input<C>) => Promise<Output<C>> | Output<C> };

export type HandlerContext = ReturnType<typeof handlerContext>;

export function handlerContext(state: AppState, deps: HandlerDeps) {
  const ceremony = state.ceremony;
  /** Record a fact of the ceremony: in the CA's journal once there is one, held in order before. */
  const record = (kind: JournalKind, facts: Record<string, unknown>) => ceremony.record(kind, facts);
  const recordModule = (info: { path: string; manufacturer: string; description: string; libraryVersion: string; cryptokiVersion: string; development: boolean }) => {
    ceremony.modules.add(info.path);
    record('module.loaded', {
      path: info.path, librarySha256: fileSha256(info.path), manufacturer: info.manufacturer, description: info.description,
      libraryVersion: info.libraryVersion, cryptokiVersion: info.cryptokiVersion, developmentToken: info.development,
    });
  };

  /**
   * What changes a token or a CA (initialize a token, generate a key, open a CA directory to work
   * in, prepare and sign, revoke) happens only in an open ceremony, so it is on that ceremony's
   * record under the people it names: never held for no one, lost at quit or carried into the
   * next ceremony's journal.
   */
  const requireCeremony = (what: string) => {
    if (!ceremony.isOpen) {
      throw new QpkiError('CEREMONY_NOT_OPEN', `Nothing was done: ${what} happens only within an open ceremony, so that it is on its record. Open one first (operator, witnesses and purpose on the ceremony step).`);
    }
  };
  /** The library a token is reached through, on the record before the token is: once per ceremony. */
  const recordModuleOnce = (info: Parameters<typeof recordModule>[0]) => {
    if (!ceremony.modules.has(info.path)) recordModule(info);
  };
  const ctx: signing.SigningContext = { state, confirm: deps.confirm };
  /** The ceremony plan this ceremony walks, if any: every step's action is checked against it here, in main. */
  // The plan learns its tokens from the one session the app has open: main's, never the renderer's word.
  const plan = new PlanSession(record, () => (state.session ? { serial: state.session.token.serial, label: state.session.token.label } : null));
  const planState = () => {
    const shown = plan.active ?? plan.opened;
    return {
      plan: shown ? planView(shown) : null, active: plan.isActive, current: plan.current, awaiting: plan.awaiting,
      status: [...plan.status], changed: [...plan.changed], acknowledgements: plan.acknowledgements.map((a) => ({ ...a })),
      deviations: plan.deviations.map((d) => ({ ...d })), witnesses: plan.witnesses(),
      preflight: { warnings: plan.isActive ? [...ceremony.preflightWarnings] : [], confirmed: plan.isActive && ceremony.preflightConfirmed },
      tokens: { ca: plan.tokens.ca && { ...plan.tokens.ca }, backup: plan.tokens.backup && { ...plan.tokens.backup } }, tokenSwitch: plan.tokenSwitch(),
    };
  };
  /** A prepared request under the plan: checked before it is built, remembered so its signature completes the step. */
  const underPlan = async (check: () => number, prepare: (step: number | null) => Promise<Output<'previewCa'>>) => {
    requireCeremony('preparing a signature');
    if (!plan.isActive) return prepare(null);
    const i = check();
    const view = await prepare(i);
    plan.prepared(i, view.id);
    return view;
  };
  /** The journal this ceremony writes to, or the last one it closed, or the open CA's. */
  /**
   * The journal the panel and the transcript read: an open ceremony's own (null until it writes to
   * a CA directory: an earlier ceremony's journal is not this one's record), else the last one closed.
   */
  const journalDir = (): string | null => ceremony.isOpen ? ceremony.dir : (ceremony.closed ? ceremony.lastDir : null) ?? state.caDir ?? ceremony.lastDir;
  /**
   * A key as the contract shows it, with the CA directories this app knows it already backs, and
   * when it was made as far as a record at hand says (this ceremony's, or a journal of those CAs):
   * PKCS#11 keys carry no creation time of their own.
   */
  const known = (k: CoreKeyInfo) => {
    const fp = k.publicKeyFingerprint;
    const backs = fp ? casBackedBy(state.options.dataDir, fp) : [];
    let generated: { time: string; where: string } | null = null;
    if (fp) {
      generated = keyGeneratedAt(ceremony.pendingEvents(), fp, 'this ceremony');
      for (const d of [ceremony.dir, state.caDir, ...backs.map((b) => b.dir)]) {
        if (generated || !d || !existsSync(join(d, 'journal.jsonl'))) continue;
        try { generated = keyGeneratedAt(readJournal(d), fp, `the journal of ${d}`); } catch { /* an unreadable journal says nothing here */ }
      }
    }
    return { ...keyInfo(k), backs, generated };
  };
  const rememberOpened = (out: { dir: string; subject: string; keys: Array<{ fingerprint: string | null }> }) => {
    try {
      rememberCa(state.options.dataDir, { dir: out.dir, subject: out.subject, keys: out.keys.map((k) => (k.fingerprint ?? '').replace(/[: ]/g, '').toLowerCase()).filter(Boolean) });
    } catch { /* the list helps the operator; a full disk must not stop the ceremony here */ }
  };
  /** The logged-in session a key request of this role works in: a Catalyst ML-DSA key's may be a second token. */
  const keySession = (role: 'primary' | 'alternative' | undefined) => (role === 'alternative' ? state.altKeySession() : state.requireLogin());
  const requireAltSession = () => {
    if (!state.altSession) throw new QpkiError('SESSION_CLOSED', 'No second token is open for the ML-DSA key. Choose it on the key step first.');
    return state.altSession;
  };
  return { state, deps, ceremony, record, recordModule, recordModuleOnce, ctx, plan, planState, underPlan, journalDir, known, rememberOpened, keySession, requireAltSession, requireCeremony };
}
