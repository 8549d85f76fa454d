/**
 * The handler table's token side: libraries, slots, tokens, PINs and keys.
 * A table of one short function per channel: its length is the number of channels, not one long procedure.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { QpkiError, toErrorPayload } from '../../core/errors';
import { initToken, loadModule, type InitTokenQuestion, type TokenSummary as CoreToken } from '../../core/pkcs11';
import type { Pkcs11Module } from '../../core/pkcs11/module';
import type { TokenSession } from '../../core/pkcs11/session';
import { isMlDsa } from '../../core/keys/mldsa';
import { CKM_ML_DSA } from '../../core/pkcs11/constants';
import { readJournal } from '../../core/journal/journal';
import { fileSha256 } from '../../core/journal';
import { closeQuietly } from '../../ceremony/state';
import { askedYes, finalPinTryQuestion, reinitializeQuestion } from '../../ceremony/token-questions';
import { recordedKeyFingerprint } from '../../ceremony/key-record';
import * as signing from '../../ceremony/signing';
import * as recovery from '../token-recovery';
import { groupHex } from '../../core/journal/format';
import type { HandlerContext, Impl } from './context';
import { moduleChoice, knownModules, token, slot } from './token-views';

/** The words the record gives a Catalyst CA's ML-DSA key and the token it is in. */
const ALT_ROLE = 'CA alternative (post-quantum) key';

/**
 * A token key for a Catalyst CA's alternative role must be ML-DSA: the alternative signature is
 * the post-quantum one (ITU-T X.509 §9.8 as the hybrid profiles use it).
 */
function assertAltAlgorithm(algorithm: string): void {
  if (!isMlDsa(algorithm)) throw new QpkiError('INPUT_INVALID', `The alternative key of a Catalyst CA is an ML-DSA key; ${algorithm} is not.`);
}

/**
 * Load a library only after the operator confirmed its path and SHA-256 in main's own dialog
 * (dlopen runs the library's code in main). Every attempt is on the record, failed ones too.
 */
async function loadConfirmed(h: HandlerContext, path: string, vendor: string) {
  const { record, ctx } = h;
  let sha256: string;
  try {
    sha256 = fileSha256(path);
  } catch {
    record('error', { event: 'module.load.failed', path, code: 'MODULE_LOAD_FAILED', reason: 'the library file cannot be read' });
    throw new QpkiError('MODULE_LOAD_FAILED', `The library ${path} cannot be read.`);
  }
  const yes = await signing.askAndRecord(ctx, {
    kind: 'load-module',
    title: 'Load this PKCS#11 library into the app?',
    facts: [{ label: 'Library', value: path }, { label: 'Vendor', value: vendor }, { label: 'SHA-256', value: groupHex(sha256) }],
    action: 'Load the library',
  }, { path, librarySha256: sha256 });
  if (!yes) throw new QpkiError('NOT_CONFIRMED', `The library ${path} was not loaded: its loading was not confirmed.`);
  try {
    return loadModule(path);
  } catch (e) {
    const p = toErrorPayload(e);
    record('error', { event: 'module.load.failed', path, librarySha256: sha256, code: p.code, reason: p.message });
    throw e;
  }
}

/**
 * A second token of the loaded library for a Catalyst CA's ML-DSA key. The ceremony's own token
 * stays open and logged in; the second one must be another token, with ML-DSA (PKCS#11 3.2).
 */
