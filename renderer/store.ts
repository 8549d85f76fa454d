/**
 * The wizard's state. It holds what the operator chose and what main reported — never a PIN:
 * the login and token-initialization actions take PINs as arguments, pass them on once and
 * keep nothing (renderer/store.test.ts scans the whole state for a canary PIN).
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { call, toPayload } from './api';
import type { ErrorPayload } from '../shared/error-codes';
import type {
  CaSummaryT, DescribedT, GeneratedKeyT, IssuedT, Input, KeyInfoT, ModuleInfoT, Output,
  ProfileSummaryT, SigningRequestT, SlotSummaryT, TokenSummaryT, KeyAlgorithmT, PlanViewT,
} from '../shared/contract';

export type Screen =
  | 'start' | 'ceremony' | 'closed' | 'storage' | 'token' | 'pin' | 'key' | 'profile' | 'review' | 'result'
  | 'init' | 'inspect' | 'ca' | 'issue' | 'plan' | 'request-written';

export const CEREMONY_STEPS: Array<{ screen: Screen; label: string }> = [
  { screen: 'start', label: 'Start' },
  { screen: 'ceremony', label: 'Ceremony' },
  { screen: 'storage', label: 'Key storage' },
  { screen: 'token', label: 'Token' },
  { screen: 'pin', label: 'PIN' },
  { screen: 'key', label: 'Key' },
  { screen: 'profile', label: 'Profile' },
  { screen: 'review', label: 'Review' },
  { screen: 'result', label: 'Result' },
  { screen: 'closed', label: 'Transcript' },
];

export type Purpose = 'ceremony' | 'init' | 'ca';
export type IssueMode = 'csr' | 'end-entity' | 'crl' | 'revoke';
export type VarValue = string | number | boolean | string[];

export interface WizardState {
  screen: Screen;
  purpose: Purpose;
  busy: string | null;
  error: ErrorPayload | null;
  appInfo: Output<'appInfo'> | null;
  knownModules: Output<'knownModules'>['modules'];
  module: ModuleInfoT | null;
  devToken: boolean;
  slots: SlotSummaryT[];
  slotsLoaded: boolean;
  mechanisms: Record<string, Output<'tokenMechanisms'>>;
  token: TokenSummaryT | null;
  /** The slot of the open token (its mechanism list says what it can do). */
  tokenSlotId: string | null;
  loggedIn: boolean;
  keystore: 'pkcs11' | 'software';
  keys: KeyInfoT[];
  algorithms: KeyAlgorithmT[];
  generated: GeneratedKeyT | null;
  key: KeyInfoT | null;
  /** Main's proof of an existing key just chosen (test signature, journal record), as main reported it. */
  proven: { algorithm: string; verified: boolean; journal: 'matched' | 'not-recorded' } | null;
  softwareAlgorithm: KeyAlgorithmT | null;
  /**
   * A Catalyst CA's ML-DSA key when it is in a token: the ceremony's own (altToken null) or a
   * second token of the library opened for it. null: an encrypted file made when signing (the default).
   */
  altKey: KeyInfoT | null;
  altToken: TokenSummaryT | null;
  altLoggedIn: boolean;
  altAlgorithms: KeyAlgorithmT[];
  profiles: ProfileSummaryT[];
  /** The plan step "Do this step" opened: its values fill the wizard's forms (main still checks each request against the plan). */
  planned: PlanViewT['steps'][number] | null;
  profile: Output<'getProfile'> | null;
  /** Whether the open token lists CKM_ML_DSA; null until asked (asked for a post-quantum profile). */
  tokenHasMlDsa: boolean | null;
  vars: Record<string, VarValue>;
  /** The directory the operator picked in main's dialog: its id (what requests name) and its path (shown). */
  caDirId: string | null;
  caDir: string;
  /** The signing request main prepared and holds; signing names its id. */
  review: SigningRequestT | null;
  issued: IssuedT | null;
  /** A plan's certificate request for an external parent, as main wrote it (where, and its SHA-256). */
  requestWritten: Extract<Output<'sign'>, { kind: 'csr' }> | null;
  ca: CaSummaryT | null;
  issueMode: IssueMode;
  crl: { crl: DescribedT; savedTo: string } | null;
  /** The open CA's index as main lists it (Revoke screen), and the last revocation made there. */
  issuedList: Output<'listIssued'>['certificates'] | null;
  revoked: Output<'revokeCertificate'> | null;
  initialized: SlotSummaryT | null;
  /** The blank token the operator chose to initialize from the token step. */
  initSlotId: string | null;
  inspected: DescribedT | null;
  /** Every object of the file inspected (a PEM bundle holds several), each decoded or refused on its own. */
  inspectedAll: Array<{ doc: DescribedT | null; problem: ErrorPayload | null }>;
  /** Which of them is shown (and verified). */
  inspectedIndex: number;
  /** The file is not a document at all (text with no PEM block), said in words, not as a DER error. */
  inspectProblem: string | null;
  verification: Output<'verifyDocument'> | null;
  journal: Output<'readJournal'> | null;
  exported: string | null;
  /** The opened ceremony: preflight results and the app's fingerprint (names are in the journal). */
  ceremony: Output<'openCeremony'> | null;
  closed: Output<'closeCeremony'> | null;
  /** The witness's confirmation of the preflight (clock, reason for warnings), as main recorded it; null until then. */
  preflightConfirmed: Output<'confirmPreflight'> | null;
  /** A plan's ceremony is open (the plan screen opened it in main, not the ceremony step). */
  planCeremony: boolean;
  transcript: string | null;
  /** "Start over" was pressed while a witnessed ceremony is open: the page asks before ending it. */
  askStartOver: boolean;
  /** A token chosen before the ceremony step (just initialized): opened right after it. */
  afterCeremony: { serial: string; label: string } | null;
  /** The token stopped answering mid-ceremony: Retry reconnects it, then a new login continues. */
  lost: LostToken | null;
  /** A plan's step is on its other token: the operator logged out to open it; its login goes back to the plan. */
  planSwitch: boolean;
}

