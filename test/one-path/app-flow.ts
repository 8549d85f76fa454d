/**
 * The app's side of the one-code-path test, run as its own process (with deterministic.cjs
 * preloaded): a root, an issuing CA from a request and a CRL, through the handler table exactly
 * as the wizard calls it. Prints the paths of what it wrote as JSON. The PIN comes from the
 * environment variable the driver names, never from argv.
 */
import { readFileSync } from 'node:fs';
import { makeHarness } from '../harness/test-harness';
import { handlerCalls, preflightConfirmation } from '../handler-calls';

interface Args { lib: string; tokenSerial: string; pinEnv: string; keyLabel: string; rootDir: string; csr: string; rootCn: string; subCn: string; crlDays: number; dataDir: string }

async function run(a: Args): Promise<void> {
  const h = makeHarness({ softhsmPath: a.lib, devTokenDir: a.dataDir });
  const { ok, dirId, loadLibrary } = handlerCalls(h);
  await ok('openCeremony', { operator: 'One Path Operator', witnesses: ['One Path Witness'], purpose: 'one code path' });
  await ok('confirmPreflight', preflightConfirmation('One Path Witness'));
  await loadLibrary(a.lib);
  await ok('openToken', { serial: a.tokenSerial });
  await ok('login', { pin: process.env[a.pinEnv] });
  const key = (await ok('listKeys')).keys.find((k: { label: string }) => k.label === a.keyLabel);
  await ok('selectKey', { label: key.label, id: key.id });
  const root = await ok('previewCa', { profile: 'rsa/root-ca', vars: { cn: a.rootCn }, dirId: await dirId('new-ca', a.rootDir) });
  const r = (await ok('sign', { requestId: root.id })).issued;
  const sub = await ok('prepareIssue', { purpose: 'subordinate-ca', csrPem: readFileSync(a.csr, 'utf8'), profile: 'rsa/issuing-ca', vars: { cn: a.subCn } });
  const s = (await ok('sign', { requestId: sub.id })).issued;
  const crl = await ok('prepareCrl', { days: a.crlDays });
  const c = await ok('sign', { requestId: crl.id });
  await ok('closeCeremony');
  h.state.endCeremony();
  process.stdout.write(JSON.stringify({ root: r.savedTo, sub: s.savedTo, crl: c.savedTo }));
}

run(JSON.parse(process.argv[2]) as Args).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
