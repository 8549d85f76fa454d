/**
 * Runs inside test/faults/opencryptoki-ns.sh, beside a private opencryptoki whose software token
 * counts wrong SO PINs (count low, final try, locked). A token holding a key is attacked with
 * re-initializations: through the app's handler table (main's questions answered by the
 * harness) and through the command line. Prints what each step answered, the SO PIN flags after
 * it, and whether the key and the user PIN survived, as one `RESULT {json}` line for
 * so-pin-states.test.ts to judge. Nothing here decides pass or fail.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeHarness } from './test-harness';
import { readJournal } from '../../electron/core/journal/journal';

const LIB = process.argv[2];
const CLI = join(__dirname, '..', '..', 'bin', 'qpki.cjs');
const LABEL = 'OCK SO Token';
const SO = '87654321';
const WRONG_SO = 'wrongso1';
const PIN = 'ock-1234';
const NEW_USER = 'newu-987';

type R = { ok: boolean; value?: any; error?: { code: string; message: string } };
const h = makeHarness({ softhsmPath: null, devTokenDir: null });
const call = (name: keyof typeof h.handlers, input: unknown = {}) => h.handlers[name](input) as Promise<R>;
const steps: Array<Record<string, unknown>> = [];
const record = mkdtempSync(join(tmpdir(), 'qpki-so-record-'));

async function soFlags(): Promise<Record<string, boolean>> {
  const s = await call('listSlots');
  const t = s.value.slots.find((x: any) => x.token?.flags.initialized)?.token;
  return { soPinCountLow: !!t?.flags.soPinCountLow, soPinFinalTry: !!t?.flags.soPinFinalTry, soPinLocked: !!t?.flags.soPinLocked, initialized: !!t?.flags.initialized, label: t?.label };
}

async function slotId(): Promise<string> {
  const s = await call('listSlots');
  return s.value.slots.find((x: any) => x.token?.flags.initialized).slotId;
}

async function app(step: string, soPin: string, answer: typeof h.answers.confirm) {
  h.answers.confirm = answer;
  const asked = h.confirmations.length;
  const r = await call('initToken', { slotId: await slotId(), label: 'Wiped', soPin, userPin: NEW_USER, reinitialize: true, confirmLabel: LABEL });
  steps.push({ step, ok: r.ok, code: r.error?.code, message: r.error?.message, questions: h.confirmations.slice(asked), flags: await soFlags() });
}

async function cli(step: string, soEnv: 'SO_RIGHT' | 'SO_WRONG', extra: string[]) {
  const r = spawnSync(process.execPath, [CLI, '--operator', 'Carol', '--witness', 'Dan', 'token', 'init', '--pkcs11-lib', LIB, '--slot', await slotId(), '--label', 'Wiped', '--so-pin-env', soEnv, '--pin-env', 'NEW_USER', '--reinitialize', LABEL, '--journal-dir', record, ...extra], {
    encoding: 'utf8', env: { ...process.env, SO_RIGHT: SO, SO_WRONG: WRONG_SO, NEW_USER }, timeout: 60_000,
  });
  if (process.env.SO_DEBUG) process.stderr.write(r.stderr);
  steps.push({ step, status: r.status, stderr: r.stderr, stdout: r.stdout, code: /error \[([A-Z_0-9]+)\]/.exec(r.stderr)?.[1], flags: await soFlags() });
}

/** The user PIN still opens the token and the key is still there: nothing was wiped. */
async function survived(step: string) {
  await call('openToken', { serial: token.serial });
  const login = await call('login', { pin: PIN });
  const keys = login.ok ? await call('listKeys') : null;
  steps.push({ step, ok: login.ok, code: login.error?.code, keys: keys?.value?.keys.map((k: any) => k.label) ?? null, flags: await soFlags() });
}

let token: { serial: string };
(async () => {
  await call('openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'SO PIN states on opencryptoki' });
  // The library as the operator picks it: main's open dialog (answered here), then its confirmation.
  h.answers.moduleFile = LIB;
  const picked = await call('chooseModuleFile');
  await call('loadModule', { moduleId: picked.value.module.id });
  const slots = await call('listSlots');
  const free = slots.value.slots.find((s: any) => s.tokenPresent && s.token && !s.token.flags.initialized);
  const init = await call('initToken', { slotId: free.slotId, label: LABEL, soPin: SO, userPin: PIN });
  token = init.value.slot.token;
  await call('openToken', { serial: token.serial });
  await call('login', { pin: PIN });
  const gen = await call('generateKey', { algorithm: 'rsa-2048', label: 'ock-ca-key' });
  steps.push({ step: 'key', ok: gen.ok, code: gen.error?.code, flags: await soFlags() });
  // The ceremony session stays open: the first re-initialization closes it before the SO PIN goes.
  await app('app: wrong SO PIN 1', WRONG_SO, true);
  await app('app: wrong SO PIN 2', WRONG_SO, true);
  // Yes to destroying the token, no to spending the SO PIN's last try.
  await app('app: SO final try, declined in main', SO, (c) => c.kind !== 'final-pin-try');
  await cli('cli: SO final try without --force', 'SO_RIGHT', []);
  await cli('cli: wrong SO PIN on the final try with --force', 'SO_WRONG', ['--force']);
  await app('app: SO locked, right SO PIN, yes', SO, true);
  await cli('cli: SO locked, right SO PIN, --force', 'SO_RIGHT', ['--force']);
  await survived('user PIN and key after all that');
  const j = await call('readJournal');
  steps.push({ step: 'app journal', value: j.value.pending.filter((e: any) => e.kind.startsWith('token.init')).map((e: any) => ({ kind: e.kind, code: e.facts.code ?? null, answers: e.facts.answers ?? null })) });
  steps.push({ step: 'cli journal', value: readJournal(record).map((e) => ({ kind: e.kind, code: (e.facts as any).code ?? null, answers: (e.facts as any).answers ?? null })) });
  h.state.endCeremony();
  h.state.module?.finalize();
  const all = JSON.stringify({ steps, journal: readJournal(record) });
  process.stdout.write('RESULT ' + JSON.stringify({ steps, pinInOutput: [SO, WRONG_SO, PIN, NEW_USER].some((p) => all.includes(p)) }) + '\n');
})().catch((e) => {
  process.stderr.write(`so-pin child failed: ${e instanceof Error ? e.stack : String(e)}\nsteps so far: ${JSON.stringify(steps)}\n`);
  process.exit(1);
});