export interface LostToken {
  label: string;
  serial: string;
  /** What main said about the loss (which step, what was and was not done). */
  message: string;
  stage: 'reconnect' | 'pin';
  /** The step that continues after the new login, in words; null when the operator repeats it. */
  resumes: string | null;
  /** Why the last Retry did not find the token. */
  retryProblem: ErrorPayload | null;
}

const initial: WizardState = {
  screen: 'start',
  purpose: 'ceremony',
  busy: null,
  error: null,
  appInfo: null,
  knownModules: [],
  module: null,
  devToken: false,
  slots: [],
  slotsLoaded: false,
  mechanisms: {},
  token: null,
  tokenSlotId: null,
  loggedIn: false,
  keystore: 'pkcs11',
  keys: [],
  algorithms: [],
  generated: null,
  key: null,
  proven: null,
  softwareAlgorithm: null,
  altKey: null,
  altToken: null,
  altLoggedIn: false,
  altAlgorithms: [],
  profiles: [],
  planned: null,
  profile: null,
  tokenHasMlDsa: null,
  vars: {},
  caDirId: null,
  caDir: '',
  review: null,
  issued: null,
  requestWritten: null,
  ca: null,
  issueMode: 'csr',
  crl: null,
  issuedList: null,
  revoked: null,
  initialized: null,
  initSlotId: null,
  inspected: null,
  inspectedAll: [],
  inspectedIndex: 0,
  inspectProblem: null,
  verification: null,
  journal: null,
  exported: null,
  ceremony: null,
  closed: null,
  preflightConfirmed: null,
  planCeremony: false,
  transcript: null,
  askStartOver: false,
  afterCeremony: null,
  lost: null,
  planSwitch: false,
};

/** The PEM blocks of a text, each whole from its BEGIN line to its END line, in file order. */
export function pemBlocks(text: string): string[] {
  return [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)].map((m) => `${m[0]}\n`);
}

/**
 * What every group of actions shares: the store's get and set, the run helper, the login helpers,
 * the step a lost token interrupted, and all the actions (one group calls another's).
 */
interface StoreKit {
  get: StoreApi<WizardState>['getState'];
  set: StoreApi<WizardState>['setState'];
  run: <T>(what: string, fn: () => Promise<T>, resume?: () => Promise<unknown>) => Promise<T | undefined>;
  refreshJournal: () => Promise<void>;
  loginOnce: (pin: string) => Promise<boolean>;
  refreshPinState: () => Promise<void>;
  /**
   * The step a lost token interrupted, run again after Retry and the new login. Only steps that
   * need no secret but the PIN are kept (a passphrase is never held for later).
   */
  resumeAfterReconnect: { step: (() => Promise<unknown>) | null };
  /** Filled in by createWizardStore once every group is made; read only when an action runs. */
  actions: WizardActions;
}

export type WizardActions = ReturnType<typeof ceremonyActions> & ReturnType<typeof moduleActions> & ReturnType<typeof tokenActions> & ReturnType<typeof keyActions>
  & ReturnType<typeof planActions> & ReturnType<typeof profileActions> & ReturnType<typeof reviewActions> & ReturnType<typeof caActions> & ReturnType<typeof issueActions>
  & ReturnType<typeof inspectActions> & ReturnType<typeof sessionActions>;

/**
 * The wizard's state and its actions, one action per thing the operator does on a screen, in
 * groups by what they work on (the ceremony, the library, the token, the key, the plan, …). Each
 * action calls main through the bridge and moves to the next screen. A new action goes in its
 * group; a new group is one more factory here and in WizardActions.
 */
export function createWizardStore() {
  const store = createStore<WizardState>()(() => ({ ...initial }));
  const actions = {} as WizardActions;
  const k = storeKit(store, actions);
  Object.assign(actions, ceremonyActions(k), moduleActions(k), tokenActions(k), keyActions(k), planActions(k), profileActions(k), reviewActions(k), caActions(k), issueActions(k), inspectActions(k), sessionActions(k));
  return { store, actions };
}

