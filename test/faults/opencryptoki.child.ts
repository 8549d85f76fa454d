/**
 * Runs inside test/faults/opencryptoki-ns.sh (a private opencryptoki with its software token).
 * Walks the user PIN through count-low, final-try and locked, through the engine and through the
 * CLI, and prints what happened as one `RESULT {json}` line for opencryptoki.test.ts to judge.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { QpkiError } from '../../electron/core/errors';
import { initToken, loadModule, type TokenFlags, type TokenSession } from '../../electron/core/pkcs11/index';

const LIB = process.argv[2];
const CLI = join(__dirname, '..', '..', 'bin', 'qpki.cjs');
const LABEL = 'OCK CA';
const PIN = 'ock-1234';
const WRONG = 'wrong-00';

type Step = { step: string; code?: string; message?: string; flags?: Partial<TokenFlags>; ok?: boolean; stdout?: string; stderr?: string; status?: number | null };
const steps: Step[] = [];
const pinFlags = (f: TokenFlags) => ({ userPinCountLow: f.userPinCountLow, userPinFinalTry: f.userPinFinalTry, userPinLocked: f.userPinLocked });

const mod = loadModule(LIB);
const slot = mod.listSlots().find((s) => s.tokenPresent && !s.token?.flags.initialized);
if (!slot) throw new Error('no uninitialized opencryptoki token');

async function login(step: string, pin: string, confirmFinalTry = false): Promise<void> {
  try {
    await session.login(pin, { confirmFinalTry });
    steps.push({ step, ok: true, flags: pinFlags(session.tokenState().flags) });
    session.logout();
  } catch (e) {
    if (!(e instanceof QpkiError)) throw e;
    steps.push({ step, code: e.code, message: e.message, flags: pinFlags(session.tokenState().flags) });
  }
}
function cli(step: string, args: string[]): void {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, OCK_PIN: PIN, OCK_WRONG: WRONG }, timeout: 120_000 });
  steps.push({ step, status: r.status, stdout: r.stdout, stderr: r.stderr, code: /error \[([A-Z_0-9]+)\]/.exec(r.stderr)?.[1], flags: pinFlags(session.tokenState().flags) });
}
const tok = ['--pkcs11-lib', LIB, '--pkcs11-token', LABEL];
let session: TokenSession;

void (async () => {
  const init = await initToken(mod, { slotId: slot.slotId, label: LABEL, soPin: '87654321', userPin: PIN });
  steps.push({ step: 'init', flags: pinFlags(init.token.flags), ok: init.token.flags.initialized });
  session = mod.openSession({ label: LABEL });
  await login('engine: wrong PIN 1', WRONG);
  await login('engine: wrong PIN 2', WRONG);
  await login('engine: final try not confirmed', PIN);
  cli('cli: final try without --force', ['key', 'list', ...tok, '--pkcs11-pin-env', 'OCK_PIN']);
  cli('cli: final try with --force, right PIN, key gen', ['--json', 'key', 'gen', '--algorithm', 'rsa-2048', '--pkcs11-key-label', 'ock-key', ...tok, '--pkcs11-pin-env', 'OCK_PIN', '--force']);
  cli('cli: wrong PIN 1', ['key', 'list', ...tok, '--pkcs11-pin-env', 'OCK_WRONG']);
  cli('cli: wrong PIN 2', ['key', 'list', ...tok, '--pkcs11-pin-env', 'OCK_WRONG']);
  cli('cli: wrong PIN on the final try with --force', ['key', 'list', ...tok, '--pkcs11-pin-env', 'OCK_WRONG', '--force']);
  await login('engine: locked, right PIN, confirmed', PIN, true);
  cli('cli: locked, right PIN, --force', ['key', 'list', ...tok, '--pkcs11-pin-env', 'OCK_PIN', '--force']);
  session.close();
  mod.finalize();
  process.stdout.write('RESULT ' + JSON.stringify({ module: LIB, steps }) + '\n');
})();
