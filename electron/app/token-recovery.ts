/**
 * A token that stops answering mid-ceremony (pulled out, its store moved away or unreadable).
 * Main drops the dead session at once, so no later request runs on a stale handle, keeps what
 * a reconnect needs (the module path, the token's serial, the key that was chosen on it), and
 * puts the loss on the record. Reconnecting finalizes and loads the module again — a module
 * keeps its view of a lost token until then — and finds the token by serial, never by slot id.
 * The PIN is asked again through the ordinary login request.
 */
import { readJournal } from '../core/journal/journal';
import { QpkiError, toErrorPayload } from '../core/errors';
import { loadModule } from '../core/pkcs11';
import type { Pkcs11Module } from '../core/pkcs11/module';
import type { TokenSession } from '../core/pkcs11/session';
import type { JournalKind } from '../core/journal/journal';
import type { AppState, LostToken } from '../ceremony/state';

/** Codes that mean the token itself (not the request) stopped answering. */
export const TOKEN_LOSS_CODES: ReadonlySet<string> = new Set(['TOKEN_NOT_PRESENT', 'TOKEN_NOT_FOUND', 'SESSION_CLOSED']);

/**
 * Codes a vanished token may hide behind: SoftHSM2 with its store gone finds no objects
 * (KEY_NOT_FOUND), others answer with a raw error or drop the login. Asking the token for its
 * state tells a gone token from a gone key.
 */
const MAYBE_LOSS_CODES: ReadonlySet<string> = new Set(['KEY_NOT_FOUND', 'PKCS11_ERROR', 'NOT_LOGGED_IN']);

/** Requests that sign with the CA key: a loss there means nothing was signed. */
const SIGNING = new Set(['sign']);

const WHAT: Record<string, string> = {
  sign: 'signing',
  previewCa: 'preparing the review',
  prepareIssue: 'preparing the review',
  prepareCrl: 'preparing the review',
  generateKey: 'generating the key',
  selectKey: 'choosing the key',
  listKeys: 'reading the keys',
  keyAlgorithms: 'reading what the token can do',
  tokenMechanisms: 'reading the mechanisms',
  login: 'logging in',
  openToken: 'opening the token',
};

/** Whether the session's token still answers, as the same token (a swapped token does not count). */
function answers(s: TokenSession): boolean {
  try {
    return s.tokenState().serial === s.token.serial;
  } catch {
    return false;
  }
}

/** The last entry of the CA journal, if it is an issuance the token never signed. */
function interruptedIssuance(dir: string | null): string | null {
  if (!dir) return null;
  try {
    const entries = readJournal(dir);
    const last = entries[entries.length - 1];
    if (last?.kind !== 'issuance.started') return null;
    const serial = String((last.facts as { serial?: unknown }).serial ?? '');
    return serial || null;
  } catch {
    return null;
  }
}

export interface FailureContext {
  channel: string;
  input: unknown;
  /** The session open when the request started (openToken ends it before it looks). */
  session: TokenSession | null;
  module: Pkcs11Module | null;
}

/**
 * Called with every failed request. If the token in use stopped answering, the session is
 * dropped, the loss recorded, and the error returned says so in words with what to do;
 * anything else comes back unchanged.
 */
export function onFailure(state: AppState, ctx: FailureContext, e: unknown, record: (kind: JournalKind, facts: Record<string, unknown>) => void): unknown {
  const p = toErrorPayload(e);
  let token: { label: string; serial: string } | null = null;
  let modulePath: string | null = null;
  const alt = state.altSession;
  if (alt && (TOKEN_LOSS_CODES.has(p.code) || MAYBE_LOSS_CODES.has(p.code)) && !answers(alt) && (!ctx.session || answers(ctx.session))) {
    return altTokenLost(state, alt, ctx, p, record);
  }
  if (ctx.channel === 'openToken' && (ctx.input as { role?: string }).role === 'alternative') return e;
  if (ctx.channel === 'openToken') {
    // A token pulled out between two steps is not found when it is opened again.
    if (p.code !== 'TOKEN_NOT_PRESENT' && p.code !== 'TOKEN_NOT_FOUND') return e;
    const i = ctx.input as { serial: string; label?: string };
    token = { serial: i.serial, label: i.label ?? ctx.session?.token.label ?? '' };
    modulePath = ctx.module?.path ?? null;
  } else {
    const s = ctx.session;
    if (!s || ctx.channel === 'endSession' || ctx.channel === 'closeCeremony') return e;
    const lost = TOKEN_LOSS_CODES.has(p.code) || (MAYBE_LOSS_CODES.has(p.code) && !answers(s));
    if (!lost) return e;
    token = { label: s.token.label, serial: s.token.serial };
    modulePath = s.module.path;
  }
  if (!modulePath) return e;
  const key = state.key?.kind === 'pkcs11' ? { ...state.key } : state.lostToken?.key ?? null;
  // An ML-DSA key in a second token is not this token's: it is chosen again there.
  const altKey = state.altKey && !state.altSession ? { ...state.altKey } : state.lostToken?.altKey ?? null;
  const lost: LostToken = { modulePath, serial: token.serial, label: token.label, key, altKey };
  state.dropLostSession(lost);
  const signing = SIGNING.has(ctx.channel);
  const issuance = signing ? interruptedIssuance(state.ceremony.dir) : null;
  record('error', {
    // ca check counts an issuance as accounted for by this event and its serial.
    event: issuance ? 'issuance.interrupted' : 'token.lost',
    ...(issuance ? { serial: issuance, state: 'not-signed' } : {}),
    code: p.code,
    during: ctx.channel,
    token: token.label,
    tokenSerial: token.serial,
    module: modulePath,
    resolution: 'the session on the token was closed; the operator reconnects the token and presses Retry, which reloads the module, finds the token by serial and asks for the PIN again',
  });
  const named = token.label ? `Token “${token.label}” (serial ${token.serial})` : `The token with serial ${token.serial}`;
  const what = WHAT[ctx.channel] ?? 'this step';
  const outcome = signing ? ' Nothing was signed and the CA files are unchanged; the journal records the interruption.' : '';
  return new QpkiError('TOKEN_NOT_PRESENT', `${named} stopped answering while ${what}: it was removed or its store is unreachable.${outcome} Reconnect the token, then press Retry. (${p.code}: ${p.message})`);
}

