/**
 * The handler table: one function per contract channel. Each validates its input with the
 * contract, calls core, and validates its answer before it leaves; failures become
 * `{ ok:false, error:{code,message} }`. No `electron` import: ipc.ts registers this table, and
 * the e2e bridge drives the very same table over Playwright.
 */
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { CHANNELS, contract, type Channel, type Input, type Output, type Result } from '../shared/contract';
import { QpkiError, toErrorPayload } from './core/errors';
import { KNOWN_MODULE_PATHS, initToken, loadModule, type InitTokenQuestion, type KeyInfo as CoreKeyInfo, type SlotSummary as CoreSlot, type TokenSummary as CoreToken } from './core/pkcs11';
import type { Pkcs11Module } from './core/pkcs11/module';
import type { TokenSession } from './core/pkcs11/session';
import { keyFamily } from './core/keys/algorithms';
import { isMlDsa } from './core/keys/mldsa';
import { CKM_ML_DSA } from './core/pkcs11/constants';
import { listProfiles, loadProfile, validateVariable, type VariableDef } from './core/profiles';
import { readJournal, toFacts, verifyJournal, type JournalKind } from './core/journal/journal';
import { fileSha256, renderTranscriptHtml, selectCeremony } from './core/journal';
import { closeQuietly, type AppState } from './app-state';
import type { Confirm } from './ceremony/confirmation';
import * as revocation from './ceremony/revocation';
import { askedYes, finalPinTryQuestion, reinitializeQuestion } from './ceremony/token-questions';
import { recordedKeyFingerprint } from './ceremony/key-record';
import * as caOps from './ca-ops';
import * as signing from './ceremony/signing';
import { csrFacts, suggestedVars } from './ceremony/csr';
import { casBackedBy, rememberCa } from './ceremony/known-cas';
import * as recovery from './token-recovery';
import { PlanSession, planView } from './ceremony/plan-session';
import { checkPlan } from './core/plan/plan';

export interface HandlerDeps {
  /** Ask the operator for a directory (a dialog in the app; a fixed answer in tests). */
  chooseDirectory(purpose: 'open-ca' | 'new-ca'): Promise<string | null>;
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

/** The folder holding the app's files (package.json beside dist/ or the sources), for its fingerprint. */
export function findAppRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(from);
    dir = up;
  }
}

export type Handler = (input: unknown) => Promise<Result<unknown>>;
export type Handlers = Record<Channel, Handler>;
type Impl = { [C in Channel]: (input: Input<C>) => Promise<Output<C>> | Output<C> };

/** The first SoftHSM2 library present on this machine, or null. */
export function findSoftHsm(): string | null {
  const env = process.env.QPKI_SOFTHSM_LIB;
  if (env && existsSync(env)) return env;
  const soft = KNOWN_MODULE_PATHS.find((v) => v.vendor.startsWith('SoftHSM2'));
  return soft?.paths.find((p) => existsSync(p)) ?? null;
}

function colonHex(h: string): string {
  return (h.match(/../g) ?? []).join(':').toUpperCase();
}

/** A library the operator may choose, with the id the renderer names it by and its SHA-256. */
function moduleChoice(state: AppState, path: string, vendor: string) {
  const present = existsSync(path);
  let sha256: string | null = null;
  try { sha256 = present ? fileSha256(path) : null; } catch { /* unreadable: shown without a hash, and loading it fails */ }
  return { id: state.capabilities.addModule(path, vendor), vendor, path, present, sha256 };
}

/**
 * The well-known libraries present on this computer, each once: distributions install the same
 * file under several paths (symbolic links), and one library is listed once, by its first path.
 */
function knownModules(state: AppState) {
  const seen = new Set<string>();
  const out: ReturnType<typeof moduleChoice>[] = [];
  for (const v of KNOWN_MODULE_PATHS) {
    for (const p of v.paths) {
      if (!existsSync(p)) continue;
      let real = p;
      try { real = realpathSync(p); } catch { /* keep the path as given */ }
      if (seen.has(real)) continue;
      seen.add(real);
      out.push(moduleChoice(state, p, v.vendor));
    }
  }
  return out;
}

