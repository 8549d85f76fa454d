/**
 * Runs a checked ceremony plan step by step into a new output directory. The ceremony's own record
 * (`journal.jsonl` in the output directory) starts with the ceremony's opening, the preflight and
 * the plan's SHA-256, then each step's start and completion; every CA the plan creates keeps its
 * own journal as `qpki ca init` writes it. The run stops at the first failure, records it, and
 * says what to do; nothing already written is overwritten or removed.
 *
 * Plain Node over the engine: the command line calls it, and the app can.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { checkClockWitness, checkJustification, compareClock, type ClockComparison } from '../journal/witness-checks';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';
import { QpkiError, toErrorPayload } from '../errors';
import { Journal } from '../journal/journal';
import { preflight } from '../journal/preflight';
import { initCa, openCa, type CertificateAuthority, type IssuedCertificate } from '../ca/authority';
import { syncPaths, writeFileAtomic } from '../ca/fsx';
import { loadModule, type Pkcs11Module, type TokenSession } from '../pkcs11/index';
import { initToken } from '../pkcs11/tokenInit';
import { revokeInIndex } from '../ca/revoke';
import type { KeyInfo } from '../pkcs11/types';
import { buildCsr, parseAndVerifyCsr } from '../x509/csr';
import { pemOrDer, toPem } from '../x509/pem';
import { defaultSignatureAlgorithm } from '../keys/algorithms';
import type { Profile } from '../profiles/index';
import type { CheckedEnvironment, TokenEnvironment } from './environment';
import { tokenRolesUsed, type CheckedPlan, type PlanStep, type ResolvedStep, type TokenRole } from './plan';
import { algorithmWithCode } from '../../../shared/algorithm-words';

export const MANIFEST_FILE = 'outputs.json';
export const PLAN_COPY = 'plan.yaml';
export const ENV_COPY = 'environment.yaml';

export interface RunOutput {
  kind: 'certificate' | 'crl' | 'csr' | 'ca-directory';
  /** Relative to the output directory. */
  path: string;
  sha256?: string;
}

export interface RunManifest {
  format: 'qpki-ceremony-run/1';
  ceremonyId: string;
  planSha256: string;
  environmentSha256: string;
  rehearsal: boolean;
  completed: boolean;
  steps: { n: number; id: string; type: PlanStep['type']; outputs: RunOutput[]; serial?: string; completedAt: string }[];
  failed?: { n: number; id: string; code: string; message: string };
}

export interface RunOptions {
  /** The running app's fingerprint (journal/fingerprint.ts), recorded at the opening. */
  app?: { sha256: string; files: number };
  out: string;
  rehearsal?: boolean;
  /** Reads a PIN from the variable the environment file names; never kept. */
  readPin?: (variable: string, what: string) => string;
  /**
   * Why the ceremony goes on despite the preflight's warnings (a network interface up, …), as the
   * witnesses agreed; a production run with warnings and no justification is refused before anything is done.
   */
  preflightJustification?: string;
  /** A witness read the laptop's clock against a reference time and typed it in. */
  clockCheck?: { witness: string; referenceTime: string };
  /** Progress lines for the operator ("Step 2 of 5: …"). */
  progress?: (line: string) => void;
}

function sha256(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}

function pinFromEnvironment(variable: string, what: string): string {
  const v = process.env[variable];
  if (v === undefined || v === '') throw new QpkiError('PIN_REQUIRED', `The environment variable ${variable} (${what}) is ${v === undefined ? 'not set' : 'empty'}; set it before the ceremony starts.`);
  return v;
}

/** The output directory must be new (absent, or an empty directory): a run never writes over another. */
function claimOutputDir(out: string): void {
  if (existsSync(out)) {
    if (readdirSync(out).length) throw new QpkiError('OUTPUT_EXISTS', `${out} exists and is not empty; a ceremony run writes only into a new directory.`);
  } else {
    mkdirSync(out, { recursive: true, mode: 0o755 });
  }
}

