/**
 * A ceremony plan: the reviewed script of one key ceremony (CA/Browser Forum BR 6.1.1.1 asks for
 * one), with no environment in it. Module paths, token labels and PIN sources live in the
 * environment file (environment.ts), so the plan rehearsed on SoftHSM2 is the same bytes, with
 * the same SHA-256, as the one run on the production HSM.
 *
 * Everything a plan names is checked before anything is done: the schema, step references (a
 * key made by an earlier step, a CA created by an earlier step), profiles and their variables,
 * key algorithms against profiles, dates, CRL lifetimes (BR 7.2), revocation reasons (BR 7.2.2),
 * output paths. Each refusal names the line.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve, sep } from 'node:path';
import * as z from 'zod';
import { QpkiError } from '../errors';
import { isKeyAlgorithm, type KeyAlgorithm } from '../keys/algorithms';
import { keyAlgorithmFromQpkiId } from '../ca/meta';
import { loadProfile, type Profile } from '../profiles/index';
import { nameString, prepareSubject } from '../ca/authority';
import { REVOCATION_REASONS, type RevocationReason } from '../x509/crl';
import { MAX_CA_CRL_DAYS } from '../x509/crlValidity';
import { revocationReasonProblem } from '../ca/revoke';
import { checkSchema, parseStrictYaml, type StrictYaml } from './strictYaml';

export const TOKEN_ROLES = ['ca', 'backup'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];
export const PARTICIPANT_ROLES = ['operator', 'witness', 'internal-auditor', 'security-officer'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

const DAY_MS = 86_400_000;
/** BR 7.2: a CA's CRL has a nextUpdate at most twelve months after its thisUpdate (the one limit, core's). */
export { MAX_CA_CRL_DAYS };

const id = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be 1 to 63 lowercase letters, digits or hyphens, starting with a letter or digit');
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max).refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must be printable (no control characters)');
const outPath = z.string().min(1).max(200);
const time = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'must be a UTC time like 2027-01-01T00:00:00Z').refine((s) => !Number.isNaN(Date.parse(s)), 'is not a real date');
const variables = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional();
const dates = { notBefore: time.optional(), notAfter: time.optional() };
const common = { id, description: text(500).optional() };

const stepSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...common, type: z.literal('token-init'), token: z.enum(TOKEN_ROLES) }),
  z.strictObject({ ...common, type: z.literal('key'), token: z.enum(TOKEN_ROLES), label: text(64), algorithm: z.string().min(1) }),
  z.strictObject({ ...common, type: z.literal('root'), key: id, profile: z.string().min(1), variables, ...dates, out: outPath }),
  z.strictObject({ ...common, type: z.literal('subordinate'), issuer: id, key: id.optional(), csr: z.string().min(1).optional(), profile: z.string().min(1), variables, ...dates, out: outPath }),
  z.strictObject({ ...common, type: z.literal('cross'), issuer: id, certificate: z.string().min(1), profile: z.string().min(1), variables, ...dates, out: outPath }),
  z.strictObject({ ...common, type: z.literal('csr'), key: id, profile: z.string().min(1), variables, out: outPath }),
  z.strictObject({
    ...common,
    type: z.literal('crl'),
    issuer: id,
    nextUpdateDays: z.number().int().min(1),
    revoke: z.array(z.strictObject({ step: id.optional(), serial: z.string().regex(/^[0-9a-fA-F]{1,40}$/, 'must be hexadecimal').optional(), reason: z.enum(Object.keys(REVOCATION_REASONS) as [RevocationReason, ...RevocationReason[]]) })).optional(),
    out: outPath,
  }),
]);

const planSchema = z.strictObject({
  version: z.literal(1),
  ceremony: z.strictObject({ id: text(64), purpose: text(500), location: text(200) }),
  participants: z.array(z.strictObject({ name: text(200), role: z.enum(PARTICIPANT_ROLES) })).min(2, 'need an operator and at least one witness'),
  steps: z.array(stepSchema).min(1, 'need at least one step'),
});