function openAltToken(h: HandlerContext, m: Pkcs11Module, serial: string, label: string | undefined) {
  const { state, plan, record } = h;
  const main = state.requireLogin();
  if (plan.isActive) throw new QpkiError('PLAN_STEP_MISMATCH', 'The ceremony plan has no second token: its keys are in the token its environment names.');
  if (main.module === m && main.token.serial === serial) {
    throw new QpkiError('INPUT_INVALID', `“${main.token.label}” is the ceremony's token already; for the ML-DSA key in it, generate or choose it there. A second token is another one.`);
  }
  state.endAltSession();
  const s = m.openSession({ serial, ...(label !== undefined ? { label } : {}) });
  if (!s.hasMechanism(CKM_ML_DSA)) {
    closeQuietly(s);
    throw new QpkiError('MECHANISM_UNSUPPORTED', `Token “${s.token.label}” has no ML-DSA (PKCS#11 3.2 CKM_ML_DSA), so it cannot hold the ML-DSA key of a Catalyst CA. Choose a token that has it, or keep that key in an encrypted file (the default).`);
  }
  state.altSession = s;
  const found = m.findToken({ serial });
  record('token.chosen', { label: s.token.label, serial: s.token.serial, model: s.token.model, manufacturer: s.token.manufacturer, slotId: found.slot.slotId, role: ALT_ROLE });
  return { slotId: found.slot.slotId, token: token(s.tokenState()) };
}

/**
 * The token channels' handlers, one entry per channel of the contract. The function is long because
 * it is that table: each entry is short and parses, checks the ceremony's rule, calls core, records.
 */