/** The plan's steps' words, for the journal and the operator. */
export function stepWords(r: ResolvedStep): string {
  const s = r.step;
  switch (s.type) {
    case 'token-init': return `initialize the ${s.token} token`;
    // The algorithm in words for the witnesses, its code beside it for the plan's reader.
    case 'key': return `generate key "${s.label}", ${algorithmWithCode(r.algorithm ?? s.algorithm)}, in the ${s.token} token`;
    case 'root': return `self-signed root CA ${r.subject} with key ${s.key}, profile ${s.profile}, into ${s.out}/`;
    case 'subordinate': return s.key ? `subordinate CA ${r.subject} signed by ${s.issuer}, key ${s.key}, profile ${s.profile}, into ${s.out}/` : `certificate for the request ${s.csr} (${r.subject}) signed by ${s.issuer}, profile ${s.profile}, into ${s.out}`;
    case 'cross': return `cross-certificate for ${s.certificate} (${r.subject}) signed by ${s.issuer}, profile ${s.profile}, into ${s.out}`;
    case 'csr': return `certificate request ${r.subject} for an external parent with key ${s.key}, into ${s.out}`;
    case 'crl': return `CRL of ${s.issuer}, next update in ${s.nextUpdateDays} days${s.revoke?.length ? `, revoking ${s.revoke.map((v) => v.step ?? v.serial).join(', ')}` : ''}, into ${s.out}`;
  }
}

interface OpenToken {
  env: TokenEnvironment;
  module: Pkcs11Module;
  session: TokenSession;
}

type StepOf<T extends PlanStep['type']> = Extract<PlanStep, { type: T }>;
type StepDone = { outputs: RunOutput[]; serial?: string };

/** What the steps of one run share: the ceremony's record and people, and the tokens, keys and CAs opened or made so far. */
interface Run {
  plan: CheckedPlan;
  env: CheckedEnvironment;
  out: string;
  rehearsal: boolean;
  readPin: (variable: string, what: string) => string;
  say: (line: string) => void;
  who: { operator: string; witnesses: string[] };
  journal: Journal;
  tokens: Map<TokenRole, OpenToken>;
  keys: Map<string, { role: TokenRole; info: KeyInfo }>;
  cas: Map<string, { dir: string; role?: TokenRole; ca?: CertificateAuthority }>;
  issuedSerial: Map<string, string>;
  libs: string[];
}

/** What the witnesses confirmed before anything is written: the preflight, the reason for its warnings, the clock. */
interface Witnessed {
  checks: ReturnType<typeof preflight>;
  justification: string;
  clockFacts?: ClockComparison['facts'];
}

export async function runPlan(plan: CheckedPlan, env: CheckedEnvironment, opts: RunOptions): Promise<RunManifest> {
  const out = resolve(opts.out);
  const readPin = opts.readPin ?? pinFromEnvironment;
  const p = plan.plan;
  checkPinsSet(p, env, readPin);
  const operator = p.participants.find((x) => x.role === 'operator')!.name;
  const witnesses = p.participants.filter((x) => x.role !== 'operator').map((x) => x.name);
  const rehearsal = !!opts.rehearsal;
  const witnessed = witnessPreflight(out, witnesses, rehearsal, opts);
  claimOutputDir(out);
  writeFileAtomic(join(out, PLAN_COPY), plan.bytes, { createOnly: true });
  writeFileAtomic(join(out, ENV_COPY), env.bytes, { createOnly: true });

  const who = { operator, witnesses };
  const journal = Journal.open(out, who);
  recordOpening(journal, plan, env, { who, rehearsal, witnessed, app: opts.app });

  const manifest: RunManifest = { format: 'qpki-ceremony-run/1', ceremonyId: p.ceremony.id, planSha256: plan.sha256, environmentSha256: env.sha256, rehearsal, completed: false, steps: [] };
  const run: Run = {
    plan, env, out, rehearsal, readPin, say: opts.progress ?? (() => {}), who, journal,
    tokens: new Map(), keys: new Map(), cas: new Map(), issuedSerial: new Map(), libs: Object.values(env.tokens).map((t) => t!.lib),
  };
  try {
    for (let i = 0; i < p.steps.length; i++) await runNumberedStep(run, manifest, i + 1);
    manifest.completed = true;
  } finally {
    await closeRun(run, manifest);
  }
  return manifest;
}