export type PlanStep = z.infer<typeof stepSchema>;
export type CeremonyPlan = z.infer<typeof planSchema>;

export interface CheckedPlan {
  plan: CeremonyPlan;
  /** SHA-256 of the plan file's exact bytes, hex. */
  sha256: string;
  bytes: Buffer;
  path: string;
  /** Per step, what the checks fixed: profile, algorithm, dates, the files it reads (with their SHA-256). */
  resolved: ResolvedStep[];
}

export interface ResolvedStep {
  step: PlanStep;
  line?: number;
  profile?: Profile;
  algorithm?: KeyAlgorithm;
  subject?: string;
  notBefore?: Date;
  /** Validity in days when the plan fixes it with notAfter; otherwise the profile's. */
  validityDays?: number;
  /** Input files named by the plan (a CSR, a certificate to cross-sign), resolved beside the plan. */
  input?: { path: string; sha256: string };
}

/** Words an environment file uses: never in a plan, which must run unchanged anywhere. */
const ENVIRONMENT_WORDS = new Set(['lib', 'module', 'library', 'slot', 'token_label', 'token_serial', 'serial_number', 'pin', 'so_pin', 'user_pin', 'pin_env', 'pin_file', 'so_pin_env', 'passphrase', 'pkcs11']);

function findEnvironmentWord(v: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = findEnvironmentWord(v[i], [...path, i]);
      if (p) return p;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      // A variable may be named anything a profile wants; only the plan's own keys are checked.
      if (path[path.length - 1] === 'variables') continue;
      if (ENVIRONMENT_WORDS.has(k.toLowerCase())) return [...path, k];
      const p = findEnvironmentWord(x, [...path, k]);
      if (p) return p;
    }
  }
  return undefined;
}

export function algorithmOf(name: string): KeyAlgorithm | undefined {
  if (isKeyAlgorithm(name)) return name;
  try {
    return keyAlgorithmFromQpkiId(name);
  } catch {
    return undefined;
  }
}

function safeOut(p: string): string | undefined {
  if (isAbsolute(p) || p.includes('\\') || p.includes('\0')) return undefined;
  const n = normalize(p);
  if (n === '.' || n.startsWith('..') || n.split(sep).includes('..')) return undefined;
  return n.replace(/\/+$/, '');
}