/** A field name as it may be shown: names come from the request too, so odd ones are not echoed. */
function fieldName(k: PropertyKey): string {
  const t = String(k);
  return /^[A-Za-z_][A-Za-z0-9_-]{0,39}$/.test(t) || /^\d{1,6}$/.test(t) ? t : '(unnamed)';
}

/** Zod's complaint in words, naming the fields but never echoing a value (it may be a PIN). */
function inputProblem(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((i) => {
    const where = i.path.map(fieldName).join('.') || 'request';
    if (i.code === 'unrecognized_keys') return `${where}: unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.slice(0, 5).map(fieldName).join(', ')}`;
    const m = i.message.length > 120 ? `${i.message.slice(0, 117)}...` : i.message;
    return `${where}: ${m}`;
  });
  return `The request was refused: ${parts.join('; ')}.`;
}

function token(t: CoreToken) {
  return {
    label: t.label,
    manufacturer: t.manufacturer,
    model: t.model,
    serial: t.serial,
    flags: { ...t.flags },
    minPinLen: t.minPinLen,
    maxPinLen: t.maxPinLen,
    freePublicMemory: t.freePublicMemory,
    freePrivateMemory: t.freePrivateMemory,
  };
}

function slot(s: CoreSlot) {
  return { slotId: s.slotId, description: s.description, tokenPresent: s.tokenPresent, token: s.token ? token(s.token) : null };
}

export function keyInfo(k: CoreKeyInfo) {
  return {
    label: k.label,
    id: k.id,
    type: keyFamily(k.keyAlgorithm),
    algorithm: k.keyAlgorithm,
    size: k.sizeBits,
    attributes: { ...k.attributes },
    fingerprint: k.publicKeyFingerprint,
    ...(k.parameterSet ? { parameterSet: k.parameterSet } : {}),
  };
}

/**
 * A token key for a Catalyst CA's alternative role must be ML-DSA: the alternative signature is
 * the post-quantum one (ITU-T X.509 §9.8 as the hybrid profiles use it).
 */
/** How far the laptop clock may be from the witness's reference time (a typed time has minute precision at worst). */
const MAX_CLOCK_SKEW_SECONDS = 300;

/** The words the record gives a Catalyst CA's ML-DSA key and the token it is in. */
const ALT_ROLE = 'CA alternative (post-quantum) key';

function assertAltAlgorithm(algorithm: string): void {
  if (!isMlDsa(algorithm)) throw new QpkiError('INPUT_INVALID', `The alternative key of a Catalyst CA is an ML-DSA key; ${algorithm} is not.`);
}

/** Post-quantum (one ML-DSA key), hybrid (Catalyst: classical + ML-DSA) or classical. */
export function profileFamily(p: { algorithm: string; altAlgorithm?: string }): 'classical' | 'post-quantum' | 'hybrid' {
  if (p.altAlgorithm) return 'hybrid';
  return isMlDsa(p.algorithm) ? 'post-quantum' : 'classical';
}

function profileKind(p: { name: string; isCa: boolean }): string {
  if (!p.isCa) return 'end-entity';
  return /root/.test(p.name) ? 'root-ca' : 'ca';
}

/** Only built-in profiles cross IPC: the renderer names a profile, never a file to read. */
function builtinProfile(name: string) {
  if (!listProfiles().some((p) => p.name === name)) {
    throw new QpkiError('PROFILE_NOT_FOUND', `Profile "${name}" is not one of the built-in profiles.`);
  }
  return loadProfile(name);
}

function validateVars(defs: VariableDef[], vars: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const d of defs) {
    try {
      validateVariable(d, vars[d.name]);
    } catch (e) {
      errors[d.name] = e instanceof Error ? e.message : String(e);
    }
  }
  for (const name of Object.keys(vars)) if (!defs.some((d) => d.name === name)) errors[name] = `The profile has no variable "${name}".`;
  return errors;
}