/** Every PIN variable is checked to be set before anything happens, so a run never stops half-way for one. */
function checkPinsSet(p: CheckedPlan['plan'], env: CheckedEnvironment, readPin: Run['readPin']): void {
  for (const role of tokenRolesUsed(p)) {
    const t = env.tokens[role]!;
    readPin(t.pin_env, `user PIN of the ${role} token`);
    if (t.so_pin_env && p.steps.some((s) => s.type === 'token-init' && s.token === role)) readPin(t.so_pin_env, `security officer PIN of the ${role} token`);
  }
}

/** The preflight and what the witnesses said of it and of the clock; a refusal here comes before anything is written. */
function witnessPreflight(out: string, witnesses: string[], rehearsal: boolean, opts: RunOptions): Witnessed {
  const checks = preflight(existsSync(out) ? out : dirname(out));
  // The same witness rules as the app's preflight screen (witness-checks.ts): a rehearsal may go on
  // despite warnings without a reason; a production run may not.
  const justification = rehearsal && !opts.preflightJustification?.trim() ? '' : checkJustification(checks.warnings, opts.preflightJustification, 'qpki: --preflight-justification TEXT', 'Nothing was done.');
  const clock = opts.clockCheck;
  let clockFacts: ClockComparison['facts'] | undefined;
  if (clock) {
    checkClockWitness(clock.witness, witnesses, 'plan');
    const compared = compareClock(clock.witness, clock.referenceTime, new Date(checks.clock.iso), 'run the ceremony again. Nothing was done.');
    if (compared.tooFar) throw compared.tooFar;
    clockFacts = compared.facts;
  }
  return { checks, justification, clockFacts };
}

/** The record's first entries: the opening, the preflight and what the witnesses acknowledged, the plan loaded. */
function recordOpening(journal: Journal, plan: CheckedPlan, env: CheckedEnvironment, o: { who: Run['who']; rehearsal: boolean; witnessed: Witnessed; app?: RunOptions['app'] }): void {
  const p = plan.plan;
  const { checks, justification, clockFacts } = o.witnessed;
  journal.append('ceremony.opened', {
    planSha256: plan.sha256, ceremonyId: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location, rehearsal: o.rehearsal,
    participants: p.participants.map((x) => ({ name: x.name, role: x.role })), command: 'ceremony run', ...(o.app ? { app: o.app } : {}),
  });
  journal.append('preflight', checks as unknown as Record<string, unknown>);
  if (checks.warnings.length && justification) journal.append('witness.acknowledged', { what: 'preflight', warnings: checks.warnings, note: justification, witnesses: o.who.witnesses });
  if (clockFacts) journal.append('witness.acknowledged', clockFacts);
  journal.append('plan.loaded', {
    planSha256: plan.sha256, environmentSha256: env.sha256, ceremonyId: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location,
    steps: p.steps.length, participants: p.participants.map((x) => ({ name: x.name, role: x.role })), planCopy: PLAN_COPY, environmentCopy: ENV_COPY,
  });
}

/** Step n (from 1): announced, recorded as started, run, recorded as completed or failed (which stops the run). */
async function runNumberedStep(run: Run, manifest: RunManifest, n: number): Promise<void> {
  const { journal, out } = run;
  const total = run.plan.plan.steps.length;
  const r = run.plan.resolved[n - 1];
  const words = stepWords(r);
  run.say(`Step ${n} of ${total}: ${words}`);
  journal.append('plan.step.started', { step: n, of: total, id: r.step.id, type: r.step.type, what: words });
  let done: StepDone;
  try {
    done = await runStep(run, r);
  } catch (e) {
    const err = toErrorPayload(e);
    journal.append('error', { step: n, of: total, id: r.step.id, ...err });
    manifest.failed = { n, id: r.step.id, code: err.code, message: err.message };
    throw Object.assign(new QpkiError('PLAN_STEP_FAILED', `Step ${n} of ${total} (${r.step.id}: ${words}) failed: ${err.message} [${err.code}]. ${n > 1 ? `Steps 1 to ${n - 1} are complete and recorded in ${out}.` : 'No step was completed.'} What to do: fix the cause; in a rehearsal, run the plan again into a new directory; in production, record the failure as a deviation with the witnesses before anything else is done, and keep ${out} as it is.`, { step: n, id: r.step.id, cause: err.code }), { causeCode: err.code });
  }
  const completedAt = new Date().toISOString();
  journal.append('plan.step.completed', { step: n, of: total, id: r.step.id, type: r.step.type, made: done.outputs, ...(done.serial ? { serial: done.serial } : {}) });
  manifest.steps.push({ n, id: r.step.id, type: r.step.type, outputs: done.outputs, ...(done.serial ? { serial: done.serial } : {}), completedAt });
}