/** Read, parse and check a plan; nothing is done and nothing is written. */
export function loadPlan(path: string): CheckedPlan {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new QpkiError('PLAN_INVALID', `Cannot read the ceremony plan ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
  return checkPlan(bytes, path);
}

export function checkPlan(bytes: Buffer, path: string): CheckedPlan {
  const what = `Ceremony plan ${path}`;
  const yaml = parseStrictYaml(bytes, what, 'PLAN_INVALID');
  const fail: StrictYaml['fail'] = yaml.fail;
  const env = findEnvironmentWord(yaml.value);
  if (env) fail(`"${env[env.length - 1]}" belongs in the environment file, not in the plan: a plan names no module, token, slot or PIN, so the one rehearsed runs unchanged on the production HSM`, env);
  const plan = checkSchema(yaml, planSchema);
  checkParticipants(plan, fail);
  const pass: PlanPass = { plan, yaml, fail, baseDir: dirname(resolve(path)), kinds: new Map(), keys: new Map(), cas: new Map(), outs: new Set(), initialized: new Set() };
  // One pass over the steps: each is checked against the steps before it.
  const resolved = plan.steps.map((s, i) => checkStep(pass, s, i));
  return { plan, sha256: createHash('sha256').update(bytes).digest('hex'), bytes, path: resolve(path), resolved };
}

/** Exactly one operator, at least one witness, each person once. */
function checkParticipants(plan: CeremonyPlan, fail: StrictYaml['fail']): void {
  const operators = plan.participants.filter((p) => p.role === 'operator');
  if (operators.length !== 1) fail(`a ceremony has exactly one operator (the plan names ${operators.length})`, ['participants']);
  if (!plan.participants.some((p) => p.role === 'witness')) fail('a ceremony needs at least one witness', ['participants']);
  const seenNames = new Map<string, number>();
  plan.participants.forEach((p, i) => {
    const key = p.name.toLowerCase();
    if (seenNames.has(key)) fail(`"${p.name}" is listed twice: each person has one role (the operator is not a witness)`, ['participants', i]);
    seenNames.set(key, i);
  });
}

/** The YAML path of step i, or of one of its fields (the line a refusal names). */
const stepAt = (i: number, key?: string) => ['steps', i, ...(key ? [key] : [])];

type StepOf<T extends PlanStep['type']> = Extract<PlanStep, { type: T }>;

/** What the pass over the steps carries: what the earlier steps made (step ids, keys, CAs, outputs, initialized tokens). */
interface PlanPass {
  plan: CeremonyPlan;
  yaml: StrictYaml;
  fail: StrictYaml['fail'];
  /** The plan's directory: the files a step reads are beside it. */
  baseDir: string;
  kinds: Map<string, PlanStep['type']>;
  keys: Map<string, { algorithm: KeyAlgorithm; token: TokenRole }>;
  cas: Map<string, { profile: Profile }>;
  outs: Set<string>;
  initialized: Set<TokenRole>;
}

/** Step i checked against the steps before it; what the checks fixed for it (profile, algorithm, dates, input). */
function checkStep(pass: PlanPass, s: PlanStep, i: number): ResolvedStep {
  const r: ResolvedStep = { step: s, line: pass.yaml.lineAt(stepAt(i)) };
  if (pass.kinds.has(s.id)) pass.fail(`step id "${s.id}" is used twice`, stepAt(i, 'id'));
  const c = stepChecks(pass, s, i, r);
  switch (s.type) {
    case 'token-init': checkTokenInit(pass, s, i); break;
    case 'key': checkKey(pass, s, i, r); break;
    case 'root': checkRoot(pass, c, s, r); break;
    case 'subordinate': checkSubordinate(pass, c, s, i, r); break;
    case 'cross': checkCross(c, s, r); break;
    case 'csr': checkCsr(c, s, r); break;
    case 'crl': checkCrl(pass, c, s, i); break;
  }
  pass.kinds.set(s.id, s.type);
  return r;
}

type StepChecks = ReturnType<typeof stepChecks>;

/** The checks steps share, each refusing with the line of step i's field it is about. */
function stepChecks(pass: PlanPass, s: PlanStep, i: number, r: ResolvedStep) {
  const { fail } = pass;
  return {
    needKey(k: string, field: string) {
      const key = pass.keys.get(k);
      if (!key) fail(`step "${s.id}" uses key "${k}", which no earlier key step makes`, stepAt(i, field));
      return key!;
    },
    needCa(c: string, field: string) {
      const ca = pass.cas.get(c);
      if (!ca) fail(`step "${s.id}" names CA "${c}", which no earlier root or subordinate step (with a key of this plan) creates`, stepAt(i, field));
      return ca!;
    },
    profileOf(name: string, mustBeCa: boolean) {
      let p: Profile;
      try {
        p = loadProfile(name);
      } catch (e) {
        return fail(`profile "${name}": ${(e as Error).message}`, stepAt(i, 'profile'));
      }
      if (mustBeCa && !p.isCa) fail(`profile ${name} is not a CA profile (basicConstraints ca: true)`, stepAt(i, 'profile'));
      if (p.altAlgorithm) fail(`profile ${name} is a Catalyst hybrid (two keys); plans make one key per CA (use the wizard or \`qpki ca init\` for Catalyst CAs)`, stepAt(i, 'profile'));
      return p;
    },
    /** The subject the profile makes of the step's variables, in words. */
    subjectOf(p: Profile, vars: Record<string, unknown> | undefined) {
      let prepared: ReturnType<typeof prepareSubject>;
      try {
        prepared = prepareSubject(p, vars ?? {});
      } catch (e) {
        return fail(`variables for profile ${p.name}: ${(e as Error).message}`, stepAt(i, 'variables'));
      }
      return nameString(prepared.subject);
    },
    claimOut(o: string) {
      const n = safeOut(o);
      if (!n) fail(`output "${o}" must be a relative path inside the ceremony's output directory`, stepAt(i, 'out'));
      for (const prev of pass.outs) if (prev === n || prev.startsWith(n + '/') || n!.startsWith(prev + '/')) fail(`output "${o}" collides with another step's output "${prev}": nothing is ever overwritten`, stepAt(i, 'out'));
      pass.outs.add(n!);
    },
    input(file: string, field: string) {
      const p = resolve(pass.baseDir, file);
      if (!existsSync(p)) fail(`${field} file ${file} is not there (looked for ${p}; it is read beside the plan)`, stepAt(i, field));
      r.input = { path: p, sha256: createHash('sha256').update(readFileSync(p)).digest('hex') };
    },
    fixDates(p: Profile, notBefore?: string, notAfter?: string) {
      if (notAfter && !notBefore) fail('notAfter needs notBefore: both dates are fixed by the plan, or neither', stepAt(i, 'notAfter'));
      if (!notBefore) return;
      r.notBefore = new Date(notBefore);
      if (notAfter) {
        if (p.validityVariable) fail(`profile ${p.name} takes its validity from the variable "${p.validityVariable}": set it instead of notAfter`, stepAt(i, 'notAfter'));
        const ms = Date.parse(notAfter) - Date.parse(notBefore);
        if (ms <= 0) fail('notAfter must be after notBefore', stepAt(i, 'notAfter'));
        if (ms % DAY_MS !== 0) fail('notAfter must be a whole number of days after notBefore', stepAt(i, 'notAfter'));
        r.validityDays = ms / DAY_MS;
        if (r.validityDays > p.validityDays) fail(`notAfter gives ${r.validityDays} days, more than profile ${p.name} allows (${p.validityDays})`, stepAt(i, 'notAfter'));
      }
    },
    algorithmMatches(p: Profile, a: KeyAlgorithm, field: string) {
      if (p.algorithm !== a) fail(`profile ${p.name} is for ${p.algorithm} keys, and key step "${(s as { key?: string }).key}" makes ${/^[aeiou]/.test(a) ? 'an' : 'a'} ${a} key`, stepAt(i, field));
    },
  };
}