function storeKit(store: StoreApi<WizardState>, actions: WizardActions): StoreKit {
  const set = store.setState;
  const get = store.getState;
  const resumeAfterReconnect: StoreKit['resumeAfterReconnect'] = { step: null };

  async function refreshJournal(): Promise<void> {
    try {
      const j = await call('readJournal', {});
      set({ journal: j });
    } catch {
      /* the journal panel is informative; its own absence is not an error to show */
    }
  }

  const run = runner(get, set, resumeAfterReconnect, refreshJournal);

  /**
   * A wrong PIN that locked the token: the error says what the operator faces now (the security
   * officer must unlock it), not "type the PIN again"; main's words stay as the details.
   */
  function lockedNow(t: TokenSummaryT): Partial<WizardState> {
    const e = get().error;
    return t.flags.userPinLocked && e?.code === 'PIN_INCORRECT' ? { error: { code: 'PIN_LOCKED', message: e.message } } : {};
  }

  /** The PIN goes once to main's login; it is an argument here and never enters the store. */
  async function loginOnce(pin: string): Promise<boolean> {
    const ok = await run('Logging in', async () => {
      const r = await call('login', { pin });
      set({ token: r.token, loggedIn: true });
      return true;
    });
    return !!ok;
  }

  /** After a failed login: show what the token now says (count low, final try, locked). */
  async function refreshPinState(): Promise<void> {
    const token = get().token;
    if (!token) return;
    try {
      const s = await call('listSlots', {});
      const t = s.slots.find((x) => x.token?.serial === token.serial)?.token;
      if (t) set({ token: t, slots: s.slots, ...lockedNow(t) });
    } catch {
      /* keep the last known state */
    }
  }

  return { get, set, run, refreshJournal, loginOnce, refreshPinState, resumeAfterReconnect, actions };
}

/**
 * Run one step against main: shows progress, turns failures into the on-screen error. A token
 * that stopped answering (main says TOKEN_NOT_PRESENT and has dropped its session) opens the
 * reconnect panel instead, remembering `resume` if the step can be run again as it was.
 */
function runner(get: StoreKit['get'], set: StoreKit['set'], interrupted: StoreKit['resumeAfterReconnect'], refreshJournal: () => Promise<void>): StoreKit['run'] {
  return async function run<T>(what: string, fn: () => Promise<T>, resume?: () => Promise<unknown>): Promise<T | undefined> {
    set({ busy: what, error: null });
    try {
      const out = await fn();
      // The journal panel follows the ceremony step by step.
      if (get().ceremony) await refreshJournal();
      return out;
    } catch (e) {
      if (get().ceremony) await refreshJournal();
      const p = toPayload(e);
      const t = get().token;
      const alt = get().altToken;
      if (p.code === 'TOKEN_NOT_PRESENT' && alt && p.message.includes(`(serial ${alt.serial})`)) {
        // The second token (the ML-DSA key's) went away: main closed only its session; the ceremony's token is fine.
        set({ error: p, altToken: null, altLoggedIn: false, altKey: null, altAlgorithms: [] });
        return undefined;
      }
      if (p.code === 'TOKEN_NOT_PRESENT' && t) {
        // A second loss while reconnecting keeps the step the first one interrupted.
        if (resume || !get().lost) interrupted.step = resume ?? null;
        const resumes = interrupted.step ? (resume ? what : get().lost?.resumes ?? null) : null;
        set({ lost: { label: t.label, serial: t.serial, message: p.message, stage: 'reconnect', resumes, retryProblem: null }, loggedIn: false });
        return undefined;
      }
      set({ error: p });
      return undefined;
    } finally {
      set({ busy: null });
    }
  };
}

/** The ceremony itself: the people and the preflight, continuing after it, closing the record and its transcript. */
function ceremonyActions(k: StoreKit) {
  const { get, set, run, actions, refreshJournal } = k;
  return {
    go(screen: Screen) {
      set({ screen, error: null });
    },
    clearError() {
      set({ error: null });
    },
    async boot() {
      await run('Starting', async () => {
        const [info, mods] = await Promise.all([call('appInfo', {}), call('knownModules', {})]);
        set({ appInfo: info, knownModules: mods.modules });
      });
    },
    /**
     * Every task that changes a token or a CA starts by naming the people (main refuses it outside
     * an open ceremony): a ceremony, an existing CA's work, a token's initialization.
     */
    begin(purpose: Purpose, thenToken?: { serial: string; label: string }) {
      // A token just initialized stays the development token it was.
      set({ purpose, screen: 'ceremony', error: null, ...(thenToken ? { afterCeremony: thenToken } : { devToken: false, afterCeremony: null }) });
    },
    /** The development token is made inside a ceremony too: the people first, then the token store. */
    beginDevToken() {
      set({ purpose: 'init', screen: 'ceremony', error: null, devToken: true, afterCeremony: null });
    },
    async openCeremony(operator: string, witnesses: string[], purpose: string) {
      await run('Opening the ceremony and checking this computer', async () => {
        const r = await call('openCeremony', { operator, witnesses, purpose });
        set({ ceremony: r, closed: null, transcript: null, preflightConfirmed: null });
      });
    },
    /** A witness compared the laptop clock with a reference clock; the reason for any preflight warning goes with it. */
    async confirmPreflight(witness: string, referenceTime: string, justification: string): Promise<boolean> {
      const r = await run('Recording the witness’s confirmation', () => call('confirmPreflight', { witness, referenceTime, ...(justification.trim() ? { justification } : {}) }));
      if (r) set({ preflightConfirmed: r });
      return !!r;
    },
    /** A ceremony opened by a plan starts with a new preflight: its confirmation is asked again. */
    preflightReset() {
      set({ preflightConfirmed: null });
    },
    /** The plan's ceremony is open in main: "Start over" now asks before it ends it, as for any ceremony. */
    planStarted() {
      set({ planCeremony: true, closed: null });
    },
    /** After the preflight: on to the key storage, the development token, a token initialized first, or the CA directory. */
    async continueCeremony() {
      const { afterCeremony: t, purpose, devToken } = get();
      if (t) {
        set({ afterCeremony: null });
        await actions.openToken(t.serial, t.label);
        return;
      }
      if (purpose === 'init' && devToken) {
        await actions.prepareDevToken();
        return;
      }
      set({ screen: purpose === 'ca' ? 'ca' : 'storage', error: null });
    },
    /** Close the record (its last entry carries the final hash), log out, and offer the transcript. */
    async closeCeremony() {
      await run('Closing the ceremony', async () => {
        const r = await call('closeCeremony', {});
        set({ closed: r, screen: 'closed', loggedIn: false, token: null, key: null });
        await refreshJournal();
      });
    },
    async exportTranscript() {
      await run('Printing the transcript', async () => {
        const r = await call('exportTranscript', {});
        set({ transcript: r.savedTo });
      });
    },
  };
}