export function createHandlers(state: AppState, deps: HandlerDeps): Handlers {
  const ceremony = state.ceremony;
  /** Record a fact of the ceremony: in the CA's journal once there is one, held in order before. */
  const record = (kind: JournalKind, facts: Record<string, unknown>) => ceremony.record(kind, facts);
  const recordModule = (info: { path: string; manufacturer: string; description: string; libraryVersion: string; cryptokiVersion: string }) => {
    ceremony.modules.add(info.path);
    record('module.loaded', {
      path: info.path, librarySha256: fileSha256(info.path), manufacturer: info.manufacturer, description: info.description,
      libraryVersion: info.libraryVersion, cryptokiVersion: info.cryptokiVersion,
    });
  };

  const ctx: signing.SigningContext = { state, confirm: deps.confirm };
  /** The ceremony plan this ceremony walks, if any: every step's action is checked against it here, in main. */
  const plan = new PlanSession(record);
  const planState = () => {
    const shown = plan.active ?? plan.opened;
    return {
      plan: shown ? planView(shown) : null, active: plan.isActive, current: plan.current, awaiting: plan.awaiting,
      status: [...plan.status], changed: [...plan.changed], acknowledgements: plan.acknowledgements.map((a) => ({ ...a })),
      deviations: plan.deviations.map((d) => ({ ...d })), witnesses: plan.witnesses(),
      preflight: { warnings: plan.isActive ? [...ceremony.preflightWarnings] : [], confirmed: plan.isActive && ceremony.preflightConfirmed },
    };
  };
  /** A prepared request under the plan: checked before it is built, remembered so its signature completes the step. */
  const underPlan = async (check: () => number, prepare: () => Promise<Output<'previewCa'>>) => {
    if (!plan.isActive) return prepare();
    const i = check();
    const view = await prepare();
    plan.prepared(i, view.id);
    return view;
  };
  /** The journal this ceremony writes to, or the last one it closed, or the open CA's. */
  const journalDir = (): string | null => ceremony.dir ?? (ceremony.closed ? ceremony.lastDir : null) ?? state.caDir ?? ceremony.lastDir;
  /** A key as the contract shows it, with the CA directories this app knows it already backs. */
  const known = (k: CoreKeyInfo) => ({ ...keyInfo(k), backs: k.publicKeyFingerprint ? casBackedBy(state.options.dataDir, k.publicKeyFingerprint) : [] });
  const rememberOpened = (out: { dir: string; subject: string; keys: Array<{ fingerprint: string | null }> }) => {
    try {
      rememberCa(state.options.dataDir, { dir: out.dir, subject: out.subject, keys: out.keys.map((k) => (k.fingerprint ?? '').replace(/:/g, '').toLowerCase()).filter(Boolean) });
    } catch { /* the list helps the operator; a full disk must not stop the ceremony here */ }
  };
  /**
   * Load a library only after the operator confirmed its path and SHA-256 in main's own dialog
   * (dlopen runs the library's code in main). Every attempt is on the record, failed ones too.
   */
  const loadConfirmed = async (path: string, vendor: string) => {
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
      facts: [{ label: 'Library', value: path }, { label: 'Vendor', value: vendor }, { label: 'SHA-256', value: colonHex(sha256) }],
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
  };

  /** The logged-in session a key request of this role works in: a Catalyst ML-DSA key's may be a second token. */
  const keySession = (role: 'primary' | 'alternative' | undefined) => (role === 'alternative' ? state.altKeySession() : state.requireLogin());
  const requireAltSession = () => {
    if (!state.altSession) throw new QpkiError('SESSION_CLOSED', 'No second token is open for the ML-DSA key. Choose it on the key step first.');
    return state.altSession;
  };
  /**
   * A second token of the loaded library for a Catalyst CA's ML-DSA key. The ceremony's own token
   * stays open and logged in; the second one must be another token, with ML-DSA (PKCS#11 3.2).
   */
  const openAltToken = (m: Pkcs11Module, serial: string, label: string | undefined) => {
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
  };

  const impl: Impl = {
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
      const m = await loadConfirmed(path, vendor);
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
      const mechanisms = m.mechanisms(slotId).map((x) => x.name);
      const t = m.listSlots().find((s) => s.slotId === slotId)?.token;
      let keyAlgorithms: string[] = [];
      if (t?.flags.initialized) {
        const s = m.openSession({ serial: t.serial });
        try {
          keyAlgorithms = s.keyAlgorithms();
        } finally {
          s.close();
        }
      }
      return { mechanisms, keyAlgorithms };
    },
    initToken: async ({ slotId, label, soPin, userPin, reinitialize, confirmLabel }) => {
      const m = state.requireModule();
      const step = plan.isActive ? plan.beforeTokenInit() : null;
      // What the slot holds, as main reads it: the record of a refusal names the token it protected.
      let present: CoreToken | undefined;
      try { present = m.listSlots().find((x) => x.slotId === slotId)?.token; } catch { /* core reports the slot's problem */ }
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
        label, serial: r.token.serial, slotId: found.slot.slotId, ...(Object.keys(answers).length ? { answers } : {}),
        ...(again ? { reinitialized: true, previousLabel: again.previousLabel, previousSerial: again.previousSerial, objectsBefore: again.objects } : {}),
      });
      if (step !== null) plan.tokenInitialized(step, { label, serial: r.token.serial });
      return { slot: slot(found.slot), warnings: r.warnings, reinitialized: !!again };
    },
    prepareDevToken: async () => {
      const lib = state.options.softhsmPath;
      const dir = state.options.devTokenDir;
      if (!lib || !dir) throw new QpkiError('MODULE_LOAD_FAILED', 'SoftHSM2 is not installed on this computer, so no development token can be made.');
      const m = await loadConfirmed(lib, 'SoftHSM2 (development only)');
      if (state.module !== m) state.endSession();
      state.module = m;
      const free = m.listSlots().find((s) => s.tokenPresent && s.token && !s.token.flags.initialized);
      return { module: m.info(), freeSlotId: free?.slotId ?? null, suggestedLabel: 'DEV NOT FOR PRODUCTION', dir };
    },
    openCeremony: ({ operator, witnesses, purpose }) => {
      if (plan.isActive && ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'A ceremony plan is running: its ceremony has the plan\'s participants and purpose. Close it before opening another ceremony.');
      if (ceremony.isOpen && ceremony.dir) ceremony.close('a new ceremony was opened');
      const r = ceremony.open({ operator, witnesses }, purpose, { version: state.options.version, root: state.options.appRoot ?? findAppRoot(__dirname) }, state.options.dataDir);
      const p = r.preflight;
      return {
        preflight: { networkInterfacesUp: p.networkInterfacesUp, clock: { iso: p.clock.iso, tz: p.clock.tz }, freeDiskBytes: p.freeDiskBytes, warnings: p.warnings },
        appSha256: r.app.sha256,
        appFiles: r.app.files,
        version: state.options.version,
      };
    },
    closeCeremony: () => {
      const out = ceremony.close('the operator closed the ceremony', join(state.options.dataDir, 'ceremonies'));
      plan.end();
      state.endSession();
      return out;
    },
    exportTranscript: async () => {
      const d = journalDir();
      if (!d || !existsSync(join(d, 'journal.jsonl'))) throw new QpkiError('CA_NOT_FOUND', 'There is no ceremony journal to print yet: it starts when the CA directory is created or opened.');
      // The page shows the latest ceremony of the journal; the chain is checked over the whole file.
      const journal = readJournal(d);
      const html = await renderTranscriptHtml(journal, { caDir: d });
      const entries = selectCeremony(journal);
      const finalHash = entries.length ? entries[entries.length - 1].hash : '0'.repeat(64);
      const dest = await deps.chooseSavePath(join(state.options.dataDir, `${basename(d)}-transcript-${new Date().toISOString().slice(0, 10)}.pdf`), 'transcript');
      if (!dest) return { savedTo: null, entries: entries.length, finalHash };
      const target = resolve(dest);
      if (existsSync(target)) throw new QpkiError('OUTPUT_EXISTS', `${target} already exists; choose another name.`);
      await deps.printPdf(html, target);
      return { savedTo: target, entries: entries.length, finalHash };
    },
    openToken: ({ serial, label, role }) => {
      const m = state.requireModule();
      if (role === 'alternative') return openAltToken(m, serial, label);
      state.endSession();
      // The library this token is reached through is on the record before the token is (loaded
      // before the ceremony opened, for the development token).
      if (!ceremony.modules.has(m.info().path)) recordModule(m.info());
      const s = m.openSession({ serial, ...(label !== undefined ? { label } : {}) });
      state.session = s;
      const found = m.findToken({ serial });
      record('token.chosen', { label: s.token.label, serial: s.token.serial, model: s.token.model, manufacturer: s.token.manufacturer, slotId: found.slot.slotId });
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
        record('login.succeeded', { token: s.token.label, serial: s.token.serial, ...(finalTry ? { finalTry } : {}), ...(role === 'alternative' ? { role: ALT_ROLE } : {}) });
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
      if (ceremony.isOpen) {
        try { ceremony.close('the operator started over', join(state.options.dataDir, 'ceremonies')); } catch { /* ending the session must not fail on the record */ }
      }
      plan.end();
      const ended = state.endSession();
      state.caDir = null;
      return { ended };
    },
    endAltSession: () => {
      const had = !!state.altSession;
      state.endAltSession();
      return { ended: had };
    },
    listKeys: ({ role }) => ({ keys: keySession(role).listKeys().map(known) }),
    keyAlgorithms: ({ role }) => ({ algorithms: keySession(role).keyAlgorithms() }),
    generateKey: async ({ algorithm, label, id, role }) => {
      const s = keySession(role);
      if (role === 'alternative') assertAltAlgorithm(algorithm);
      const step = plan.isActive ? plan.beforeKey(label, algorithm) : null;
      const r = await s.generateKey({ algorithm, label, ...(id ? { id: id.toLowerCase() } : {}) });
      const choice = { kind: 'pkcs11' as const, label: r.key.label, id: r.key.id };
      if (role === 'alternative') state.altKey = choice;
      else state.key = choice;
      record('key.generated', {
        label: r.key.label, id: r.key.id, algorithm: r.key.keyAlgorithm, sizeBits: r.key.sizeBits, token: s.token.label, tokenSerial: s.token.serial,
        ...(r.key.parameterSet ? { parameterSet: r.key.parameterSet } : {}), ...(role === 'alternative' ? { role: ALT_ROLE } : {}),
        attributes: { ...r.key.attributes }, publicKeySha256Fingerprint: r.key.publicKeyFingerprint,
        testSignature: { algorithm: r.testSignature.algorithm, verified: r.testSignature.verified },
      });
      if (step !== null) plan.keyGenerated(step, { label: r.key.label, id: r.key.id, publicKeySha256Fingerprint: r.key.publicKeyFingerprint });
      return { key: known(r.key), testSignature: { algorithm: r.testSignature.algorithm, verified: r.testSignature.verified } };
    },
    selectKey: async ({ label, id, role }) => {
      const s = keySession(role);
      // A plan's key step makes a new key; using an existing one instead is a change of the plan.
      const step = plan.isActive ? plan.beforeKey(`(existing key) ${label ?? id ?? ''}`, '(existing)') : null;
      const k = s.findKey({ label, id });
      if (role === 'alternative') assertAltAlgorithm(k.keyAlgorithm);
      // The same proof as a new key gives, and the fingerprint this ceremony's record (or the
      // journal of the CA directory it works in) has for the key since its generation.
      const ref = { tokenSerial: s.token.serial, label: k.label, id: k.id };
      const recorded = recordedKeyFingerprint(ceremony.pendingEvents(), ref, 'this ceremony')
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
        label: p.label, id: p.id, algorithm: p.keyAlgorithm, ...(role === 'alternative' ? { role: ALT_ROLE } : {}),
        attributes: { ...p.attributes }, publicKeySha256Fingerprint: p.publicKeyFingerprint,
        testSignature: { ...proof.testSignature }, journalFingerprint: proof.journal,
      });
      if (step !== null) plan.keyGenerated(step, { label: p.label, id: p.id, publicKeySha256Fingerprint: p.publicKeyFingerprint, existing: true });
      return { key: known(p), testSignature: { ...proof.testSignature }, journal: proof.journal };
    },
    useSoftwareKeystore: ({ algorithm, because }) => {
      // A plan's keys are made in the token; a software key file instead is a change of the plan's key step.
      if (plan.isActive) plan.beforeKey('(software key file)', algorithm);
      if (because === 'token-lacks-ml-dsa') {
        // The switch is the operator's, on the record with the fact that prompted it: never a silent fallback.
        const s = state.requireSession();
        if (s.hasMechanism(CKM_ML_DSA)) throw new QpkiError('INPUT_INVALID', `Token “${s.token.label}” does have ML-DSA (CKM_ML_DSA); generate the ML-DSA key in the token instead.`);
        if (!isMlDsa(algorithm)) throw new QpkiError('INPUT_INVALID', `${algorithm} is not an ML-DSA algorithm.`);
        record('error', {
          code: 'MECHANISM_UNSUPPORTED', token: s.token.label, serial: s.token.serial, missingMechanism: 'CKM_ML_DSA',
          resolution: `the operator chose the software keystore for the ${algorithm} CA key (an encrypted file in the CA directory)`,
        });
      }
      state.endSession();
      state.key = { kind: 'software', algorithm };
      return { algorithm };
    },
    listProfiles: () => ({
      profiles: listProfiles().map((p) => ({
        name: p.name, description: p.description, kind: profileKind(p), algorithm: p.algorithm, altAlgorithm: p.altAlgorithm ?? null, family: profileFamily(p),
      })),
    }),
    getProfile: ({ name }) => {
      const p = builtinProfile(name);
      return {
        name: p.name,
        description: p.description,
        kind: profileKind(p),
        algorithm: p.algorithm,
        altAlgorithm: p.altAlgorithm ?? null,
        family: profileFamily(p),
        variables: p.variables.map((v) => ({ ...v })),
      };
    },
    validateVariables: ({ profile, vars }) => ({ errors: validateVars(builtinProfile(profile).variables, vars) }),
    previewCa: async ({ profile, vars, dirId }) => {
      const dir = resolve(state.capabilities.directory(dirId, 'new-ca'));
      return underPlan(() => plan.beforeRequest({ type: 'root', profile, vars, key: state.key?.kind === 'pkcs11' ? { label: state.key.label, id: state.key.id } : null, targetDir: dir }),
        () => signing.prepareRoot(ctx, builtinProfile(profile), vars, dir));
    },
    openCa: ({ dirId }) => {
      const out = caOps.open(state, resolve(state.capabilities.directory(dirId, 'open-ca')));
      state.caDir = out.dir;
      state.request = null;
      ceremony.attach(out.dir);
      rememberOpened(out);
      return out;
    },
    readCsr: ({ csrPem, profile }) => {
      const p = builtinProfile(profile);
      const { csr, described } = signing.readRequest(state, csrPem, p);
      const f = csrFacts(csr, described);
      return {
        csr: { subject: f.subject, subjectAltNames: f.subjectAltNames, keyAlgorithm: f.keyAlgorithm, keyFingerprint: colonHex(f.keyFingerprint), signatureValid: true, sha256: colonHex(f.sha256), differences: [] },
        vars: suggestedVars(p, csr, f.subject),
      };
    },
    prepareIssue: async ({ purpose, csrPem, profile, vars, rootEndEntity }) => underPlan(
      // A plan issues CA certificates only (subordinate from a request file); an end entity is not a plan step.
      () => (purpose === 'subordinate-ca' ? plan.beforeRequest({ type: 'subordinate', profile, vars, csrPem, caDir: state.caDir }) : plan.beforeOther('an end-entity certificate')),
      () => signing.prepareIssuance(ctx, { purpose, csrPem, profile: builtinProfile(profile), vars, ...(rootEndEntity ? { rootEndEntity } : {}) })),
    listIssued: () => revocation.listIssued(state),
    // A plan revokes only in its CRL steps (by the command line); in the app, a revocation during a plan is a deviation.
    revokeCertificate: ({ serial, reason }) => {
      if (plan.isActive) plan.beforeOther('A revocation outside a CRL step');
      return revocation.revokeCertificate(ctx, serial, reason);
    },
    prepareCrl: ({ days }) => underPlan(() => plan.beforeRequest({ type: 'crl', days, caDir: state.caDir }), () => signing.prepareCrlRequest(ctx, days)),
    sign: async ({ requestId, passphrase, altPassphrase }) => {
      // A ceremony signs only once a witness has confirmed this computer: the clock against a
      // reference time, and the witnesses' reason for any preflight warning (BR 5.4.1, WebTrust).
      if (ceremony.isOpen && !ceremony.preflightConfirmed) {
        throw new QpkiError('PREFLIGHT_UNCONFIRMED', `Nothing was signed: a witness has not yet confirmed this computer's clock against a reference time${ceremony.preflightWarnings.length ? ', nor given the reason for going on despite the preflight warnings' : ''}. Do it on the preflight screen, then sign again.`);
      }
      const out = await signing.signRequest(ctx, requestId, { passphrase: passphrase ?? null, altPassphrase: altPassphrase ?? null });
      if (plan.isActive) {
        plan.signed(requestId, out.kind === 'certificate'
          ? { made: [out.issued.savedTo], serial: out.issued.serial, certificateSha256: out.issued.certificate.sha256 }
          : { made: [out.savedTo] }, out.kind === 'certificate' && out.issued.ca ? out.issued.dir : undefined);
      }
      return out;
    },
    withdrawRequest: ({ requestId }) => ({ withdrawn: signing.withdraw(state, requestId) }),
    describeDocument: ({ data, encoding }) => caOps.describe(encoding === 'pem' ? data : Buffer.from(data, 'base64')),
    verifyDocument: ({ document, issuer, againstOpenCa }) =>
      caOps.verify(
        document.encoding === 'pem' ? document.data : Buffer.from(document.data, 'base64'),
        issuer ? (issuer.encoding === 'pem' ? issuer.data : Buffer.from(issuer.data, 'base64')) : null,
        againstOpenCa ? state.caDir : null,
      ),
    exportCertificate: async ({ path, format }) => {
      const src = resolve(path);
      if (!state.knownFiles.has(src)) throw new QpkiError('INPUT_INVALID', 'Only a certificate signed or opened in this session can be exported.');
      const pem = readFileSync(src, 'utf8');
      const dest = await deps.chooseSavePath(join(dirname(src), basename(src).replace(/\.(pem|crt|cer)$/i, '') + (format === 'pem' ? '.pem' : '.der')));
      if (!dest) return { savedTo: null };
      const body = format === 'pem' ? pem : caOps.pemToDer(pem);
      try {
        writeFileSync(dest, body, { flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new QpkiError('OUTPUT_EXISTS', `${dest} already exists; choose another name.`);
        throw new QpkiError('IO_ERROR', `Cannot write ${dest}: ${(e as Error).message}`);
      }
      return { savedTo: dest };
    },
    chooseDirectory: async ({ purpose }) => {
      const picked = await deps.chooseDirectory(purpose);
      if (!picked) return { dirId: null, path: null };
      const path = resolve(picked);
      return { dirId: state.capabilities.addDirectory(path, purpose), path };
    },
    openPlan: async () => {
      const picked = await deps.choosePlanFile();
      if (!picked) return { plan: null };
      const path = resolve(picked);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new QpkiError('PLAN_INVALID', `Cannot read the ceremony plan ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
      }
      if (plan.isActive && ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'A ceremony plan is running; close its ceremony before opening another plan.');
      const checked = checkPlan(bytes, path);
      plan.open(checked);
      return { plan: planView(checked) };
    },
    startPlan: ({ sha256 }) => {
      const p = plan.opened;
      if (!p) throw new QpkiError('PLAN_INVALID', 'Open a ceremony plan first.');
      // The plan started is the one the witnesses were shown, byte for byte.
      if (p.sha256 !== sha256) throw new QpkiError('PLAN_INVALID', 'The plan shown is not the plan main holds (its SHA-256 differs); open the plan again.');
      if (plan.isActive && ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'This ceremony already runs a plan.');
      if (ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'A ceremony without this plan is open: close it first, then start the plan (its ceremony has the plan\'s participants and purpose).');
      const people = p.plan.participants;
      ceremony.open(
        { operator: people.find((x) => x.role === 'operator')!.name, witnesses: people.filter((x) => x.role !== 'operator').map((x) => x.name) },
        p.plan.ceremony.purpose, { version: state.options.version, root: state.options.appRoot ?? findAppRoot(__dirname) }, state.options.dataDir,
      );
      plan.start();
      return planState();
    },
    planState: () => planState(),
    confirmPreflight: ({ witness, referenceTime, justification }) => {
      if (!ceremony.isOpen || !ceremony.participants) throw new QpkiError('INPUT_INVALID', 'No ceremony is open: open one (names, purpose, preflight) first.');
      const witnesses = ceremony.participants.witnesses;
      if (!witnesses.includes(witness)) throw new QpkiError('INPUT_INVALID', `The clock is confirmed by a witness of this ceremony; “${witness}” is not one (${witnesses.join(', ')}).`);
      const reference = Date.parse(referenceTime);
      if (Number.isNaN(reference)) throw new QpkiError('INPUT_INVALID', `The reference time “${referenceTime}” is not a time; type it as the reference clock shows it, in UTC, like 2027-01-15T09:30:00Z.`);
      const warnings = ceremony.preflightWarnings;
      const note = justification?.trim() ?? '';
      if (warnings.length && note.length < 10) {
        throw new QpkiError('INPUT_INVALID', `The preflight warned (${warnings.join(' ')}): the witnesses' reason for going on is needed, at least 10 characters, or fix the cause and open the ceremony again.`);
      }
      // The laptop time is read now, when the witness compares it, not when the preflight ran.
      const laptop = new Date();
      const laptopTime = laptop.toISOString();
      const differenceSeconds = Math.round((laptop.getTime() - reference) / 1000);
      record('witness.acknowledged', { what: 'clock', witness, referenceTime, laptopTime, differenceSeconds });
      // Every certificate is dated by this clock: one far off is on the record, and stops the ceremony until it is set.
      if (Math.abs(differenceSeconds) > MAX_CLOCK_SKEW_SECONDS) {
        throw new QpkiError('INPUT_INVALID', `The laptop clock (${laptopTime}) is ${Math.abs(differenceSeconds)} s ${differenceSeconds > 0 ? 'ahead of' : 'behind'} the reference time: more than ${MAX_CLOCK_SKEW_SECONDS / 60} minutes. Set the laptop clock, then open the ceremony again. The comparison is on the record.`);
      }
      if (warnings.length) record('witness.acknowledged', { what: 'preflight', warnings: [...warnings], note, witness });
      ceremony.preflightConfirmed = true;
      return { laptopTime, differenceSeconds, warnings: [...warnings] };
    },
    acknowledgeStep: ({ witness }) => {
      plan.acknowledge(witness);
      return planState();
    },
    recordDeviation: ({ kind, note }) => {
      plan.deviate(kind, note);
      return planState();
    },
    readJournal: () => {
      const d = journalDir();
      const pending = ceremony.pendingEvents().map((p) => ({ time: p.time, kind: p.kind, facts: toFacts(p.facts) }));
      const who = ceremony.participants
        ? { operator: ceremony.participants.operator, witnesses: [...ceremony.participants.witnesses], purpose: ceremony.purpose ?? '', closed: ceremony.closed }
        : null;
      if (!d || !existsSync(join(d, 'journal.jsonl'))) return { dir: d ?? null, entries: [], intact: true, pending, ceremony: who };
      const entries = readJournal(d);
      const v = verifyJournal(d);
      return {
        dir: d,
        entries: entries.map((e) => ({ seq: e.seq, time: e.time, kind: e.kind, operator: e.operator, witnesses: e.witnesses, facts: e.facts, hash: e.hash })),
        intact: v.ok,
        pending,
        ceremony: who,
      };
    },
  };

  // Calls are serialized: a token session is one conversation, and so is the CA directory.
  let queue: Promise<unknown> = Promise.resolve();
  const handlers = {} as Handlers;
  for (const name of CHANNELS) {
    const entry = contract[name];
    const run = impl[name] as (input: unknown) => unknown;
    handlers[name] = (raw: unknown) => {
      const job = queue.then(async (): Promise<Result<unknown>> => {
        // Only a missing argument means "no fields"; null, strings, arrays are refused like any bad input.
        const parsed = entry.input.safeParse(raw === undefined ? {} : raw);
        if (!parsed.success) return { ok: false, error: { code: 'INPUT_INVALID', message: inputProblem(parsed.error) } };
        let out: unknown;
        const before = { session: state.session, module: state.module };
        try {
          out = await run(parsed.data);
        } catch (e) {
          // A token that stopped answering: its session is dropped here, whatever the request was.
          let err = e;
          try {
            err = recovery.onFailure(state, { channel: name, input: parsed.data, ...before }, e, record);
          } catch { /* the original error still says what failed */ }
          return { ok: false, error: toErrorPayload(err) };
        }
        const checked = entry.output.safeParse(out);
        if (!checked.success) {
          return { ok: false, error: { code: 'RESPONSE_INVALID', message: `The answer to ${name} did not match the contract: ${inputProblem(checked.error)}` } };
        }
        return { ok: true, value: checked.data };
      });
      queue = job.catch(() => undefined);
      return job;
    };
  }
  return handlers;
}