/**
 * The second token (a Catalyst CA's ML-DSA key) stopped answering while the ceremony's own token
 * still does: only its session goes, and the operator opens that token again on the key step.
 */
function altTokenLost(state: AppState, alt: TokenSession, ctx: FailureContext, p: { code: string; message: string }, record: (kind: JournalKind, facts: Record<string, unknown>) => void): QpkiError {
  state.endAltSession();
  const signing = SIGNING.has(ctx.channel);
  record('error', {
    event: 'token.lost', code: p.code, during: ctx.channel, token: alt.token.label, tokenSerial: alt.token.serial, module: alt.module.path,
    role: 'CA alternative (post-quantum) key',
    resolution: 'the session on the ML-DSA key\'s token was closed; the operator reconnects it, opens it again for the ML-DSA key and logs in',
  });
  const what = WHAT[ctx.channel] ?? 'this step';
  const outcome = signing ? ' Nothing was signed and the CA files are unchanged.' : '';
  return new QpkiError('TOKEN_NOT_PRESENT', `Token “${alt.token.label}” (serial ${alt.token.serial}), the token of the ML-DSA key, stopped answering while ${what}.${outcome} Reconnect it, then open it again for the ML-DSA key on the key step and log in. (${p.code}: ${p.message})`);
}

/** Retry: reload the module, find the lost token again by serial, and open a session on it. */
export function reconnect(state: AppState, recordModule: (m: Pkcs11Module) => void, record: (kind: JournalKind, facts: Record<string, unknown>) => void) {
  const lost = state.lostToken;
  if (!lost) throw new QpkiError('INPUT_INVALID', 'No token was lost in this ceremony: choose the token on the Token step instead.');
  state.endSession();
  // The module keeps the lost token's state until it is finalized; C_Initialize again sees the token afresh.
  const stale = state.module?.path === lost.modulePath ? state.module : loadModule(lost.modulePath);
  state.module = null;
  try { stale.finalize(); } catch { /* a module whose token is gone may refuse to finalize cleanly */ }
  const m = loadModule(lost.modulePath);
  state.module = m;
  recordModule(m);
  let s: TokenSession;
  try {
    s = m.openSession({ serial: lost.serial });
  } catch (e) {
    const p = toErrorPayload(e);
    record('error', { event: 'token.reconnect.failed', code: p.code, token: lost.label, tokenSerial: lost.serial, module: lost.modulePath });
    throw e;
  }
  state.session = s;
  const found = m.findToken({ serial: lost.serial });
  record('token.chosen', {
    label: s.token.label, serial: s.token.serial, model: s.token.model, manufacturer: s.token.manufacturer, slotId: found.slot.slotId,
    reconnected: true, ...(lost.key ? { keyLabel: lost.key.label, keyId: lost.key.id } : {}),
    ...(lost.altKey ? { altKeyLabel: lost.altKey.label, altKeyId: lost.altKey.id } : {}),
  });
  // The keys chosen before the loss are this token's again; they are used only after a new login.
  state.key = lost.key ? { ...lost.key } : state.key;
  state.altKey = lost.altKey ? { ...lost.altKey } : null;
  state.lostToken = null;
  return { module: m.info(), slotId: found.slot.slotId, token: s.tokenState() };
}