/** The PKCS#11 library (or the software keystore) and its slots, before a token is opened. */
function moduleActions(k: StoreKit) {
  const { get, set, run, actions } = k;
  return {
    async prepareDevToken() {
      await run('Preparing the development token store', async () => {
        const r = await call('prepareDevToken', {});
        set({ module: r.module, devToken: true, purpose: 'init', keystore: 'pkcs11' });
        await actions.refreshSlots();
        set({ screen: 'init' });
      });
    },
    /** The libraries main offers, read again when the storage step opens (a token may have been plugged in since). */
    async refreshModules() {
      await run('Looking for PKCS#11 libraries', async () => {
        const mods = await call('knownModules', {});
        set({ knownModules: mods.modules });
      });
    },
    /** Main's own open dialog: the library it answers with joins the list (with its SHA-256) and is chosen. */
    async chooseModuleFile(): Promise<string | null> {
      const r = await run('Choosing a library', () => call('chooseModuleFile', {}));
      const m = r?.module;
      if (!m) return null;
      const known = get().knownModules.filter((k) => k.id !== m.id);
      set({ knownModules: [...known, m] });
      return m.id;
    },
    async loadModule(moduleId: string) {
      const ok = await run('Loading the PKCS#11 library', async () => {
        const m = await call('loadModule', { moduleId });
        set({ module: m, keystore: 'pkcs11', slots: [], slotsLoaded: false, token: null, tokenSlotId: null, tokenHasMlDsa: null, loggedIn: false });
        return true;
      });
      if (ok) {
        await actions.refreshSlots();
        set({ screen: get().purpose === 'init' ? 'init' : 'token' });
      }
    },
    async useSoftware(algorithm: KeyAlgorithmT) {
      await run('Choosing the software keystore', async () => {
        await call('useSoftwareKeystore', { algorithm });
        set({ keystore: 'software', softwareAlgorithm: algorithm, module: null, token: null, tokenSlotId: null, loggedIn: false, key: null, generated: null });
        await actions.loadProfiles();
        set({ screen: 'profile' });
      });
    },
    async refreshSlots() {
      await run('Reading the slots', async () => {
        const r = await call('listSlots', {});
        set({ slots: r.slots, slotsLoaded: true });
      });
    },
    hideMechanisms(slotId: string) {
      const rest = { ...get().mechanisms };
      delete rest[slotId];
      set({ mechanisms: rest });
    },
    /** A blank token found on the token step: initialized right there, in this ceremony (its record shows it). */
    initializeSlot(slotId: string) {
      set({ initSlotId: slotId, initialized: null, screen: 'init', error: null });
    },
    async loadMechanisms(slotId: string) {
      await run('Reading the mechanisms', async () => {
        const r = await call('tokenMechanisms', { slotId });
        set({ mechanisms: { ...get().mechanisms, [slotId]: r } });
      });
    },
  };
}

