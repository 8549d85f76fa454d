/**
 * A ceremony plan walked in the app. Main holds the checked plan, the step the ceremony is on,
 * and every acknowledgement and deviation; the handlers ask it before each step's action, so a
 * renderer that asks for another label, algorithm, profile, variable or CRL lifetime than the
 * plan's is refused unless a 'changed' deviation with a typed note was recorded for that step.
 * The environment is the token the operator opened in the wizard: no file for it. The plan's token
 * roles (`ca`, `backup`) are learned by serial as the plan uses them, one token open at a time:
 * the token of the first `ca` step is the ca token, that of the first `backup` step the backup
 * token, and a step on a role with another token open is refused (PLAN_WRONG_TOKEN) unless a
 * 'changed' deviation was recorded for it.
 */
import { createHash } from 'node:crypto';
import { basename, join, normalize, resolve, sep } from 'node:path';
import { QpkiError } from '../core/errors';
import type { JournalKind } from '../core/journal/journal';
import type { CheckedPlan, PlanStep, ResolvedStep, TokenRole } from '../core/plan/plan';
import type { Profile } from '../core/profiles';
import { resolveVariables } from '../core/profiles/variables';
import { stepWords } from '../core/plan/run';
import type { PlannedRevocation } from './revocation';
import type { PlanKey } from './plan-csr';

export type StepStatus = 'pending' | 'done' | 'skipped';
export type DeviationKind = 'skipped' | 'retry' | 'error' | 'changed';
export const MIN_NOTE = 10;

/**
 * What the app can do for a step itself, or why it cannot (then the step is skipped with a note, or
 * run with the CLI). The app now does every step type; the switch has no default, so a step type
 * added to plans does not compile until it is answered here.
 */
export function appSupport(r: ResolvedStep): string | null {
  const s = r.step;
  switch (s.type) {
    // A backup token's steps too: the app opens one token at a time, and the plan screen asks to switch.
    case 'token-init': return null;
    case 'key': return null;
    case 'root': return null;
    case 'subordinate': return null;
    case 'cross': return null;
    case 'csr': return null;
    case 'crl': return null;
  }
}

type Record_ = (kind: JournalKind, facts: Record<string, unknown>) => void;

/** A token as the plan's record names it: main reads it from the open session, never from the renderer. */
export interface PlanToken { serial: string; label: string }

const ROLE_WORDS: Record<TokenRole, string> = { ca: 'CA token', backup: 'backup token' };

/**
 * The token role step i works on, read from the plan as `qpki ceremony run` does: a token-init or
 * key step names it; a CA, request or cross step uses its key's token; a certificate or CRL from a
 * CA of the plan, that CA's. null: the step does not say (its key or CA is not the plan's).
 */
export function stepRole(plan: CheckedPlan, i: number): TokenRole | null {
  const byId = new Map(plan.resolved.map((r) => [r.step.id, r.step]));
  let s: PlanStep | undefined = plan.resolved[i]?.step;
  for (let hops = 0; s && hops <= plan.resolved.length; hops++) {
    if (s.type === 'token-init' || s.type === 'key') return s.token;
    const ref: string | undefined = 'key' in s && s.key ? s.key : 'issuer' in s ? s.issuer : undefined;
    s = ref ? byId.get(ref) : undefined;
  }
  return null;
}

/** A variable as the wizard's fields hold it: the plan's YAML number 3650 and the field's "3650" are the same value. */
function varText(v: unknown): string {
  if (v === undefined || v === null || v === '') return '';
  return Array.isArray(v) ? v.map(String).join(', ') : String(v);
}

/** Whether `dir` is `out` (a relative path of the plan) at its end, compared segment by segment. */
function endsWithPath(dir: string, out: string): boolean {
  const d = resolve(dir).split(sep).filter(Boolean);
  const o = normalize(out).split(/[\\/]/).filter((x) => x && x !== '.');
  return o.length > 0 && o.length <= d.length && o.every((x, k) => d[d.length - o.length + k] === x);
}

