/**
 * The handler table's CA side: profiles, requests to sign, signing, revocation, documents.
 * A table of one short function per channel: its length is the number of channels, not one long procedure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { QpkiError } from '../../core/errors';
import { isMlDsa } from '../../core/keys/mldsa';
import { listProfiles, loadProfile, validateVariable, type VariableDef } from '../../core/profiles';
import * as revocation from '../../ceremony/revocation';
import * as caOps from '../../ceremony/ca-views';
import * as signing from '../../ceremony/signing';
import { csrFacts, suggestedVars } from '../../ceremony/csr';
import { prepareCsr } from '../../ceremony/plan-csr';
import { groupHex } from '../../core/journal/format';
import type { HandlerContext, Impl } from './context';

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

/**
 * The CA and signing channels' handlers, one entry per channel of the contract. Long because it is
 * that table; the signing rules each entry applies live in ceremony/ (signing.ts, plan-session.ts).
 */
// eslint-disable-next-line max-lines-per-function -- the handler table of the CA channels: one short entry per channel, kept together so each channel is found by name
export function caHandlers(h: HandlerContext): Pick<Impl, 'listProfiles' | 'getProfile' | 'validateVariables' | 'previewCa' | 'openCa' | 'readCsr' | 'prepareIssue' | 'preparePlanCross' | 'preparePlanCsr' | 'listIssued' | 'revokeCertificate' | 'prepareCrl' | 'sign' | 'withdrawRequest' | 'describeDocument' | 'verifyDocument' | 'exportCertificate' | 'chooseDirectory'> {
  const { state, deps, ceremony, ctx, plan, underPlan, rememberOpened, requireCeremony } = h;
  return {
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
        validityDays: p.validityDays,
        validityVariable: p.validityVariable ?? null,
      };
    },
    validateVariables: ({ profile, vars }) => ({ errors: validateVars(builtinProfile(profile).variables, vars) }),
    // A new CA: a self-signed root, or, when the plan's step is a subordinate from a key of the
    // plan, that CA certified by the CA an earlier step made (main reads which from the plan).
    previewCa: async ({ profile, vars, dirId }) => {
      const dir = resolve(state.capabilities.directory(dirId, 'new-ca'));
      const key = state.key?.kind === 'pkcs11' ? { label: state.key.label, id: state.key.id } : null;
      if (plan.isActive && plan.currentNewCa() === 'subordinate') {
        return underPlan(() => plan.beforeRequest({ type: 'new-subordinate', profile, vars, key, targetDir: dir }),
          (i) => signing.prepareRoot(ctx, builtinProfile(profile), vars, dir, plan.datesFor(i!), plan.issuerDirFor(i!)));
      }
      return underPlan(() => plan.beforeRequest({ type: 'root', profile, vars, key, targetDir: dir }),
        (i) => signing.prepareRoot(ctx, builtinProfile(profile), vars, dir, i === null ? undefined : plan.datesFor(i)));
    },
    openCa: ({ dirId }) => {
      // The ceremony writes to the CA's journal from now on: under the people it names, never none.
      requireCeremony('opening a CA directory');
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
        csr: { subject: f.subject, subjectAltNames: f.subjectAltNames, keyAlgorithm: f.keyAlgorithm, keyFingerprint: groupHex(f.keyFingerprint), signatureValid: true, sha256: groupHex(f.sha256), differences: [] },
        vars: suggestedVars(p, csr, f.subject),
      };
    },
    prepareIssue: async ({ purpose, csrPem, profile, vars, rootEndEntity }) => underPlan(
      // A plan issues CA certificates only (subordinate from a request file); an end entity is not a plan step.
      () => (purpose === 'subordinate-ca' ? plan.beforeRequest({ type: 'subordinate', profile, vars, csrPem, caDir: state.caDir }) : plan.beforeOther('an end-entity certificate')),
      (i) => {
        const dates = i === null ? undefined : plan.datesFor(i);
        return signing.prepareIssuance(ctx, { purpose, csrPem, profile: builtinProfile(profile), vars, ...(rootEndEntity ? { rootEndEntity } : {}), ...(dates ? { dates } : {}) });
      }),
    preparePlanCross: async () => {
      requireCeremony('preparing a cross-certificate');
      if (!plan.isActive) throw new QpkiError('PLAN_INVALID', 'A cross-certificate is prepared from a ceremony plan\'s step: open a plan and start it.');
      let step: ReturnType<typeof plan.beforeCross> | undefined;
      return underPlan(() => (step = plan.beforeCross(state.caDir)).i,
        (i) => signing.prepareCross(ctx, { ...step!.certificate, profile: step!.profile!, vars: step!.vars, dates: plan.datesFor(i!) }));
    },
    // A plan's request for an external parent: the key is the plan's key step's, the file the step's out under the output folder main's dialog gave.
    preparePlanCsr: async ({ dirId, profile, vars }) => {
      requireCeremony('preparing a certificate request');
      if (!plan.isActive) throw new QpkiError('PLAN_INVALID', 'A certificate request for an external parent is prepared from a ceremony plan\'s step: open a plan and start it.');
      const dir = state.capabilities.directory(dirId, 'plan-output');
      let step: ReturnType<typeof plan.beforeCsr> | undefined;
      return underPlan(() => (step = plan.beforeCsr({ profile, vars, dir })).i, async (i) => {
        signing.withdraw(state);
        const r = prepareCsr(state, { stepId: plan.active!.resolved[i!].step.id, profile: step!.profile ?? builtinProfile(profile), vars, key: step!.key, path: step!.path, out: step!.out });
        state.request = r;
        return r.view;
      });
    },
    listIssued: () => revocation.listIssued(state),
    // A plan revokes only in its CRL steps (prepareCrl does what the plan names); any other revocation during a plan is refused.
    revokeCertificate: ({ serial, reason }) => {
      requireCeremony('revoking a certificate');
      if (plan.isActive) plan.beforeOther('A revocation outside a CRL step');
      return revocation.revokeCertificate(ctx, serial, reason);
    },
    // A plan's CRL step first revokes what the plan names (resolved in main, each confirmed in main's dialog), then prepares the CRL that lists them.
    prepareCrl: ({ days }) => underPlan(() => plan.beforeRequest({ type: 'crl', days, caDir: state.caDir }), async (i) => {
      if (i !== null) await revocation.revokeForPlan(ctx, plan.revocationsFor(i));
      return signing.prepareCrlRequest(ctx, days);
    }),
    sign: async ({ requestId, passphrase, altPassphrase }) => {
      // A ceremony signs only once a witness has confirmed this computer: the clock against a
      // reference time, and the witnesses' reason for any preflight warning (BR 5.4.1, WebTrust).
      requireCeremony('signing');
      if (!ceremony.preflightConfirmed) {
        throw new QpkiError('PREFLIGHT_UNCONFIRMED', `Nothing was signed: a witness has not yet confirmed this computer's clock against a reference time${ceremony.preflightWarnings.length ? ', nor given the reason for going on despite the preflight warnings' : ''}. Do it on the preflight screen, then sign again.`);
      }
      // A new CA (root or subordinate made here) is what later plan steps name as issuer.
      const newCa = state.request?.id === requestId && state.request.kind === 'root';
      const out = await signing.signRequest(ctx, requestId, { passphrase: passphrase ?? null, altPassphrase: altPassphrase ?? null });
      if (plan.isActive) {
        plan.signed(requestId, out.kind === 'certificate'
          ? { made: [out.issued.savedTo], serial: out.issued.serial, certificateSha256: out.issued.certificate.sha256 }
          : { made: [out.savedTo] }, out.kind === 'certificate' && newCa ? out.issued.dir : undefined);
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
  };
}