/** The ceremony's token: opened, logged in (the PIN an argument, never stored), reconnected after a loss, initialized. */
function tokenActions(k: StoreKit) {
  const { get, set, run, actions, refreshJournal, loginOnce, refreshPinState } = k;
  return {
    async openToken(serial: string, label?: string) {
      await run('Opening the token', async () => {
        const r = await call('openToken', { serial, label });
        set({ token: r.token, tokenSlotId: r.slotId, tokenHasMlDsa: null, loggedIn: false, keys: [], key: null, generated: null, altKey: null, altToken: null, altLoggedIn: false, altAlgorithms: [], screen: 'pin' });
      });
    },
    /** The PIN is an argument, sent once, never stored. */
    async login(pin: string): Promise<boolean> {
      if (!(await loginOnce(pin))) {
        await refreshPinState();
        return false;
      }
      if (get().planSwitch) {
        set({ planSwitch: false, screen: 'plan' });
      } else if (get().purpose === 'ca') {
        set({ screen: 'ca' });
      } else {
        await actions.loadKeys();
        set({ screen: 'key' });
      }
      return true;
    },
    /** Retry after a lost token: main reloads the module and finds the token again by its serial. */
    async reconnectToken(): Promise<boolean> {
      const lost = get().lost;
      if (!lost) return false;
      set({ busy: 'Reloading the PKCS#11 library and looking for the token', error: null });
      try {
        const r = await call('reconnectToken', {});
        set({ module: r.module, token: r.token, tokenSlotId: r.slotId, loggedIn: false, lost: { ...lost, stage: 'pin', retryProblem: null } });
        return true;
      } catch (e) {
        set({ lost: { ...lost, retryProblem: toPayload(e) } });
        return false;
      } finally {
        if (get().ceremony) await refreshJournal();
        set({ busy: null });
      }
    },
    /** The new login after Retry; the PIN is an argument, sent once, never stored. Then the interrupted step runs again. */
    async reloginAfterReconnect(pin: string): Promise<boolean> {
      if (!(await loginOnce(pin))) {
        if (get().lost?.stage === 'pin') await refreshPinState();
        return false;
      }
      const resume = k.resumeAfterReconnect.step;
      k.resumeAfterReconnect.step = null;
      set({ lost: null });
      if (resume) await resume();
      return true;
    },
    /** `reinit`: an initialized token chosen for re-initialization, with its label as typed; main checks it and asks again. */
    async initToken(slotId: string, label: string, soPin: string, userPin: string, reinit?: { confirmLabel: string }): Promise<boolean> {
      const r = await run('Initializing the token', async () => {
        const out = await call('initToken', { slotId, label, soPin, userPin, ...(reinit ? { reinitialize: true as const, confirmLabel: reinit.confirmLabel } : {}) });
        set({ initialized: out.slot });
        await actions.refreshSlots();
        return true;
      });
      return r === true;
    },
  };
}

/** The CA key in the open token, and a Catalyst CA's ML-DSA key (in a second token, or a file). */
function keyActions(k: StoreKit) {
  const { get, set, run, actions } = k;
  return {
    async loadKeys() {
      await run('Reading the keys', async () => {
        const [k, a] = await Promise.all([call('listKeys', {}), call('keyAlgorithms', {})]);
        set({ keys: k.keys, algorithms: a.algorithms });
      }, () => actions.loadKeys());
    },
    async generateKey(algorithm: KeyAlgorithmT, label: string, id?: string) {
      // The one progress line, at the foot of the window where the room can see it, warns of RSA's wait.
      await run(algorithm.startsWith('rsa-') ? 'Generating the RSA key inside the token, which can take a while' : 'Generating the key inside the token', async () => {
        const r = await call('generateKey', { algorithm, label, id: id || undefined });
        set({ generated: r, key: r.key, proven: null });
        const k = await call('listKeys', {});
        set({ keys: k.keys });
      }, () => actions.loadKeys());
    },
    async selectKey(key: KeyInfoT) {
      await run('Choosing the key', async () => {
        const r = await call('selectKey', { label: key.label, id: key.id });
        set({ key: r.key, generated: null, proven: { algorithm: r.testSignature.algorithm, verified: r.testSignature.verified, journal: r.journal } });
      }, () => actions.selectKey(key));
    },
    /** A second token of the loaded library for a Catalyst CA's ML-DSA key; the ceremony's token stays logged in. */
    async openAltToken(serial: string) {
      await run('Opening the second token', async () => {
        const r = await call('openToken', { serial, role: 'alternative' });
        set({ altToken: r.token, altLoggedIn: false, altKey: null, altAlgorithms: [] });
      });
    },
    /** The second token's PIN: an argument, sent once, never stored. */
    async loginAlt(pin: string): Promise<boolean> {
      const ok = await run('Logging in to the second token', async () => {
        const r = await call('login', { pin, role: 'alternative' });
        const a = await call('keyAlgorithms', { role: 'alternative' });
        set({ altToken: r.token, altLoggedIn: true, altAlgorithms: a.algorithms });
        return true;
      });
      return !!ok;
    },
    /** The ML-DSA key of a Catalyst CA, made in the second token when one is open, else in the ceremony's token. */
    async generateAltKey(algorithm: KeyAlgorithmT, label: string) {
      await run('Generating the ML-DSA key inside the token', async () => {
        const r = await call('generateKey', { algorithm, label, role: 'alternative' });
        set({ altKey: r.key });
        if (!get().altToken) set({ keys: (await call('listKeys', {})).keys });
      });
    },
    /** Back to the default: the ML-DSA key as an encrypted file; a second token is closed. */
    async altKeyAsFile() {
      await run('Closing the second token', async () => {
        await call('endAltSession', {});
        set({ altKey: null, altToken: null, altLoggedIn: false, altAlgorithms: [] });
      });
    },
  };
}