function checkTokenInit(pass: PlanPass, s: StepOf<'token-init'>, i: number): void {
  if (pass.initialized.has(s.token)) pass.fail(`the ${s.token} token is initialized twice`, stepAt(i));
  if ([...pass.keys.values()].some((k) => k.token === s.token)) pass.fail(`the ${s.token} token is initialized after a key was made in it, which would destroy that key`, stepAt(i));
  pass.initialized.add(s.token);
}

function checkKey(pass: PlanPass, s: StepOf<'key'>, i: number, r: ResolvedStep): void {
  const a = algorithmOf(s.algorithm);
  if (!a) pass.fail(`unknown algorithm "${s.algorithm}" (ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096, ed25519, ml-dsa-44, ml-dsa-65, ml-dsa-87, or QPKI's ecdsa-p384 …)`, stepAt(i, 'algorithm'));
  for (const [other, k] of pass.keys) if (k.token === s.token && pass.plan.steps.find((x) => x.id === other && x.type === 'key' && x.label === s.label)) pass.fail(`label "${s.label}" is already used by key step "${other}" in the ${s.token} token`, stepAt(i, 'label'));
  pass.keys.set(s.id, { algorithm: a!, token: s.token });
  r.algorithm = a;
}

function checkRoot(pass: PlanPass, c: StepChecks, s: StepOf<'root'>, r: ResolvedStep): void {
  const k = c.needKey(s.key, 'key');
  const p = c.profileOf(s.profile, true);
  c.algorithmMatches(p, k.algorithm, 'key');
  r.subject = c.subjectOf(p, s.variables);
  c.fixDates(p, s.notBefore, s.notAfter);
  c.claimOut(s.out);
  r.profile = p;
  pass.cas.set(s.id, { profile: p });
}