/** The folder `dir` is `out` under (dir ends with out): the ceremony's output folder, as `qpki ceremony run --out` names it. */
function baseOf(dir: string, out: string): string {
  const o = normalize(out).split(/[\\/]/).filter((x) => x && x !== '.');
  return resolve(dir, ...o.map(() => '..'));
}

/** A plan variable as the profile form holds it, so "Do this step" fills the form with the plan's values. */
function formValue(v: unknown): string | number | boolean | string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return v === undefined || v === null ? '' : String(v);
}

/**
 * The variables that differ between what the renderer asks and what the plan gives, each side
 * with the profile's defaults filled in: the wizard's form holds a default the plan leaves out
 * (ec/root-ca's policy OID), and both make the same certificate. A side the profile refuses is
 * compared as given (the preparation then refuses it with its own words).
 */
function sameVars(a: Record<string, unknown>, b: Record<string, unknown>, profile?: Profile): string[] {
  const filled = (v: Record<string, unknown>): Record<string, unknown> => {
    if (!profile) return v;
    try {
      return resolveVariables(profile, v);
    } catch {
      return v;
    }
  };
  const fa = filled(a);
  const fb = filled(b);
  const diffs: string[] = [];
  for (const k of new Set([...Object.keys(fa), ...Object.keys(fb)])) {
    if (varText(fa[k]) !== varText(fb[k])) diffs.push(`variable ${k}`);
  }
  return diffs;
}

export class PlanSession {
  /** The plan opened and shown, not yet started. */
  opened: CheckedPlan | null = null;
  /** The plan this ceremony runs. */
  active: CheckedPlan | null = null;
  current = 0;
  status: StepStatus[] = [];
  /** The step just completed that a witness must acknowledge before the next is offered. */
  awaiting: number | null = null;
  started = new Set<number>();
  changed = new Set<number>();
  acknowledgements: Array<{ step: number; witness: string }> = [];
  deviations: Array<{ step: number; kind: DeviationKind; note: string }> = [];
  /** What earlier steps made, by step id: the key (label and id in the token) and the CA directory. */
  private keys = new Map<string, { label: string; id: string; fingerprint: string | null }>();
  /** The folder the first CA directory of this ceremony was made under by its out path: later out paths go under it too. */
  private outputBase: { dir: string; step: string } | null = null;
  private caDirs = new Map<string, string>();
  /** The signing request prepared for a step, by its id: its signature completes the step. */
  private requestStep = new Map<string, number>();
  /** The serial of each certificate a step of this ceremony issued, by step id: what a CRL step revokes by step reference. */
  private serials = new Map<string, string>();

  /** The plan's tokens by role, learned by serial from the first step done on each. */
  tokens: Record<TokenRole, PlanToken | null> = { ca: null, backup: null };
  /** The token each started step began on, when it was the plan's: its completion teaches the role. */
  private stepToken = new Map<number, PlanToken>();

  /** `openToken`: the token the app has open now (the one session), or null. */
  constructor(private readonly record: Record_, private readonly openToken: () => PlanToken | null = () => null) {}

  open(plan: CheckedPlan): void {
    this.opened = plan;
  }

  start(): CheckedPlan {
    const plan = this.opened;
    if (!plan) throw new QpkiError('PLAN_INVALID', 'Open a ceremony plan first.');
    this.active = plan;
    this.current = 0;
    this.status = plan.resolved.map(() => 'pending');
    this.awaiting = null;
    this.started.clear();
    this.changed.clear();
    this.acknowledgements = [];
    this.deviations = [];
    this.requestStep.clear();
    this.keys.clear();
    this.caDirs.clear();
    this.serials.clear();
    this.outputBase = null;
    this.tokens = { ca: null, backup: null };
    this.stepToken.clear();
    const p = plan.plan;
    this.record('plan.loaded', {
      planSha256: plan.sha256, file: basename(plan.path), ceremonyId: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location,
      steps: p.steps.length, participants: p.participants.map((x) => ({ name: x.name, role: x.role })),
    });
    return plan;
  }

  /** The ceremony ended (closed or started over): the plan goes with it. */
  end(): void {
    // A plan opened but not started stays shown: closing an unrelated ceremony is the way to start it.
    if (this.active) this.opened = null;
    this.active = null;
    this.requestStep.clear();
  }