/** A plan's steps done in the wizard. */
function planActions(k: StoreKit) {
  const { get, set, run, actions } = k;
  return {
    /**
     * "Do this step" of a plan: the wizard's screen for it, its forms filled with the plan's values
     * (key label and algorithm, profile and variables, CRL days). The operator still reviews and
     * signs; main refuses a request that differs from the step.
     */
    /**
     * A plan's step on its other token (ca or backup): log out of the open token (main ends the
     * session only; the ceremony and its plan stay open), then the token and PIN screens, then the plan.
     */
    async switchPlanToken() {
      await run('Logging out of the token', async () => {
        await call('closeToken', {});
        set({ token: null, tokenSlotId: null, tokenHasMlDsa: null, loggedIn: false, keys: [], key: null, generated: null, proven: null, planSwitch: true });
        await actions.refreshSlots();
        set({ screen: 'token' });
      });
    },
    /** The plan's own key of a CA or request step, chosen again in the token just opened (a key choice goes with its session). */
    async rechoosePlanKey(label: string) {
      const k = (await run('Reading the keys', () => call('listKeys', {})))?.keys.find((x) => x.label === label);
      if (k) await actions.selectKey(k);
    },
    async doPlanStep(step: PlanViewT['steps'][number]) {
      set({ planned: step });
      if (step.keyLabel && step.type !== 'csr' && !get().key && get().loggedIn && get().keystore === 'pkcs11') await actions.rechoosePlanKey(step.keyLabel);
      // A cross-certificate is wholly the plan's (the file it names, its profile and variables): main prepares it, the review shows it.
      if (step.type === 'cross') {
        await run('Preparing the cross-certificate', async () => {
          const r = await call('preparePlanCross', {});
          set({ review: r, screen: 'review', error: null });
        });
        return;
      }
      // A request for an external parent is wholly the plan's too (its key step's key, profile, variables): main's dialog
      // gives the ceremony's output folder its out path goes under; main prepares the request, the review shows it.
      if (step.type === 'csr' && step.profile) {
        await run('Preparing the certificate request', async () => {
          const d = await call('chooseDirectory', { purpose: 'plan-output' });
          if (!d.dirId) return;
          const r = await call('preparePlanCsr', { dirId: d.dirId, profile: step.profile!, vars: step.values });
          set({ review: r, requestWritten: null, screen: 'review', error: null });
        });
        return;
      }
      // A new CA (the root, or a subordinate made from a key of the plan): the profile form, filled with the plan's values.
      if ((step.type === 'root' || (step.type === 'subordinate' && step.key)) && step.profile) {
        await actions.loadProfiles();
        await actions.chooseProfile(step.profile);
        if (get().profile?.name === step.profile) set({ vars: { ...get().vars, ...step.values } });
        // The subordinate's directory is a new one, chosen for it: the open CA's (its issuer's) is not offered.
        if (step.type === 'subordinate') set({ caDir: '', caDirId: null });
        // Without an open token and key the profile has nothing to sign with: the plan's key step comes first.
        set({ screen: get().key || get().keystore === 'software' ? 'profile' : 'storage', error: null });
        return;
      }
      // A key step with the token already open and logged in (a second key of the plan) goes straight to the key form.
      const keyHere = step.type === 'key' && get().loggedIn && get().keystore === 'pkcs11';
      set({ screen: step.type === 'crl' ? 'issue' : step.type === 'token-init' ? 'init' : keyHere ? 'key' : 'storage', error: null, ...(step.type === 'crl' ? { issueMode: 'crl' as const } : {}) });
    },
  };
}

/** The profile and its variables, and the new CA's directory. */
function profileActions(k: StoreKit) {
  const { get, set, run } = k;
  return {
    async loadProfiles() {
      if (get().profiles.length) return;
      await run('Reading the profiles', async () => {
        const r = await call('listProfiles', {});
        set({ profiles: r.profiles });
      });
    },
    async chooseProfile(name: string) {
      await run('Reading the profile', async () => {
        const p = await call('getProfile', { name });
        const vars: Record<string, VarValue> = {};
        for (const v of p.variables) {
          if (v.default !== undefined && v.default !== null) vars[v.name] = v.default as VarValue;
        }
        set({ profile: p, vars });
        // An ML-DSA profile with a token: read the token's mechanism list, so the screen can say plainly if it has no ML-DSA.
        const st = get();
        if (p.family === 'post-quantum' && st.keystore === 'pkcs11' && st.tokenSlotId && st.tokenHasMlDsa === null) {
          const m = await call('tokenMechanisms', { slotId: st.tokenSlotId });
          set({ tokenHasMlDsa: m.mechanisms.includes('CKM_ML_DSA') });
        }
      });
    },
    /**
     * The operator's answer to a token without ML-DSA: the ML-DSA CA key becomes an encrypted file
     * in the CA directory. Main checks the token's refusal and records the switch; the profile and
     * its values stay as they were.
     */
    async useSoftwareForMlDsa() {
      const p = get().profile;
      if (!p || p.family !== 'post-quantum') return;
      await run('Switching to the software keystore for the ML-DSA key', async () => {
        const algorithm = p.algorithm as KeyAlgorithmT;
        await call('useSoftwareKeystore', { algorithm, because: 'token-lacks-ml-dsa' });
        set({ keystore: 'software', softwareAlgorithm: algorithm, module: null, token: null, tokenSlotId: null, loggedIn: false, key: null, generated: null });
      });
    },
    setVar(name: string, value: VarValue | undefined) {
      const vars = { ...get().vars };
      if (value === undefined) delete vars[name];
      else vars[name] = value;
      set({ vars });
    },
    /** Main's own directory dialog; the renderer keeps the id it answers with and shows the path. */
    async chooseDirectory(purpose: 'open-ca' | 'new-ca'): Promise<string | null> {
      const r = await run('Choosing a directory', () => call('chooseDirectory', { purpose }));
      if (r?.dirId) set({ caDirId: r.dirId, caDir: r.path ?? '' });
      return r?.dirId ?? null;
    },
  };
}

