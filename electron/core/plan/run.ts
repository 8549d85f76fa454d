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

// eslint-disable-next-line max-lines-per-function -- the run holds the open tokens, keys and CAs the steps share; the per-step work is runStep within it
export async function runPlan(plan: CheckedPlan, env: CheckedEnvironment, opts: RunOptions): Promise<RunManifest> {
  const out = resolve(opts.out);
  const readPin = opts.readPin ?? pinFromEnvironment;
  const say = opts.progress ?? (() => {});
  const p = plan.plan;
  // Every PIN variable is checked to be set before anything happens, so a run never stops half-way for one.
  for (const role of tokenRolesUsed(p)) {
    const t = env.tokens[role]!;
    readPin(t.pin_env, `user PIN of the ${role} token`);
    if (t.so_pin_env && p.steps.some((s) => s.type === 'token-init' && s.token === role)) readPin(t.so_pin_env, `security officer PIN of the ${role} token`);
  }
  const operator = p.participants.find((x) => x.role === 'operator')!.name;
  const witnesses = p.participants.filter((x) => x.role !== 'operator').map((x) => x.name);
  const rehearsal = !!opts.rehearsal;
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
  claimOutputDir(out);
  writeFileAtomic(join(out, PLAN_COPY), plan.bytes, { createOnly: true });
  writeFileAtomic(join(out, ENV_COPY), env.bytes, { createOnly: true });

  const who = { operator, witnesses };
  const journal = Journal.open(out, who);
  journal.append('ceremony.opened', {
    planSha256: plan.sha256, ceremonyId: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location, rehearsal,
    participants: p.participants.map((x) => ({ name: x.name, role: x.role })), command: 'ceremony run', ...(opts.app ? { app: opts.app } : {}),
  });
  journal.append('preflight', checks as unknown as Record<string, unknown>);
  if (checks.warnings.length && justification) journal.append('witness.acknowledged', { what: 'preflight', warnings: checks.warnings, note: justification, witnesses });
  if (clockFacts) journal.append('witness.acknowledged', clockFacts);
  journal.append('plan.loaded', {
    planSha256: plan.sha256, environmentSha256: env.sha256, ceremonyId: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location,
    steps: p.steps.length, participants: p.participants.map((x) => ({ name: x.name, role: x.role })), planCopy: PLAN_COPY, environmentCopy: ENV_COPY,
  });

  const manifest: RunManifest = { format: 'qpki-ceremony-run/1', ceremonyId: p.ceremony.id, planSha256: plan.sha256, environmentSha256: env.sha256, rehearsal, completed: false, steps: [] };
  const tokens = new Map<TokenRole, OpenToken>();
  const keys = new Map<string, { role: TokenRole; info: KeyInfo }>();
  const cas = new Map<string, { dir: string; role?: TokenRole; ca?: CertificateAuthority }>();
  const issuedSerial = new Map<string, string>();
  const libs = Object.values(env.tokens).map((t) => t!.lib);

  const tokenFor = async (role: TokenRole): Promise<OpenToken> => {
    const have = tokens.get(role);
    if (have) return have;
    const t = env.tokens[role]!;
    const module = loadModule(t.lib);
    const info = module.info();
    // SoftHSM2 keeps keys in files anyone with the disk can copy: fine for a rehearsal, never a production key.
    const development = info.development;
    if (development && !rehearsal) say(`warning: the ${role} token's module is SoftHSM2, a development token whose keys are files on this disk: not a production HSM.`);
    journal.append('module.loaded', { role, path: info.path, manufacturer: info.manufacturer, description: info.description, libraryVersion: info.libraryVersion, sha256: sha256(readFileSync(info.path)), developmentToken: development });
    const ref = t.token || t.token_serial ? { label: t.token, serial: t.token_serial } : { serial: module.listSlots().find((s) => s.slotId === String(t.slot))?.token?.serial };
    if (!ref.label && !ref.serial) throw new QpkiError('SLOT_NOT_FOUND', `Slot ${t.slot} of ${t.lib} has no token.`);
    const session = module.openSession(ref);
    journal.append('token.chosen', { role, label: session.token.label, serial: session.token.serial, manufacturer: session.token.manufacturer, model: session.token.model });
    try {
      const r = await session.login(readPin(t.pin_env, `user PIN of the ${role} token`));
      journal.append('login.succeeded', { role, token: session.token.label, pinSource: `environment variable ${t.pin_env}`, warnings: r.warnings });
    } catch (e) {
      journal.append('login.failed', { role, token: session.token.label, ...toErrorPayload(e) });
      session.close();
      throw e;
    }
    const open = { env: t, module, session };
    tokens.set(role, open);
    return open;
  };

  const caFor = async (stepId: string): Promise<CertificateAuthority> => {
    const c = cas.get(stepId)!;
    if (!c.ca) {
      const session = c.role ? (await tokenFor(c.role)).session : undefined;
      c.ca = await openCa(c.dir, { session, pkcs11Lib: c.role ? env.tokens[c.role]!.lib : undefined, allowModule: (lib) => libs.includes(lib) });
      c.ca.journal.setParticipants(operator, witnesses);
    }
    return c.ca;
  };

  const writeOutput = (rel: string, data: string | Uint8Array, kind: RunOutput['kind']): RunOutput => {
    const path = join(out, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileAtomic(path, data, { createOnly: true });
    return { kind, path: rel, sha256: sha256(data) };
  };

  const certificateOutput = (rel: string, issued: IssuedCertificate): RunOutput => writeOutput(rel, issued.pem, 'certificate');

  const dated = (r: ResolvedStep, profile: Profile): Profile => (r.validityDays ? { ...profile, validityDays: r.validityDays } : profile);

  // eslint-disable-next-line max-lines-per-function -- one case per step type, each a few lines
  const runStep = async (r: ResolvedStep, n: number): Promise<{ outputs: RunOutput[]; serial?: string }> => {
    const s = r.step;
    switch (s.type) {
      case 'token-init': {
        const t = env.tokens[s.token]!;
        const module = loadModule(t.lib);
        const blank = module.listSlots().filter((x) => x.token && !x.token.flags.initialized && (t.slot === undefined || x.slotId === String(t.slot)));
        if (blank.length !== 1) throw new QpkiError('SLOT_NOT_FOUND', blank.length ? `${blank.length} blank tokens are present on ${t.lib}: name the slot of the one to initialize in the environment file (slot).` : `No blank token${t.slot !== undefined ? ` in slot ${t.slot}` : ''} on ${t.lib}: the plan initializes the ${s.token} token, which must be new (a used token is never wiped by a plan).`);
        const res = await initToken(module, { slotId: blank[0].slotId, label: t.token!, soPin: readPin(t.so_pin_env!, `security officer PIN of the ${s.token} token`), userPin: readPin(t.pin_env, `user PIN of the ${s.token} token`) });
        journal.append('token.initialized', { role: s.token, label: res.token.label, serial: res.token.serial, manufacturer: res.token.manufacturer, model: res.token.model, warnings: res.warnings, soPinSource: `environment variable ${t.so_pin_env}`, pinSource: `environment variable ${t.pin_env}` });
        return { outputs: [] };
      }
      case 'key': {
        const t = await tokenFor(s.token);
        const g = await t.session.generateKey({ algorithm: r.algorithm!, label: s.label });
        journal.append('key.generated', { step: s.id, role: s.token, token: t.session.token.label, label: g.key.label, id: g.key.id, algorithm: g.key.keyAlgorithm, sizeBits: g.key.sizeBits, attributes: g.key.attributes, publicKeySha256: g.key.publicKeyFingerprint, testSignature: g.testSignature, durationMs: Math.round(g.durationMs) });
        keys.set(s.id, { role: s.token, info: g.key });
        return { outputs: [] };
      }
      case 'root':
      case 'subordinate': {
        if (s.type === 'subordinate' && s.csr) {
          const ca = await caFor(s.issuer);
          const csr = parseAndVerifyCsr(readFileSync(r.input!.path));
          if (sha256(readFileSync(r.input!.path)) !== r.input!.sha256) throw new QpkiError('PLAN_INVALID', `The request ${s.csr} changed since the plan was checked.`);
          ca.journal.append('csr.accepted', { file: r.input!.path, keyAlgorithm: csr.keyAlgorithm, csrSha256: sha256(csr.der), planStep: s.id });
          const issued = await ca.issue({ profile: dated(r, r.profile!), vars: s.variables ?? {}, spki: csr.spki, now: r.notBefore, source: `ceremony plan ${p.ceremony.id} step ${s.id}` });
          issuedSerial.set(s.id, issued.serial);
          return { outputs: [certificateOutput(s.out, issued)], serial: issued.serial };
        }
        const k = keys.get(s.key!)!;
        const t = await tokenFor(k.role);
        const parent = s.type === 'subordinate' ? await caFor(s.issuer) : undefined;
        const dir = join(out, s.out);
        const res = await initCa({
          dir, profile: dated(r, r.profile!), vars: s.variables ?? {}, now: r.notBefore, parent, participants: who,
          key: { kind: 'pkcs11', session: t.session, label: k.info.label, id: k.info.id, useExisting: true, expectedFingerprint: { sha256: k.info.publicKeyFingerprint, where: `ceremony ${p.ceremony.id}, step ${s.key}` }, pinEnv: t.env.pin_env },
          journalPreamble: [{ kind: 'ceremony.opened', facts: { ceremonyId: p.ceremony.id, purpose: p.ceremony.purpose, location: p.ceremony.location, rehearsal, planSha256: plan.sha256, planStep: s.id, record: join(out, 'journal.jsonl') } }],
        });
        cas.set(s.id, { dir, role: k.role });
        if (parent) issuedSerial.set(s.id, res.certificate.serial);
        return { outputs: [{ kind: 'ca-directory', path: s.out }, { kind: 'certificate', path: relative(out, res.certificate.path), sha256: sha256(readFileSync(res.certificate.path)) }], serial: res.certificate.serial };
      }
      case 'cross': {
        const ca = await caFor(s.issuer);
        const der = pemOrDer(readFileSync(r.input!.path), ['CERTIFICATE']);
        if (sha256(readFileSync(r.input!.path)) !== r.input!.sha256) throw new QpkiError('PLAN_INVALID', `The certificate ${s.certificate} changed since the plan was checked.`);
        const cert = AsnConvert.parse(der, Certificate);
        const spki = new Uint8Array(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo));
        const request = ca.prepareRequest({ profile: dated(r, r.profile!), vars: s.variables ?? {}, spki, now: r.notBefore, source: `ceremony plan ${p.ceremony.id} step ${s.id} (cross-certificate)` });
        // A cross-certificate certifies the same subject under another issuer, byte for byte (path
        // building compares names as encoded); the plan's variables must name it too, so the
        // reviewers read the name that is certified.
        const attrs = (n: Name) => n.flatMap((rdn) => rdn.map((a) => `${a.type}=${a.value.toString()}`)).sort().join('\n');
        if (attrs(cert.tbsCertificate.subject) !== attrs(request.subject)) throw new QpkiError('PLAN_INVALID', `The cross-certificate's subject from the plan's variables (${request.subjectString}) is not the subject of ${s.certificate}; a cross-certificate names the same subject.`);
        const prepared = ca.fixCertificate({ ...request, subject: cert.tbsCertificate.subject }, ca.usedSerials());
        const issued = await ca.issuePrepared(prepared);
        issuedSerial.set(s.id, issued.serial);
        return { outputs: [certificateOutput(s.out, issued)], serial: issued.serial };
      }
      case 'csr': {
        const k = keys.get(s.key)!;
        const t = await tokenFor(k.role);
        const signer = t.session.signer(k.info);
        const { prepareSubject } = await import('../ca/authority');
        const { subject } = prepareSubject(r.profile!, s.variables ?? {});
        const der = await buildCsr({ subject, signer, signatureAlgorithm: defaultSignatureAlgorithm(signer.keyAlgorithm) });
        const o = writeOutput(s.out, toPem(der, 'CERTIFICATE REQUEST'), 'csr');
        journal.append('csr.created', { step: s.id, subject: r.subject, key: { token: t.session.token.label, label: k.info.label, id: k.info.id }, csrSha256: sha256(der), out: s.out });
        return { outputs: [o] };
      }
      case 'crl': {
        const ca = await caFor(s.issuer);
        for (const v of s.revoke ?? []) {
          const serial = v.step ? issuedSerial.get(v.step)! : v.serial!.toLowerCase();
          revokeInIndex(ca.dir, serial, v.reason, new Date(), who);
        }
        const crl = await ca.generateCrl({ days: s.nextUpdateDays });
        const o = writeOutput(s.out, crl.pem, 'crl');
        void n;
        return { outputs: [o] };
      }
    }
  };

  const total = p.steps.length;
  try {
    for (let i = 0; i < total; i++) {
      const r = plan.resolved[i];
      const n = i + 1;
      const words = stepWords(r);
      say(`Step ${n} of ${total}: ${words}`);
      journal.append('plan.step.started', { step: n, of: total, id: r.step.id, type: r.step.type, what: words });
      let done: { outputs: RunOutput[]; serial?: string };
      try {
        done = await runStep(r, n);
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
    manifest.completed = true;
  } finally {
    for (const c of cas.values()) await c.ca?.close();
    for (const t of tokens.values()) t.session.close();
    writeFileAtomic(join(out, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { createOnly: true });
    journal.append('ceremony.closed', { ceremonyId: p.ceremony.id, outcome: manifest.completed ? 'completed' : `stopped at step ${manifest.failed?.n ?? '?'} of ${total}`, stepsCompleted: manifest.steps.length, of: total, manifest: MANIFEST_FILE, manifestSha256: sha256(readFileSync(join(out, MANIFEST_FILE))) });
    syncPaths([out]);
  }
  return manifest;
}