  get isActive(): boolean {
    return this.active !== null;
  }

  private get total(): number {
    return this.active?.resolved.length ?? 0;
  }

  private stepName(i: number): string {
    const r = this.active!.resolved[i];
    return `step ${i + 1} of ${this.total} (${r.step.id}: ${stepWords(r)})`;
  }

  /** The current step, checked to be of this type and offered (acknowledged before it, not finished). */
  private currentStep(type: string, action: string): { i: number; r: ResolvedStep } {
    const plan = this.active!;
    if (this.awaiting !== null) {
      throw new QpkiError('PLAN_STEP_MISMATCH', `A witness has not yet acknowledged ${this.stepName(this.awaiting)}; the next step is offered once they have. Nothing was done.`);
    }
    if (this.current >= plan.resolved.length) throw new QpkiError('PLAN_STEP_MISMATCH', `Every step of the plan is finished; ${action} is not in it. Close the ceremony. Nothing was done.`);
    const i = this.current;
    const r = plan.resolved[i];
    if (r.step.type !== type) {
      throw new QpkiError('PLAN_STEP_MISMATCH', `The plan is at ${this.stepName(i)}; ${action} is not that step. Do the plan's step, or record a deviation (skipped) with a note. Nothing was done.`);
    }
    return { i, r };
  }

  /**
   * The plan's role of the token with this serial: the one a step taught, else that of step i when
   * the step may be done on it (its first step on that role); null: not one of the plan's tokens.
   */
  roleOfToken(serial: string, i: number | null = null): TokenRole | null {
    const learned = (['ca', 'backup'] as const).find((r) => this.tokens[r]?.serial === serial) ?? null;
    if (learned || i === null || !this.active) return learned;
    return this.wrongToken(i, { serial, label: '' }) ? null : this.roleOf(i);
  }

  /** The token role of step i of the running plan (see stepRole). */
  roleOf(i: number): TokenRole | null {
    return this.active ? stepRole(this.active, i) : null;
  }