/** What is signed: prepared for the review, withdrawn, or signed. */
function reviewActions(k: StoreKit) {
  const { get, set, run, actions, refreshJournal } = k;
  return {
    async preview() {
      const s = get();
      if (!s.profile || !s.caDirId) return;
      await run('Preparing the review', async () => {
        const r = await call('previewCa', { profile: s.profile!.name, vars: s.vars, dirId: s.caDirId! });
        set({ review: r, screen: 'review' });
      });
    },
    /** Going back from a review: main drops the request, so nothing is signed from it. */
    async withdrawReview(screen: Screen) {
      const r = get().review;
      set({ review: null, screen, error: null });
      if (r) await run('Withdrawing the review', () => call('withdrawRequest', { requestId: r.id }));
    },
    /**
     * Sign the request on screen, by its id. The passphrases (a new or existing key file; the
     * ML-DSA key file of a Catalyst CA) are arguments, sent once, never stored.
     */
    async sign(passphrase?: string, altPassphrase?: string) {
      const s = get();
      const r = s.review;
      if (!r) return;
      await run(r.purpose === 'crl' ? 'Signing the CRL' : r.purpose === 'csr' ? 'Signing the certificate request with the token' : s.keystore === 'software' && r.purpose === 'root' ? 'Signing' : 'Signing with the CA key', async () => {
        const out = await call('sign', { requestId: r.id, passphrase: passphrase || undefined, altPassphrase: altPassphrase || undefined });
        if (out.kind === 'certificate') {
          // A new root: the ceremony goes on with it as the open CA (main opened it for us).
          // A subordinate made here leaves its issuer the open CA (main says so by sending no `ca`).
          const stillOpen = !out.issued.ca && r.purpose === 'subordinate-ca' && s.ca ? { caDir: s.ca.dir } : {};
          set({ issued: out.issued, review: null, screen: 'result', exported: null, ...(out.issued.ca ? { caDir: out.issued.dir, ca: out.issued.ca } : stillOpen) });
        } else if (out.kind === 'csr') {
          set({ requestWritten: out, review: null, screen: 'request-written' });
        } else {
          set({ crl: { crl: out.crl, savedTo: out.savedTo }, review: null, screen: 'issue' });
        }
        await refreshJournal();
      }, passphrase || altPassphrase ? undefined : () => actions.sign());
    },
  };
}

/** An existing CA opened, and its token. */
function caActions(k: StoreKit) {
  const { get, set, run, refreshJournal } = k;
  return {
    async openCa(dirId: string) {
      await run('Opening the CA directory', async () => {
        const r = await call('openCa', { dirId });
        set({ ca: r, caDir: r.dir, caDirId: dirId, purpose: 'ca' });
        await refreshJournal();
      });
    },
    /** An opened CA whose key is in a token: load its module, open its token, ask for the PIN. */
    async loginForCa() {
      const t = get().ca?.token;
      if (!t) return;
      await run('Opening the CA’s token', async () => {
        const m = await call('loadModule', { moduleId: t.moduleId });
        set({ module: m, keystore: 'pkcs11', purpose: 'ca' });
        const r = await call('openToken', { serial: t.serial });
        set({ token: r.token, tokenSlotId: r.slotId, loggedIn: false, screen: 'pin' });
      });
    },
  };
}

/** An open CA's work: a certificate from a request, a revocation, its CRL, an export. */
function issueActions(k: StoreKit) {
  const { get, set, run, actions } = k;
  return {
    async startIssue(mode: IssueMode) {
      set({ issueMode: mode, profile: null, vars: {}, issued: null, crl: null, review: null, error: null, purpose: 'ca' });
      if (get().ca === null && get().caDirId) await actions.openCa(get().caDirId!);
      if (mode !== 'crl') await actions.loadProfiles();
      set({ screen: 'issue' });
    },
    /** Main decodes the request; the profile's fields are pre-filled from what it asks for, where still empty. */
    async readCsr(csrPem: string) {
      const s = get();
      if (!s.profile) return null;
      return run('Reading the request', async () => {
        const r = await call('readCsr', { csrPem, profile: s.profile!.name });
        const vars = { ...get().vars };
        for (const [k, v] of Object.entries(r.vars)) {
          const cur = vars[k];
          if (cur === undefined || cur === '' || (Array.isArray(cur) && cur.length === 0)) vars[k] = v;
        }
        set({ vars });
        return r.csr;
      });
    },
    /** Main builds the certificate from the request and holds it; the review shows it before anything signs. */
    async prepareIssue(csrPem: string, rootEndEntity = false) {
      const s = get();
      if (!s.profile) return;
      await run('Preparing the review', async () => {
        const r = await call('prepareIssue', { purpose: s.issueMode === 'csr' ? 'subordinate-ca' : 'end-entity', csrPem, profile: s.profile!.name, vars: s.vars, ...(rootEndEntity ? { rootEndEntity } : {}) });
        set({ review: r });
      });
    },
    /** The Revoke screen: the open CA's certificates, each with the reasons main accepts for its kind. */
    async startRevoke() {
      set({ issueMode: 'revoke', issuedList: null, revoked: null, review: null, crl: null, error: null, purpose: 'ca' });
      if (get().ca === null && get().caDirId) await actions.openCa(get().caDirId!);
      await run('Reading the CA’s index', async () => set({ issuedList: (await call('listIssued', {})).certificates }));
      set({ screen: 'issue' });
    },
    /** Main checks the reason for the certificate's kind and asks the operator itself before revoking. */
    async revokeCertificate(serial: string, reason: string): Promise<boolean> {
      const done = await run('Revoking', async () => {
        const r = await call('revokeCertificate', { serial, reason: reason as Input<'revokeCertificate'>['reason'] });
        set({ revoked: r, issuedList: (await call('listIssued', {})).certificates });
        return true;
      });
      return done === true;
    },
    async prepareCrl(days: number) {
      await run('Preparing the CRL for review', async () => {
        const r = await call('prepareCrl', { days });
        set({ review: r, crl: null });
      });
    },
    async exportCertificate(format: 'pem' | 'der') {
      const issued = get().issued;
      if (!issued) return;
      await run('Exporting', async () => {
        const r = await call('exportCertificate', { path: issued.savedTo, format });
        set({ exported: r.savedTo });
      });
    },
  };
}