// eslint-disable-next-line max-lines-per-function -- the handler table of the token channels: one short entry per channel, sharing the ceremony record and plan in its closure
export function tokenHandlers(h: HandlerContext): Pick<Impl, 'appInfo' | 'knownModules' | 'chooseModuleFile' | 'loadModule' | 'listSlots' | 'tokenMechanisms' | 'initToken' | 'prepareDevToken' | 'openToken' | 'login' | 'reconnectToken' | 'endSession' | 'endAltSession' | 'closeToken' | 'listKeys' | 'keyAlgorithms' | 'generateKey' | 'selectKey' | 'useSoftwareKeystore'> {
  const { state, deps, ceremony, record, recordModule, recordModuleOnce, plan, known, keySession, requireAltSession, requireCeremony } = h;
  /** The plan's role of a token (learned, or that of plan step i done on it), as `qpki ceremony run` records it: `role: 'backup'`. */
  const tokenRole = (serial: string, step: number | null = null) => {
    const r = plan.isActive ? plan.roleOfToken(serial, step) : null;
    return r ? { role: r } : {};
  };
  return {
    appInfo: () => ({
      version: state.options.version,
      production: state.options.production,
      softhsmPath: state.options.softhsmPath,
      devTokenDir: state.options.devTokenDir,
    }),
    knownModules: () => ({ modules: knownModules(state) }),
    chooseModuleFile: async () => {
      const picked = await deps.chooseModuleFile();
      if (!picked) return { module: null };
      const path = resolve(picked);
      return { module: moduleChoice(state, path, 'Chosen library') };
    },
    loadModule: async ({ moduleId }) => {
      const { path, vendor } = state.capabilities.module(moduleId);
      const m = await loadConfirmed(h, path, vendor);
      if (state.module !== m) state.endSession();
      state.module = m;
      const info = m.info();
      recordModule(info);
      return info;
    },
    listSlots: () => {
      const m = state.requireModule();
      return { module: m.info(), slots: m.listSlots().map(slot) };
    },
    tokenMechanisms: ({ slotId }) => {
      const m = state.requireModule();
      const all = m.mechanisms(slotId);
      const t = m.listSlots().find((s) => s.slotId === slotId)?.token;
      let keyAlgorithms: string[] = [];
      let objects: ReturnType<TokenSession['listObjects']> | null = null;
      if (t?.flags.initialized) {
        const s = m.openSession({ serial: t.serial });
        try {
          keyAlgorithms = s.keyAlgorithms();
          objects = s.listObjects();
        } finally {
          s.close();
        }
      }
      return { mechanisms: all.map((x) => x.name), details: all.map((x) => ({ name: x.name, minKeySize: x.minKeySize, maxKeySize: x.maxKeySize, flags: [...x.flags] })), keyAlgorithms, objects };
    },
    initToken: async ({ slotId, label, soPin, userPin, reinitialize, confirmLabel }) => {
      requireCeremony('initializing a token');
      const m = state.requireModule();
      // The development token's library was loaded without a record of its own.
      recordModuleOnce(m.info());
      // What the slot holds, as main reads it: the record of a refusal names the token it protected.
      let present: CoreToken | undefined;
      try { present = m.listSlots().find((x) => x.slotId === slotId)?.token; } catch { /* core reports the slot's problem */ }
      // A plan's token-init never wipes a token the plan already uses (its ca token, say).
      const step = plan.isActive ? plan.beforeTokenInit(present && { serial: present.serial, label: present.label, initialized: present.flags.initialized }) : null;
      // Main's own questions, each answer on the record: the renderer's request only says "re-initialize" and the label it typed.
      const answers: Record<string, 'confirmed' | 'declined'> = {};
      const confirm = async (q: InitTokenQuestion) => {
        const c = q.kind === 'reinitialize-token' ? reinitializeQuestion(q.token, q.slotId, q.objects, label) : finalPinTryQuestion(q.token, 'SO');
        const yes = await askedYes(deps.confirm, c);
        answers[q.kind === 'reinitialize-token' ? 'reinitialize' : 'soFinalTry'] = yes ? 'confirmed' : 'declined';
        return yes;
      };
      let r;
      try {
        r = await initToken(m, {
          slotId, label, soPin, userPin, confirm,
          ...(reinitialize ? { reinitialize: { confirmLabel: confirmLabel ?? '' } } : {}),
          // The ceremony's own session on this token goes before its SO PIN is sent (the token is about to be wiped).
          releaseToken: (t) => { if (state.session && state.session.module === m && state.session.token.serial === t.serial) state.endSession(); },
        });
      } catch (e) {
        try {
          record('token.init.failed', {
            slotId, label, reinitialize: reinitialize === true, code: toErrorPayload(e).code, ...(Object.keys(answers).length ? { answers } : {}),
            ...(present ? { token: present.label, serial: present.serial, initialized: present.flags.initialized } : {}),
          });
        } catch { /* the refusal is what the operator must see */ }
        throw e;
      }
      const found = m.findToken({ label, serial: r.token.serial });
      const again = r.reinitialized;
      record('token.initialized', {
        label, serial: r.token.serial, slotId: found.slot.slotId, ...(Object.keys(answers).length ? { answers } : {}), ...tokenRole(r.token.serial, step),
        ...(again ? { reinitialized: true, previousLabel: again.previousLabel, previousSerial: again.previousSerial, objectsBefore: again.objects } : {}),
      });
      if (step !== null) plan.tokenInitialized(step, { label, serial: r.token.serial });
      return { slot: slot(found.slot), warnings: r.warnings, reinitialized: !!again };
    },
    prepareDevToken: async () => {
      const lib = state.options.softhsmPath;
      const dir = state.options.devTokenDir;
      if (!lib || !dir) throw new QpkiError('MODULE_LOAD_FAILED', 'SoftHSM2 is not installed on this computer, so no development token can be made.');
      const m = await loadConfirmed(h, lib, 'SoftHSM2 (development only)');
      if (state.module !== m) state.endSession();
      state.module = m;
      const free = m.listSlots().find((s) => s.tokenPresent && s.token && !s.token.flags.initialized);
      return { module: m.info(), freeSlotId: free?.slotId ?? null, suggestedLabel: 'DEV NOT FOR PRODUCTION', dir };
    },
    openToken: ({ serial, label, role }) => {
      const m = state.requireModule();
      if (role === 'alternative') return openAltToken(h, m, serial, label);
      state.endSession();
      // The library this token is reached through is on the record before the token is (loaded
      // before the ceremony opened, for the development token).
      recordModuleOnce(m.info());
      const s = m.openSession({ serial, ...(label !== undefined ? { label } : {}) });
      state.session = s;
      const found = m.findToken({ serial });
      record('token.chosen', { label: s.token.label, serial: s.token.serial, model: s.token.model, manufacturer: s.token.manufacturer, slotId: found.slot.slotId, ...tokenRole(s.token.serial) });
      return { slotId: found.slot.slotId, token: token(s.tokenState()) };
    },
    login: async ({ pin, role }) => {
      const s = role === 'alternative' ? requireAltSession() : state.requireSession();
      // The final try is confirmed in main's own dialog, asked only when the token says so: a
      // request field would let the renderer spend the last try on its own.
      let finalTry: 'confirmed' | 'declined' | undefined;
      const confirmFinalTry = async (t: CoreToken) => {
        const yes = await askedYes(deps.confirm, finalPinTryQuestion(t, 'user'));
        finalTry = yes ? 'confirmed' : 'declined';
        return yes;
      };
      try {
        const r = await s.login(pin, { confirmFinalTry });
        record('login.succeeded', { token: s.token.label, serial: s.token.serial, ...(finalTry ? { finalTry } : {}), ...(role === 'alternative' ? { role: ALT_ROLE } : tokenRole(s.token.serial)) });
        return { token: token(s.tokenState()), warnings: r.warnings };
      } catch (e) {
        const p = toErrorPayload(e);
        record('login.failed', { token: s.token.label, serial: s.token.serial, code: p.code, ...(finalTry ? { finalTry } : {}), ...(role === 'alternative' ? { role: ALT_ROLE } : {}) });
        throw e;
      }
    },
    reconnectToken: () => {
      const r = recovery.reconnect(state, (m) => recordModule(m.info()), record);
      return { module: r.module, slotId: r.slotId, token: token(r.token) };
    },
    endSession: () => {
      state.lostToken = null;
      let closed: ReturnType<typeof ceremony.close> | null = null;
      if (ceremony.isOpen) {
        try { closed = ceremony.close('the operator started over', join(state.options.dataDir, 'ceremonies')); } catch { /* ending the session must not fail on the record */ }
      }
      plan.end();
      const ended = state.endSession();
      state.caDir = null;
      return { ended, closed };
    },
    endAltSession: () => {
      const had = !!state.altSession;
      state.endAltSession();
      return { ended: had };
    },
    // Switching tokens within a plan: the session goes, the ceremony and its plan stay (endSession ends them).
    closeToken: () => ({ ended: state.endSession() }),
    listKeys: ({ role }) => ({ keys: keySession(role).listKeys().map(known) }),
    keyAlgorithms: ({ role }) => ({ algorithms: keySession(role).keyAlgorithms() }),
    generateKey: async ({ algorithm, label, id, role }) => {
      requireCeremony('generating a key');
      const s = keySession(role);
      if (role === 'alternative') assertAltAlgorithm(algorithm);
      const step = plan.isActive ? plan.beforeKey(label, algorithm) : null;
      const r = await s.generateKey({ algorithm, label, ...(id ? { id: id.toLowerCase() } : {}) });
      const choice = { kind: 'pkcs11' as const, label: r.key.label, id: r.key.id };
      if (role === 'alternative') state.altKey = choice;
      else state.key = choice;
      record('key.generated', {
        label: r.key.label, id: r.key.id, algorithm: r.key.keyAlgorithm, sizeBits: r.key.sizeBits, token: s.token.label, tokenSerial: s.token.serial,
        ...(r.key.parameterSet ? { parameterSet: r.key.parameterSet } : {}), ...(role === 'alternative' ? { role: ALT_ROLE } : tokenRole(s.token.serial, step)),
        attributes: { ...r.key.attributes }, publicKeySha256Fingerprint: r.key.publicKeyFingerprint,
        testSignature: { algorithm: r.testSignature.algorithm, verified: r.testSignature.verified },
      });
      if (step !== null) plan.keyGenerated(step, { label: r.key.label, id: r.key.id, publicKeySha256Fingerprint: r.key.publicKeyFingerprint });
      return { key: known(r.key), testSignature: { algorithm: r.testSignature.algorithm, verified: r.testSignature.verified } };
    },
    selectKey: async ({ label, id, role }) => {
      const s = keySession(role);
      // A plan's key step makes a new key; using an existing one instead is a change of the plan. The key
      // the current CA step names, made earlier in this ceremony, is chosen again after a switch back to its token.
      const again = plan.isActive && role !== 'alternative' ? plan.currentStepKey(label, id) : null;
      const step = plan.isActive && !again ? plan.beforeKey(`(existing key) ${label ?? id ?? ''}`, '(existing)') : null;
      const k = s.findKey({ label, id });
      if (role === 'alternative') assertAltAlgorithm(k.keyAlgorithm);
      // The same proof as a new key gives, and the fingerprint this ceremony's record (or the
      // journal of the CA directory it works in) has for the key since its generation.
      const ref = { tokenSerial: s.token.serial, label: k.label, id: k.id };
      const recorded = (again?.fingerprint ? { sha256: again.fingerprint.replace(/[: ]/g, '').toLowerCase(), where: 'this ceremony\'s key step' } : null)
        ?? recordedKeyFingerprint(ceremony.pendingEvents(), ref, 'this ceremony')
        ?? [ceremony.dir, state.caDir].filter((d): d is string => !!d && existsSync(join(d, 'journal.jsonl')))
          .map((d) => recordedKeyFingerprint(readJournal(d), ref, `the journal of ${d}`)).find((r) => r !== null) ?? null;
      // A refused key leaves the earlier choice as it was; signing proves that one again anyway.
      let proof;
      try {
        proof = await s.proveKey(k, recorded ? { expectedFingerprint: recorded } : {});
      } catch (e) {
        try {
          record('error', { code: toErrorPayload(e).code, step: 'existing key proof', token: s.token.label, serial: s.token.serial, keyLabel: k.label, keyId: k.id, publicKeySha256Fingerprint: k.publicKeyFingerprint });
        } catch { /* the refusal is what the operator must see */ }
        throw e;
      }
      const p = proof.key;
      const choice = { kind: 'pkcs11' as const, label: p.label, id: p.id };
      if (role === 'alternative') state.altKey = choice;
      else state.key = choice;
      record('key.selected', {
        label: p.label, id: p.id, algorithm: p.keyAlgorithm, ...(role === 'alternative' ? { role: ALT_ROLE } : tokenRole(s.token.serial)),
        attributes: { ...p.attributes }, publicKeySha256Fingerprint: p.publicKeyFingerprint,
        testSignature: { ...proof.testSignature }, journalFingerprint: proof.journal,
      });
      if (step !== null) plan.keyGenerated(step, { label: p.label, id: p.id, publicKeySha256Fingerprint: p.publicKeyFingerprint, existing: true });
      return { key: known(p), testSignature: { ...proof.testSignature }, journal: proof.journal };
    },
    useSoftwareKeystore: ({ algorithm, because }) => {
      // A plan's keys are made in the token; a software key file instead is a change of the plan's key step.
      if (plan.isActive) plan.beforeKey('(software key file)', algorithm);
      // The switch is the operator's decision, on the record (not as an error) with the fact that
      // prompted it when there was one: never a silent fallback.
      let prompted: Record<string, unknown> = { reason: 'the operator chose a software key file' };
      if (because === 'token-lacks-ml-dsa') {
        const s = state.requireSession();
        if (s.hasMechanism(CKM_ML_DSA)) throw new QpkiError('INPUT_INVALID', `Token “${s.token.label}” does have ML-DSA (CKM_ML_DSA); generate the ML-DSA key in the token instead.`);
        if (!isMlDsa(algorithm)) throw new QpkiError('INPUT_INVALID', `${algorithm} is not an ML-DSA algorithm.`);
        prompted = { reason: `token “${s.token.label}” has no ML-DSA`, token: s.token.label, serial: s.token.serial, missingMechanism: 'CKM_ML_DSA' };
      }
      record('key.storage.chosen', { storage: 'software key file (encrypted, in the CA directory)', algorithm, ...prompted });
      state.endSession();
      state.key = { kind: 'software', algorithm };
      return { algorithm };
    },
  };
}