  /**
   * Why the open token is not the token step i is on, in words, or null: the plan's token of that
   * role once a step taught it, else any token but the other role's. No open token: the step's
   * action needs one and says so itself.
   */
  private wrongToken(i: number, open: PlanToken | null): string | null {
    const role = this.roleOf(i);
    if (!role || !open) return null;
    const known = this.tokens[role];
    const other: TokenRole = role === 'ca' ? 'backup' : 'ca';
    const named = `the open token “${open.label}” (serial ${open.serial})`;
    if (known && known.serial !== open.serial) {
      const is = this.roleOfToken(open.serial);
      return `${named} is ${is ? `the plan's ${ROLE_WORDS[is]}` : 'another token'}, not the plan's ${ROLE_WORDS[role]} “${known.label}” (serial ${known.serial})`;
    }
    if (!known && this.tokens[other]?.serial === open.serial) return `${named} is the plan's ${ROLE_WORDS[other]}; the ${ROLE_WORDS[role]} is another token`;
    return null;
  }

  /**
   * The open token must be the one step i is on, unless a 'changed' deviation was recorded for it
   * (then the difference is journaled and the token teaches no role). `checkToken` false: the
   * step needs no open token (a token-init step checks its slot instead).
   */
  private tokenDifferences(i: number, checkToken: boolean): string[] {
    const open = checkToken ? this.openToken() : null;
    const wrong = this.wrongToken(i, open);
    const role = this.roleOf(i);
    if (wrong && !this.changed.has(i)) {
      throw new QpkiError('PLAN_WRONG_TOKEN', `${this.stepName(i)} is on the plan's ${ROLE_WORDS[role!]}, but ${wrong}. Log out of it and open the ${ROLE_WORDS[role!]}, or record a 'changed' deviation with a note first. Nothing was done.`);
    }
    if (!wrong && open && role) this.stepToken.set(i, open);
    return wrong ? [wrong] : [];
  }

  /** Differences from the plan are refused unless this step has a 'changed' deviation; then they are journaled. */
  private begin(i: number, planDifferences: string[], checkToken = true): void {
    const differences = [...this.tokenDifferences(i, checkToken), ...planDifferences];
    if (differences.length && !this.changed.has(i)) {
      throw new QpkiError('PLAN_STEP_MISMATCH', `The request differs from ${this.stepName(i)}: ${differences.join('; ')}. Do what the plan says, or record a 'changed' deviation with a note first. Nothing was done.`);
    }
    if (!this.started.has(i) || differences.length) {
      const r = this.active!.resolved[i];
      const role = this.roleOf(i);
      this.record('plan.step.started', { step: i + 1, of: this.total, id: r.step.id, type: r.step.type, what: stepWords(r), ...(role ? { tokenRole: role } : {}), ...(differences.length ? { differsFromPlan: differences } : {}) });
      this.started.add(i);
    }
  }

  /** The first step done on a token of a role makes it the plan's token of that role (never the other role's token). */
  private learn(role: TokenRole, t: PlanToken): void {
    const other: TokenRole = role === 'ca' ? 'backup' : 'ca';
    if (!this.tokens[role] && this.tokens[other]?.serial !== t.serial) this.tokens[role] = { serial: t.serial, label: t.label };
  }

  /** `token`: the token the step was done on as the plan's (a token-init step's new token); it teaches the role. */
  private complete(i: number, made: Record<string, unknown>, token = this.stepToken.get(i)): void {
    const r = this.active!.resolved[i];
    const role = this.roleOf(i);
    if (role && token) this.learn(role, token);
    // Which token played which role, as `qpki ceremony run` records it: the token the step was done on.
    const used = role ? token ?? this.openToken() : null;
    const roleFacts = role ? { tokenRole: role, ...(used ? { tokenSerial: used.serial, tokenLabel: used.label } : {}) } : {};
    this.status[i] = 'done';
    this.record('plan.step.completed', { ...made, ...roleFacts, step: i + 1, of: this.total, id: r.step.id, type: r.step.type });
    this.stepToken.delete(i);
    this.awaiting = i;
    this.current = i + 1;
  }

  /**
   * A token-init step: the slot chosen must not hold a token the plan already uses (initializing it
   * would wipe what this ceremony made in it), whatever deviation was recorded.
   */
  beforeTokenInit(present?: { serial: string; label: string; initialized: boolean }): number {
    const { i } = this.currentStep('token-init', 'initializing a token');
    const held = present?.initialized ? this.roleOfToken(present.serial) : null;
    if (held) {
      throw new QpkiError('PLAN_WRONG_TOKEN', `${this.stepName(i)} initializes the plan's ${ROLE_WORDS[this.roleOf(i)!]}, but the slot chosen holds the plan's ${ROLE_WORDS[held]} “${present!.label}” (serial ${present!.serial}): initializing it would wipe what this ceremony made in it. Choose the slot of a new token. Nothing was done.`);
    }
    this.begin(i, [], false);
    return i;
  }

  /**
   * What the plan screen asks before the current step: to log out of the open token and open the
   * token the step is on; null when the open token is right, none is open, or the step opens none.
   */
  tokenSwitch(): { to: TokenRole; open: PlanToken & { role: TokenRole | null } } | null {
    const plan = this.active;
    if (!plan || this.awaiting !== null || this.current >= plan.resolved.length) return null;
    if (plan.resolved[this.current].step.type === 'token-init') return null;
    const open = this.openToken();
    if (!open || !this.wrongToken(this.current, open)) return null;
    return { to: this.roleOf(this.current)!, open: { ...open, role: this.roleOfToken(open.serial) } };
  }

  /**
   * The key the current step names (a CA, a request for an external parent), made by an earlier
   * key step of this ceremony, when `label`/`id` name it: chosen again after the operator switched
   * back to its token (a key choice goes with the session), it is not a key step of its own.
   */
  currentStepKey(label?: string, id?: string): { label: string; id: string; fingerprint: string | null } | null {
    const r = this.active && this.awaiting === null ? this.active.resolved[this.current] : undefined;
    const ref = r && (r.step.type === 'root' || r.step.type === 'subordinate' || r.step.type === 'csr') ? r.step.key : undefined;
    const k = ref ? this.keys.get(ref) : undefined;
    if (!k || (label === undefined && id === undefined)) return null;
    return (label === undefined || label === k.label) && (id === undefined || id.toLowerCase() === k.id.toLowerCase()) ? { ...k } : null;
  }

  /** An action no plan step is (an end-entity certificate): refused while a plan runs. */
  beforeOther(action: string): never {
    this.currentStep('(none)', action);
    throw new QpkiError('PLAN_STEP_MISMATCH', `${action} is not a step of the plan. Nothing was done.`);
  }

  tokenInitialized(i: number, facts: { label: string; serial: string }): void {
    this.complete(i, { token: facts.label, serial: facts.serial }, { serial: facts.serial, label: facts.label });
  }

  beforeKey(label: string, algorithm: string): number {
    const { i, r } = this.currentStep('key', 'generating a key');
    const unsupported = appSupport(r);
    if (unsupported && !this.changed.has(i)) throw new QpkiError('PLAN_STEP_MISMATCH', `${this.stepName(i)}: ${unsupported}. Nothing was done.`);
    const s = r.step as Extract<ResolvedStep['step'], { type: 'key' }>;
    const d: string[] = [];
    if (label !== s.label) d.push(`label "${label}" instead of the plan's "${s.label}"`);
    if (algorithm !== r.algorithm) d.push(`algorithm ${algorithm} instead of the plan's ${r.algorithm}`);
    this.begin(i, d);
    return i;
  }

  keyGenerated(i: number, facts: { label: string; id: string; publicKeySha256Fingerprint: string | null; existing?: boolean }): void {
    this.keys.set(this.active!.resolved[i].step.id, { label: facts.label, id: facts.id, fingerprint: facts.publicKeySha256Fingerprint });
    this.complete(i, { keyLabel: facts.label, keyId: facts.id, publicKeySha256Fingerprint: facts.publicKeySha256Fingerprint, ...(facts.existing ? { existingKey: true } : {}) });
  }

  /** A certificate or CRL request for the current step, checked against the plan. */
  /** Whether the current step is a new CA (root, or subordinate from a key of the plan): the CA-directory screen's review is that step's. */
  currentNewCa(): 'root' | 'subordinate' | null {
    const r = this.active && this.awaiting === null ? this.active.resolved[this.current] : undefined;
    if (!r) return null;
    if (r.step.type === 'root') return 'root';
    return r.step.type === 'subordinate' && r.step.key ? 'subordinate' : null;
  }

  /**
   * The CA directory the issuer of step i was made into in this ceremony: a subordinate from a key
   * of the plan is certified by that CA, never by one the renderer names.
   */
  issuerDirFor(i: number): string {
    const st = this.active!.resolved[i].step as { issuer?: string };
    const dir = st.issuer ? this.caDirs.get(st.issuer) : undefined;
    if (!dir) throw new QpkiError('PLAN_STEP_MISMATCH', `${this.stepName(i)} is certified by the CA of step ${st.issuer}, which this ceremony did not make (skipped); run it with \`qpki ceremony run\`, or record this step as skipped with a note. Nothing was done.`);
    return dir;
  }

  beforeRequest(req: { type: 'root'; profile: string; vars: Record<string, unknown>; key: { label: string; id: string } | null; targetDir?: string }
    | { type: 'subordinate'; profile: string; vars: Record<string, unknown>; csrPem: string; caDir: string | null }
    | { type: 'new-subordinate'; profile: string; vars: Record<string, unknown>; key: { label: string; id: string } | null; targetDir: string }
    | { type: 'crl'; days: number; caDir: string | null }): number {
    const stepType = req.type === 'new-subordinate' ? 'subordinate' : req.type;
    const { i, r } = this.currentStep(stepType, req.type === 'crl' ? 'a CRL' : req.type === 'root' ? 'a self-signed root' : req.type === 'new-subordinate' ? 'a subordinate CA with its key in this token' : 'a certificate from a request');
    const fromKey = r.step.type === 'subordinate' && !!r.step.key;
    if (req.type === 'subordinate' && fromKey) throw new QpkiError('PLAN_STEP_MISMATCH', `${this.stepName(i)} makes the subordinate CA with key ${(r.step as { key?: string }).key} of the plan, not from a request file: choose a new CA directory for it and review it there. Nothing was done.`);
    if (req.type === 'new-subordinate' && !fromKey) throw new QpkiError('PLAN_STEP_MISMATCH', `${this.stepName(i)} certifies the request file the plan names, not a key of this token: issue it from that request. Nothing was done.`);
    const unsupported = appSupport(r);
    if (unsupported && !this.changed.has(i)) throw new QpkiError('PLAN_STEP_MISMATCH', `${this.stepName(i)}: ${unsupported}. Nothing was done.`);
    const d: string[] = [];
    const s = r.step as { profile?: string; variables?: Record<string, unknown>; nextUpdateDays?: number };
    const st = r.step as { key?: string; issuer?: string };
    const newCa = req.type === 'root' || req.type === 'new-subordinate';
    if (newCa && st.key) {
      const k = this.keys.get(st.key);
      if (k && (!req.key || req.key.label !== k.label || req.key.id !== k.id)) d.push(`the CA key is not key "${k.label}" made by step ${st.key}`);
    }
    // The app has no run directory to put the plan's out path under: the chosen directory must end with it.
    const out = (r.step as { out?: string }).out;
    if (newCa && out && req.targetDir && !endsWithPath(req.targetDir, out)) d.push(`the CA directory ${req.targetDir} is not the plan's ${out}`);
    if (req.type === 'new-subordinate') this.issuerDirFor(i);
    if (!newCa && st.issuer) {
      const dir = this.caDirs.get(st.issuer);
      if (dir && req.caDir !== dir) d.push(`the open CA is not the one step ${st.issuer} created (${dir})`);
    }
    if (req.type === 'crl') {
      if (req.days !== s.nextUpdateDays) d.push(`next update in ${req.days} days instead of the plan's ${s.nextUpdateDays}`);
    } else {
      if (req.profile !== s.profile) d.push(`profile ${req.profile} instead of the plan's ${s.profile}`);
      d.push(...sameVars(req.vars, s.variables ?? {}, req.profile === s.profile ? r.profile : undefined).map((x) => `${x} is not the plan's`));
      if (req.type === 'subordinate' && r.input && createHash('sha256').update(req.csrPem).digest('hex') !== r.input.sha256) d.push('the request is not the file the plan names');
    }
    this.begin(i, d);
    return i;
  }

  /** The current step, a cross-certificate, checked against the open CA: what main prepares it from (all from the plan). */
  beforeCross(caDir: string | null): { i: number; certificate: { path: string; sha256: string; name: string }; profile: ResolvedStep['profile']; vars: Record<string, unknown> } {
    const { i, r } = this.currentStep('cross', 'a cross-certificate');
    const s = r.step as Extract<ResolvedStep['step'], { type: 'cross' }>;
    const dir = this.caDirs.get(s.issuer);
    const d: string[] = [];
    if (!dir) this.issuerDirFor(i);
    if (caDir !== dir) d.push(`the open CA is not the one step ${s.issuer} created (${dir})`);
    this.begin(i, d);
    return { i, certificate: { ...r.input!, name: s.certificate }, profile: r.profile, vars: s.variables ?? {} };
  }

  /**
   * The current step, a certificate request for an external parent, checked against the plan: the
   * key the plan's key step made (never one the renderer names) and the file it is written to, the
   * step's out under the ceremony's output folder `dir` (the folder earlier CA directories of this
   * ceremony were made under, when there are any).
   */
  beforeCsr(req: { profile: string; vars: Record<string, unknown>; dir: string }): { i: number; key: PlanKey; out: string; path: string; profile: ResolvedStep['profile'] } {
    const { i, r } = this.currentStep('csr', 'a certificate request for an external parent');
    const s = r.step as Extract<ResolvedStep['step'], { type: 'csr' }>;
    const k = this.keys.get(s.key);
    if (!k) throw new QpkiError('PLAN_STEP_MISMATCH', `${this.stepName(i)} is signed by the key of step ${s.key}, which this ceremony did not make (skipped); run it with \`qpki ceremony run\`, or record this step as skipped with a note. Nothing was done.`);
    const dir = resolve(req.dir);
    const path = join(dir, normalize(s.out));
    if (!path.startsWith(dir + sep)) throw new QpkiError('PLAN_INVALID', `The output ${s.out} of ${this.stepName(i)} is not inside the output folder. Nothing was done.`);
    const d: string[] = [];
    if (req.profile !== s.profile) d.push(`profile ${req.profile} instead of the plan's ${s.profile}`);
    d.push(...sameVars(req.vars, s.variables ?? {}, req.profile === s.profile ? r.profile : undefined).map((x) => `${x} is not the plan's`));
    const base = this.outputBase;
    if (base && base.dir !== dir) d.push(`the output folder ${dir} is not the one step ${base.step} was written under (${base.dir})`);
    this.begin(i, d);
    // The plan's own profile (as checked) when the request names it; another is the renderer's, after a 'changed' deviation.
    return { i, key: { ...k, step: s.key }, out: s.out, path, profile: req.profile === s.profile ? r.profile : undefined };
  }

  /**
   * The dates the plan fixes for step i's certificate (notBefore, and notAfter as whole days after
   * it), or undefined when the step takes them from the clock and the profile. Main reads them
   * here, from the checked plan: the renderer never names a date.
   */
  datesFor(i: number): { notBefore: Date; validityDays?: number; why: string } | undefined {
    const r = this.active?.resolved[i];
    if (!r?.notBefore) return undefined;
    return { notBefore: r.notBefore, ...(r.validityDays ? { validityDays: r.validityDays } : {}), why: `fixed by ${this.stepName(i)}` };
  }

  /**
   * What CRL step i revokes, resolved here from the plan: a step reference becomes the serial that
   * step's certificate got in this ceremony. A reference to a step this ceremony did not issue
   * (skipped) cannot be resolved, and nothing is revoked.
   */
  revocationsFor(i: number): PlannedRevocation[] {
    const r = this.active!.resolved[i];
    if (r.step.type !== 'crl') return [];
    return (r.step.revoke ?? []).map((v) => {
      const serial = v.step ? this.serials.get(v.step) : v.serial;
      if (!serial) throw new QpkiError('PLAN_STEP_MISMATCH', `${this.stepName(i)} revokes the certificate of step ${v.step}, which this ceremony did not issue; revoke it by serial with \`qpki ca revoke\` or \`qpki ceremony run\`, or record this step as skipped with a note. Nothing was revoked.`);
      return { serial, reason: v.reason, why: `${this.stepName(i)} revokes ${v.step ? `the certificate of step ${v.step}` : `serial ${v.serial}`}` };
    });
  }

  /** The request prepared for step i: signing it (and only it) completes the step. */
  prepared(i: number, requestId: string): void {
    this.requestStep.set(requestId, i);
  }

  signed(requestId: string, made: Record<string, unknown>, caDir?: string): void {
    const i = this.requestStep.get(requestId);
    if (i === undefined || !this.active || this.status[i] !== 'pending') return;
    if (caDir) this.caDirs.set(this.active.resolved[i].step.id, caDir);
    const out = (this.active.resolved[i].step as { out?: string }).out;
    if (caDir && out && !this.outputBase && endsWithPath(caDir, out)) this.outputBase = { dir: baseOf(caDir, out), step: this.active.resolved[i].step.id };
    if (typeof made.serial === 'string') this.serials.set(this.active.resolved[i].step.id, made.serial);
    this.requestStep.delete(requestId);
    this.complete(i, made);
  }

  acknowledge(witness: string): void {
    const plan = this.requireActive();
    if (!plan.plan.participants.some((p) => p.name === witness && p.role !== 'operator')) {
      throw new QpkiError('INPUT_INVALID', `"${witness}" is not a witness of this plan (${this.witnesses().join(', ')}).`);
    }
    if (this.awaiting === null) throw new QpkiError('PLAN_STEP_MISMATCH', 'No completed step waits for an acknowledgement.');
    const i = this.awaiting;
    this.record('witness.acknowledged', { what: 'step', witness, step: i + 1, of: this.total, id: plan.resolved[i].step.id, status: this.status[i] });
    this.acknowledgements.push({ step: i, witness });
    this.awaiting = null;
  }

  deviate(kind: DeviationKind, note: string): void {
    const plan = this.requireActive();
    const text = note.trim();
    if (text.length < MIN_NOTE) throw new QpkiError('INPUT_INVALID', `A deviation needs a note of at least ${MIN_NOTE} characters saying what happened and why.`);
    if (this.awaiting !== null) throw new QpkiError('PLAN_STEP_MISMATCH', `A witness has not yet acknowledged ${this.stepName(this.awaiting)}; acknowledge it before recording a deviation of the next step.`);
    if (this.current >= plan.resolved.length) throw new QpkiError('PLAN_STEP_MISMATCH', 'Every step of the plan is finished; there is no step to deviate from.');
    const i = this.current;
    this.record('ceremony.deviation', { step: i + 1, of: this.total, id: plan.resolved[i].step.id, kind, note: text });
    this.deviations.push({ step: i, kind, note: text });
    if (kind === 'changed') this.changed.add(i);
    if (kind === 'skipped') {
      this.status[i] = 'skipped';
      this.awaiting = i;
      this.current = i + 1;
    }
  }

  witnesses(): string[] {
    return (this.active ?? this.opened)?.plan.participants.filter((p) => p.role !== 'operator').map((p) => p.name) ?? [];
  }

  private requireActive(): CheckedPlan {
    if (!this.active) throw new QpkiError('PLAN_INVALID', 'No ceremony plan is running: open one and start it.');
    return this.active;
  }
}

/** The label of the plan's key step `ref`, or null. */
function keyLabelOf(plan: CheckedPlan, ref: string | undefined): string | null {
  const k = ref ? plan.resolved.find((r) => r.step.id === ref)?.step : undefined;
  return k?.type === 'key' ? k.label : null;
}

/** The plan as the operator and witnesses review it: every step in words, with its hash. */
export function planView(plan: CheckedPlan) {
  const p = plan.plan;
  return {
    sha256: plan.sha256,
    file: basename(plan.path),
    ceremony: { id: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location },
    participants: p.participants.map((x) => ({ name: x.name, role: x.role })),
    steps: plan.resolved.map((r, i) => {
      const s = r.step as { id: string; type: string; profile?: string; variables?: Record<string, unknown>; out?: string; label?: string; nextUpdateDays?: number; key?: string };
      return {
        n: i + 1, of: plan.resolved.length, id: s.id, type: s.type, words: stepWords(r),
        profile: s.profile ?? null,
        variables: Object.fromEntries(Object.entries(s.variables ?? {}).map(([k, v]) => [k, varText(v)])),
        values: Object.fromEntries(Object.entries(s.variables ?? {}).map(([k, v]) => [k, formValue(v)])),
        out: s.out ?? null,
        label: s.label ?? null,
        algorithm: r.algorithm ?? null,
        nextUpdateDays: s.nextUpdateDays ?? null,
        key: s.type === 'root' || s.type === 'subordinate' ? s.key ?? null : null,
        revoke: r.step.type === 'crl' ? (r.step.revoke ?? []).map((v) => ({ what: v.step ? `the certificate of step ${v.step}` : `serial ${v.serial}`, reason: v.reason })) : [],
        dates: r.notBefore ? { notBefore: r.notBefore.toISOString(), notAfter: r.validityDays ? new Date(r.notBefore.getTime() + r.validityDays * 86_400_000).toISOString() : null } : null,
        notInApp: appSupport(r),
        /** The plan's token role this step works on (ca, backup), or null. */
        token: stepRole(plan, i),
        /** The label of the plan's key this CA or request step uses (chosen again after switching back to its token), or null. */
        keyLabel: keyLabelOf(plan, s.key),
      };
    }),
  };
}