/** The inspector: a file's objects decoded and verified. */
function inspectActions(k: StoreKit) {
  const { get, set, run, actions } = k;
  return {
    /** New input: the previous result goes at once, so nothing on screen belongs to another file. */
    clearInspected() {
      set({ inspected: null, inspectedAll: [], inspectedIndex: 0, verification: null, inspectProblem: null, error: null });
    },
    /**
     * Decodes what was opened or pasted: each PEM block of a bundle on its own (a file of three
     * certificates shows three), DER as one object, text without any PEM block refused in words.
     */
    async inspect(data: string, encoding: 'pem' | 'base64' | 'text') {
      actions.clearInspected();
      if (encoding === 'text') {
        set({ inspectProblem: 'This file is text with no PEM block (no “-----BEGIN” line): it is not a certificate, certificate request or CRL.' });
        return;
      }
      const blocks = encoding === 'pem' ? pemBlocks(data) : [data];
      if (blocks.length <= 1) {
        await run('Reading the document', async () => {
          const r = await call('describeDocument', { data: blocks[0] ?? data, encoding });
          set({ inspected: r, inspectedAll: [{ doc: r, problem: null }] });
        });
        return;
      }
      await run(`Reading the ${blocks.length} objects of the file`, async () => {
        const all: Array<{ doc: DescribedT | null; problem: ErrorPayload | null }> = [];
        for (const b of blocks) {
          try {
            all.push({ doc: await call('describeDocument', { data: b, encoding: 'pem' }), problem: null });
          } catch (e) {
            all.push({ doc: null, problem: toPayload(e) });
          }
        }
        const first = Math.max(0, all.findIndex((x) => x.doc));
        set({ inspectedAll: all, inspectedIndex: first, inspected: all[first]?.doc ?? null });
      });
    },
    /** Shows another object of the file; a verification belonged to the one shown before. */
    showInspected(i: number) {
      const all = get().inspectedAll;
      if (!all[i]) return;
      set({ inspectedIndex: i, inspected: all[i].doc, verification: null, error: null });
    },
    async verifyInspected(issuer: { data: string; encoding: 'pem' | 'base64' } | null, againstOpenCa: boolean) {
      const doc = get().inspected;
      if (!doc) return;
      await run('Verifying', async () => {
        const r = await call('verifyDocument', {
          document: { data: doc.pem, encoding: 'pem' },
          issuer: issuer ?? undefined,
          ...(againstOpenCa ? { againstOpenCa } : {}),
        });
        set({ verification: r });
      });
    },
  };
}

/** The journal panel, and ending the session (with "Start over"). */
function sessionActions(k: StoreKit) {
  const { get, set, run, actions, refreshJournal } = k;
  return {
    refreshJournal,
    /** Log out, close the session and forget everything about this ceremony. */
    /**
     * "Start over" from the header: with a witnessed ceremony open the page asks first (its record
     * is closed for good); with none, it starts over at once.
     */
    startOver() {
      const s = get();
      if ((s.ceremony || s.planCeremony) && !s.closed) set({ askStartOver: true });
      else void actions.endCeremony();
    },
    keepWorking() {
      set({ askStartOver: false });
    },
    /**
     * Ends the session (and any open ceremony, whose record main closes). When that closed a
     * ceremony's record, the closed screen says where it is kept and its final hash, as
     * "Close the ceremony" does; otherwise the wizard is back at the start.
     */
    async endCeremony() {
      const r = await run('Ending the ceremony', () => call('endSession', {}));
      const { appInfo, knownModules, journal } = get();
      k.resumeAfterReconnect.step = null;
      if (r?.closed?.dir) {
        set({ ...initial, appInfo, knownModules, journal, closed: r.closed, screen: 'closed' });
        await refreshJournal();
        return;
      }
      set({ ...initial, appInfo, knownModules });
    },
  };
}

export type WizardStore = ReturnType<typeof createWizardStore>;

const wizard = createWizardStore();
export const wizardStore = wizard.store;
export const actions = wizard.actions;

export function useWizard<T>(selector: (s: WizardState) => T): T {
  return useStore(wizardStore, selector);
}