function checkSubordinate(pass: PlanPass, c: StepChecks, s: StepOf<'subordinate'>, i: number, r: ResolvedStep): void {
  c.needCa(s.issuer, 'issuer');
  if (!!s.key === !!s.csr) pass.fail(`step "${s.id}" needs exactly one of key (a key of this plan) or csr (a request file)`, stepAt(i));
  const p = c.profileOf(s.profile, true);
  if (s.key) c.algorithmMatches(p, c.needKey(s.key, 'key').algorithm, 'key');
  if (s.csr) c.input(s.csr, 'csr');
  r.subject = c.subjectOf(p, s.variables);
  c.fixDates(p, s.notBefore, s.notAfter);
  c.claimOut(s.out);
  r.profile = p;
  // Only a subordinate whose key this plan made becomes a CA directory the plan can sign with.
  if (s.key) pass.cas.set(s.id, { profile: p });
}

function checkCross(c: StepChecks, s: StepOf<'cross'>, r: ResolvedStep): void {
  c.needCa(s.issuer, 'issuer');
  const p = c.profileOf(s.profile, true);
  c.input(s.certificate, 'certificate');
  r.subject = c.subjectOf(p, s.variables);
  c.fixDates(p, s.notBefore, s.notAfter);
  c.claimOut(s.out);
  r.profile = p;
}

function checkCsr(c: StepChecks, s: StepOf<'csr'>, r: ResolvedStep): void {
  const k = c.needKey(s.key, 'key');
  const p = c.profileOf(s.profile, true);
  c.algorithmMatches(p, k.algorithm, 'key');
  r.subject = c.subjectOf(p, s.variables);
  c.claimOut(s.out);
  r.profile = p;
}

function checkCrl(pass: PlanPass, c: StepChecks, s: StepOf<'crl'>, i: number): void {
  c.needCa(s.issuer, 'issuer');
  if (s.nextUpdateDays > MAX_CA_CRL_DAYS) pass.fail(`nextUpdateDays ${s.nextUpdateDays}: a CA's CRL has its nextUpdate at most 12 months (${MAX_CA_CRL_DAYS} days) after thisUpdate (CA/Browser Forum BR 7.2)`, stepAt(i, 'nextUpdateDays'));
  (s.revoke ?? []).forEach((v, j) => checkRevocation(pass, s, v, [...stepAt(i, 'revoke'), j]));
  c.claimOut(s.out);
}

/** One revocation of a CRL step: a certificate an earlier step of this plan issued from the same CA, or a serial; a reason for a CA certificate. */
function checkRevocation(pass: PlanPass, s: StepOf<'crl'>, v: NonNullable<StepOf<'crl'>['revoke']>[number], at: (string | number)[]): void {
  const { fail } = pass;
  if (!!v.step === !!v.serial) fail('a revocation names exactly one of step (a certificate this plan issued) or serial', at);
  if (v.step) {
    const kind = pass.kinds.get(v.step);
    if (kind !== 'subordinate' && kind !== 'cross') fail(`revocation of step "${v.step}": no earlier subordinate or cross step has that id`, at);
    const issuedBy = pass.plan.steps.find((x) => x.id === v.step) as { issuer?: string };
    if (issuedBy.issuer !== s.issuer) fail(`revocation of step "${v.step}": its certificate was issued by "${issuedBy.issuer}", not by "${s.issuer}"`, at);
  }
  // Every certificate a plan can revoke is a CA certificate (subordinate or cross).
  const problem = v.step ? revocationReasonProblem(v.reason, 'ca') : undefined;
  if (problem) fail(problem, [...at, 'reason']);
}

/** The roles the plan's steps use, in the order they first appear. */
export function tokenRolesUsed(plan: CeremonyPlan): TokenRole[] {
  const roles: TokenRole[] = [];
  for (const s of plan.steps) if ((s.type === 'key' || s.type === 'token-init') && !roles.includes(s.token)) roles.push(s.token);
  return roles;
}
