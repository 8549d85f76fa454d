/**
 * One builder for a plan's certificate request: `qpki ceremony run` and the app, given the same
 * plan, the same token key and the same variables, sign the same CertificationRequestInfo, byte
 * for byte (ECDSA signatures differ; RSA PKCS#1 v1.5 ones do not, so an RSA request is the same
 * file). The command line runs first as a child process and makes
 * the key; the app then walks the same plan on that token, using that key (a 'changed' deviation
 * of its key step), and makes the request itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { preflightConfirmation, handlerCalls } from '../../test/handler-calls';
import { ensureCliBuilt, ok as cliOk, qpki } from '../../test/cli/helpers';
import { parseAndVerifyCsr } from '../core/x509/csr';
import { createHash } from 'node:crypto';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const PIN = 'plan-csr-cli-pin-1234';
const serial = store.initToken('CSR RUN', 'plan-csr-cli-so-1234', PIN);
const work = mkdtempSync(join(tmpdir(), 'qpki-plan-csr-cli-'));
after(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});
before(async () => {
  await ensureCliBuilt();
});

const plan = (label: string, algorithm: string, profile: string) => `version: 1
ceremony: { id: CSR-ONE-BUILDER, purpose: The same request from the command line and the app, location: Test bench }
participants:
  - { name: Op, role: operator }
  - { name: Wit, role: witness }
steps:
  - { id: ext-key, type: key, token: ca, label: ${label}, algorithm: ${algorithm} }
  - { id: ext-csr, type: csr, key: ext-key, profile: ${profile}, variables: { cn: One Builder Issuing CA, organization: Example Corp., country: FR }, out: ext.csr }
`;

/**
 * The plan run by `qpki ceremony run` (which makes the key), then walked in the app on the same
 * token with that key: both requests, parsed and verified, and the app's review.
 */
async function bothWays(name: string, planText: string, label: string) {
  const dir = join(work, name);
  mkdirSync(dir);
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, planText);
  const envFile = join(dir, 'env.yaml');
  writeFileSync(envFile, `version: 1\ntokens:\n  ca:\n    type: pkcs11\n    pkcs11:\n      lib: ${SOFTHSM_LIB}\n      token: CSR RUN\n      pin_env: CSR_RUN_PIN\n`);
  cliOk(qpki(['ceremony', 'run', planFile, '--env', envFile, '--out', join(dir, 'run'), '--rehearsal'], { env: { ...store.env, CSR_RUN_PIN: PIN } }));
  const fromCli = parseAndVerifyCsr(readFileSync(join(dir, 'run', 'ext.csr')));

  mkdirSync(join(dir, 'data'));
  const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir, dataDir: join(dir, 'data') });
  const { ok, loadLibrary } = handlerCalls(h);
  try {
    h.answers.planFile = planFile;
    const { plan: shown } = await ok('openPlan');
    await ok('startPlan', { sha256: shown.sha256 });
    await ok('confirmPreflight', preflightConfirmation('Wit'));
    await loadLibrary(SOFTHSM_LIB);
    await ok('openToken', { serial });
    await ok('login', { pin: PIN });
    await ok('recordDeviation', { kind: 'changed', note: 'The key the command line run made, used again for the comparison.' });
    const key = (await ok('listKeys')).keys.find((k: { label: string }) => k.label === label);
    await ok('selectKey', { label: key.label, id: key.id });
    await ok('acknowledgeStep', { witness: 'Wit' });
    h.answers.directory = join(dir, 'app');
    const dirId = (await ok('chooseDirectory', { purpose: 'plan-output' })).dirId;
    const review = await ok('preparePlanCsr', { dirId, profile: shown.steps[1].profile, vars: shown.steps[1].values });
    const signed = await ok('sign', { requestId: review.id });
    const fromApp = parseAndVerifyCsr(readFileSync(signed.savedTo));
    await ok('acknowledgeStep', { witness: 'Wit' });
    await ok('closeCeremony');
    return { fromCli, fromApp, review };
  } finally {
    h.state.endCeremony();
  }
}

test('ECDSA: the app and `qpki ceremony run` make the same CertificationRequestInfo for the same plan, key and variables', async () => {
  const { fromCli, fromApp, review } = await bothWays('ecdsa', plan('ext-ec', 'ec-p256', 'ec/issuing-ca'), 'ext-ec');
  assert.equal(review.tbsSha256.replace(/ /g, ''), createHash('sha256').update(fromCli.info).digest('hex'), 'the review shows the hash of the command line\'s CertificationRequestInfo');
  assert.deepEqual(Buffer.from(fromApp.info), Buffer.from(fromCli.info), 'the same CertificationRequestInfo, byte for byte');
  assert.equal(fromApp.signatureAlgorithm, fromCli.signatureAlgorithm);
});

test('RSA (PKCS#1 v1.5 signatures are deterministic): the app and `qpki ceremony run` write the same request, signature included', async () => {
  const { fromCli, fromApp } = await bothWays('rsa', plan('ext-rsa', 'rsa-4096', 'rsa/issuing-ca'), 'ext-rsa');
  assert.deepEqual(Buffer.from(fromApp.der), Buffer.from(fromCli.der), 'the same DER, byte for byte');
});