/** Whatever happened: the CAs and sessions closed, then the manifest written and the record closed with its hash, all synced. */
async function closeRun(run: Run, manifest: RunManifest): Promise<void> {
  const { out } = run;
  const total = run.plan.plan.steps.length;
  for (const c of run.cas.values()) await c.ca?.close();
  for (const t of run.tokens.values()) t.session.close();
  writeFileAtomic(join(out, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { createOnly: true });
  run.journal.append('ceremony.closed', { ceremonyId: run.plan.plan.ceremony.id, outcome: manifest.completed ? 'completed' : `stopped at step ${manifest.failed?.n ?? '?'} of ${total}`, stepsCompleted: manifest.steps.length, of: total, manifest: MANIFEST_FILE, manifestSha256: sha256(readFileSync(join(out, MANIFEST_FILE))) });
  syncPaths([out]);
}

/** The token of a role, opened and logged in at its first use in the run (module, token and login recorded). */
async function tokenFor(run: Run, role: TokenRole): Promise<OpenToken> {
  const have = run.tokens.get(role);
  if (have) return have;
  const { journal } = run;
  const t = run.env.tokens[role]!;
  const module = loadModule(t.lib);
  const info = module.info();
  // SoftHSM2 keeps keys in files anyone with the disk can copy: fine for a rehearsal, never a production key.
  const development = info.development;
  if (development && !run.rehearsal) run.say(`warning: the ${role} token's module is SoftHSM2, a development token whose keys are files on this disk: not a production HSM.`);
  journal.append('module.loaded', { role, path: info.path, manufacturer: info.manufacturer, description: info.description, libraryVersion: info.libraryVersion, sha256: sha256(readFileSync(info.path)), developmentToken: development });
  const ref = t.token || t.token_serial ? { label: t.token, serial: t.token_serial } : { serial: module.listSlots().find((s) => s.slotId === String(t.slot))?.token?.serial };
  if (!ref.label && !ref.serial) throw new QpkiError('SLOT_NOT_FOUND', `Slot ${t.slot} of ${t.lib} has no token.`);
  const session = module.openSession(ref);
  journal.append('token.chosen', { role, label: session.token.label, serial: session.token.serial, manufacturer: session.token.manufacturer, model: session.token.model });
  try {
    const r = await session.login(run.readPin(t.pin_env, `user PIN of the ${role} token`));
    journal.append('login.succeeded', { role, token: session.token.label, pinSource: `environment variable ${t.pin_env}`, warnings: r.warnings });
  } catch (e) {
    journal.append('login.failed', { role, token: session.token.label, ...toErrorPayload(e) });
    session.close();
    throw e;
  }
  const open = { env: t, module, session };
  run.tokens.set(role, open);
  return open;
}

/** The CA an earlier step made, opened at its first use (its token's session with it). */
async function caFor(run: Run, stepId: string): Promise<CertificateAuthority> {
  const c = run.cas.get(stepId)!;
  if (!c.ca) {
    const session = c.role ? (await tokenFor(run, c.role)).session : undefined;
    c.ca = await openCa(c.dir, { session, pkcs11Lib: c.role ? run.env.tokens[c.role]!.lib : undefined, allowModule: (lib) => run.libs.includes(lib) });
    c.ca.journal.setParticipants(run.who.operator, run.who.witnesses);
  }
  return c.ca;
}

function writeOutput(run: Run, rel: string, data: string | Uint8Array, kind: RunOutput['kind']): RunOutput {
  const path = join(run.out, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileAtomic(path, data, { createOnly: true });
  return { kind, path: rel, sha256: sha256(data) };
}

function certificateOutput(run: Run, rel: string, issued: IssuedCertificate): RunOutput {
  return writeOutput(run, rel, issued.pem, 'certificate');
}

function dated(r: ResolvedStep, profile: Profile): Profile {
  return r.validityDays ? { ...profile, validityDays: r.validityDays } : profile;
}

/** One step's work, by its type. */
async function runStep(run: Run, r: ResolvedStep): Promise<StepDone> {
  const s = r.step;
  switch (s.type) {
    case 'token-init': return initTokenStep(run, s);
    case 'key': return keyStep(run, r, s);
    case 'root':
    case 'subordinate':
      if (s.type === 'subordinate' && s.csr) return requestStep(run, r, s);
      return newCaStep(run, r, s);
    case 'cross': return crossStep(run, r, s);
    case 'csr': return csrStep(run, r, s);
    case 'crl': return crlStep(run, s);
  }
}

/** The one blank token of the role's library (or slot) initialized with the environment's PINs. */
async function initTokenStep(run: Run, s: StepOf<'token-init'>): Promise<StepDone> {
  const t = run.env.tokens[s.token]!;
  const module = loadModule(t.lib);
  const blank = module.listSlots().filter((x) => x.token && !x.token.flags.initialized && (t.slot === undefined || x.slotId === String(t.slot)));
  if (blank.length !== 1) throw new QpkiError('SLOT_NOT_FOUND', blank.length ? `${blank.length} blank tokens are present on ${t.lib}: name the slot of the one to initialize in the environment file (slot).` : `No blank token${t.slot !== undefined ? ` in slot ${t.slot}` : ''} on ${t.lib}: the plan initializes the ${s.token} token, which must be new (a used token is never wiped by a plan).`);
  const res = await initToken(module, { slotId: blank[0].slotId, label: t.token!, soPin: run.readPin(t.so_pin_env!, `security officer PIN of the ${s.token} token`), userPin: run.readPin(t.pin_env, `user PIN of the ${s.token} token`) });
  run.journal.append('token.initialized', { role: s.token, label: res.token.label, serial: res.token.serial, manufacturer: res.token.manufacturer, model: res.token.model, warnings: res.warnings, soPinSource: `environment variable ${t.so_pin_env}`, pinSource: `environment variable ${t.pin_env}` });
  return { outputs: [] };
}

async function keyStep(run: Run, r: ResolvedStep, s: StepOf<'key'>): Promise<StepDone> {
  const t = await tokenFor(run, s.token);
  const g = await t.session.generateKey({ algorithm: r.algorithm!, label: s.label });
  run.journal.append('key.generated', { step: s.id, role: s.token, token: t.session.token.label, label: g.key.label, id: g.key.id, algorithm: g.key.keyAlgorithm, sizeBits: g.key.sizeBits, attributes: g.key.attributes, publicKeySha256: g.key.publicKeyFingerprint, testSignature: g.testSignature, durationMs: Math.round(g.durationMs) });
  run.keys.set(s.id, { role: s.token, info: g.key });
  return { outputs: [] };
}

/** A subordinate certificate for a request file (an external key): issued by a CA of the plan, no CA directory made. */
async function requestStep(run: Run, r: ResolvedStep, s: StepOf<'subordinate'>): Promise<StepDone> {
  const ca = await caFor(run, s.issuer);
  const csr = parseAndVerifyCsr(readFileSync(r.input!.path));
  if (sha256(readFileSync(r.input!.path)) !== r.input!.sha256) throw new QpkiError('PLAN_INVALID', `The request ${s.csr} changed since the plan was checked.`);
  ca.journal.append('csr.accepted', { file: r.input!.path, keyAlgorithm: csr.keyAlgorithm, csrSha256: sha256(csr.der), planStep: s.id });
  const issued = await ca.issue({ profile: dated(r, r.profile!), vars: s.variables ?? {}, spki: csr.spki, now: r.notBefore, source: `ceremony plan ${run.plan.plan.ceremony.id} step ${s.id}` });
  run.issuedSerial.set(s.id, issued.serial);
  return { outputs: [certificateOutput(run, s.out, issued)], serial: issued.serial };
}

/** A new CA directory with a key of the plan: a self-signed root, or a subordinate signed by a CA of the plan. */
async function newCaStep(run: Run, r: ResolvedStep, s: StepOf<'root'> | StepOf<'subordinate'>): Promise<StepDone> {
  const { out } = run;
  const p = run.plan.plan;
  const k = run.keys.get(s.key!)!;
  const t = await tokenFor(run, k.role);
  const parent = s.type === 'subordinate' ? await caFor(run, s.issuer) : undefined;
  const dir = join(out, s.out);
  const res = await initCa({
    dir, profile: dated(r, r.profile!), vars: s.variables ?? {}, now: r.notBefore, parent, participants: run.who,
    key: { kind: 'pkcs11', session: t.session, label: k.info.label, id: k.info.id, useExisting: true, expectedFingerprint: { sha256: k.info.publicKeyFingerprint, where: `ceremony ${p.ceremony.id}, step ${s.key}` }, pinEnv: t.env.pin_env },
    journalPreamble: [{ kind: 'ceremony.opened', facts: { ceremonyId: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location, rehearsal: run.rehearsal, planSha256: run.plan.sha256, planStep: s.id, record: join(out, 'journal.jsonl') } }],
  });
  run.cas.set(s.id, { dir, role: k.role });
  if (parent) run.issuedSerial.set(s.id, res.certificate.serial);
  return { outputs: [{ kind: 'ca-directory', path: s.out }, { kind: 'certificate', path: relative(out, res.certificate.path), sha256: sha256(readFileSync(res.certificate.path)) }], serial: res.certificate.serial };
}

async function crossStep(run: Run, r: ResolvedStep, s: StepOf<'cross'>): Promise<StepDone> {
  const ca = await caFor(run, s.issuer);
  const der = pemOrDer(readFileSync(r.input!.path), ['CERTIFICATE']);
  if (sha256(readFileSync(r.input!.path)) !== r.input!.sha256) throw new QpkiError('PLAN_INVALID', `The certificate ${s.certificate} changed since the plan was checked.`);
  const cert = AsnConvert.parse(der, Certificate);
  const spki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
  const request = ca.prepareRequest({ profile: dated(r, r.profile!), vars: s.variables ?? {}, spki, now: r.notBefore, source: `ceremony plan ${run.plan.plan.ceremony.id} step ${s.id} (cross-certificate)` });
  // A cross-certificate certifies the same subject under another issuer, byte for byte (path
  // building compares names as encoded); the plan's variables must name it too, so the
  // reviewers read the name that is certified.
  const attrs = (n: Name) => n.flatMap((rdn) => rdn.map((a) => `${a.type}=${a.value.toString()}`)).sort().join('\n');
  if (attrs(cert.tbsCertificate.subject) !== attrs(request.subject)) throw new QpkiError('PLAN_INVALID', `The cross-certificate's subject from the plan's variables (${request.subjectString}) is not the subject of ${s.certificate}; a cross-certificate names the same subject.`);
  const prepared = ca.fixCertificate({ ...request, subject: cert.tbsCertificate.subject }, ca.usedSerials());
  const issued = await ca.issuePrepared(prepared);
  run.issuedSerial.set(s.id, issued.serial);
  return { outputs: [certificateOutput(run, s.out, issued)], serial: issued.serial };
}

/** A certificate request for an external parent, signed by a key of the plan. */
async function csrStep(run: Run, r: ResolvedStep, s: StepOf<'csr'>): Promise<StepDone> {
  const k = run.keys.get(s.key)!;
  const t = await tokenFor(run, k.role);
  const signer = t.session.signer(k.info);
  const { prepareSubject } = await import('../ca/authority');
  const { subject } = prepareSubject(r.profile!, s.variables ?? {});
  const der = await buildCsr({ subject, signer, signatureAlgorithm: defaultSignatureAlgorithm(signer.keyAlgorithm) });
  const o = writeOutput(run, s.out, toPem(der, 'CERTIFICATE REQUEST'), 'csr');
  run.journal.append('csr.created', { step: s.id, subject: r.subject, key: { token: t.session.token.label, label: k.info.label, id: k.info.id }, csrSha256: sha256(der), out: s.out });
  return { outputs: [o] };
}

/** The revocations the step names (by the step that issued the certificate, or by serial), then the CRL. */
async function crlStep(run: Run, s: StepOf<'crl'>): Promise<StepDone> {
  const ca = await caFor(run, s.issuer);
  for (const v of s.revoke ?? []) {
    const serial = v.step ? run.issuedSerial.get(v.step)! : v.serial!.toLowerCase();
    revokeInIndex(ca.dir, serial, v.reason, new Date(), run.who);
  }
  const crl = await ca.generateCrl({ days: s.nextUpdateDays });
  const o = writeOutput(run, s.out, crl.pem, 'crl');
  return { outputs: [o] };
}
