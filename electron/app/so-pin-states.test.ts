/**
 * The SO PIN counters on a token that keeps them (opencryptoki's software token), under a
 * hostile re-initialization: through the handler table and the command line, the SO PIN is
 * checked by a counted SO login before anything is destroyed (opencryptoki does not count a
 * wrong SO PIN given to C_InitToken), the final try needs main's confirmation (--force on the
 * command line), and a locked SO PIN is refused without trying. The key survives all of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OCK_LIB, inOpencryptokiNamespace, opencryptokiUnavailable } from '../../test/opencryptoki-env';
import { ensureCliBuilt } from '../../test/cli-build';

const reason = opencryptokiUnavailable();
if (reason) console.log(`# SO PIN test on opencryptoki skipped: ${reason}`);

type Step = { step: string; ok?: boolean; code?: string; message?: string; status?: number; stderr?: string; questions?: Array<{ kind: string; title: string; facts: Array<{ label: string; value: string }> }>; flags: Record<string, unknown>; keys?: string[]; value?: any };

test('opencryptoki: wrong SO PINs count down, the final try is asked in main (--force on the CLI), locked is refused without trying; the key survives', { skip: reason, timeout: 180_000 }, async () => {
  await ensureCliBuilt();
  const [cmd, args] = inOpencryptokiNamespace([process.execPath, '--import', 'tsx', join(__dirname, '..', '..', 'test', 'harness', 'so-pin-states.child.ts'), OCK_LIB!]);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 170_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `the opencryptoki run produced no result (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  const { steps, pinInOutput } = JSON.parse(line.slice(7)) as { steps: Step[]; pinInOutput: boolean };
  const at = (name: string) => {
    const s = steps.find((x) => x.step === name);
    assert.ok(s, `step "${name}" ran`);
    return s;
  };
  const so = (low: boolean, final: boolean, locked: boolean) => ({ soPinCountLow: low, soPinFinalTry: final, soPinLocked: locked, initialized: true, label: 'OCK SO Token' });

  assert.equal(at('key').ok, true, at('key').code);
  assert.deepEqual(at('key').flags, so(false, false, false));

  let s = at('app: wrong SO PIN 1');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.message!, /Few SO PIN tries are left.*nothing on it was destroyed/);
  assert.deepEqual(s.questions!.map((q) => q.kind), ['reinitialize-token']);
  assert.deepEqual(s.flags, so(true, false, false), 'the wrong SO PIN was counted');

  s = at('app: wrong SO PIN 2');
  assert.match(s.message!, /One SO PIN try is left/);
  assert.deepEqual(s.flags, so(false, true, false));

  // The final try: main asks, after the re-initialization question; "no" sends nothing.
  s = at('app: SO final try, declined in main');
  assert.equal(s.code, 'PIN_FINAL_TRY');
  assert.match(s.message!, /no SO PIN was sent/);
  assert.deepEqual(s.questions!.map((q) => q.kind), ['reinitialize-token', 'final-pin-try']);
  assert.match(s.questions![1].title, /One SO PIN try is left on token “OCK SO Token”/);
  assert.ok(s.questions![1].facts.some((f) => f.label === 'PIN' && /security officer/.test(f.value)));
  assert.deepEqual(s.flags, so(false, true, false), 'still the final try: nothing reached the token');

  s = at('cli: SO final try without --force');
  assert.equal(s.status, 1);
  assert.equal(s.code, 'PIN_FINAL_TRY');
  assert.match(s.stderr!, /warning: re-initializing token "OCK SO Token"/);
  assert.deepEqual(s.flags, so(false, true, false));

  s = at('cli: wrong SO PIN on the final try with --force');
  assert.equal(s.code, 'PIN_INCORRECT');
  assert.match(s.stderr!, /The SO PIN is now locked/);
  assert.deepEqual(s.flags, so(false, false, true));

  s = at('app: SO locked, right SO PIN, yes');
  assert.equal(s.code, 'PIN_LOCKED');
  assert.match(s.message!, /No SO PIN was sent/);
  assert.deepEqual(s.questions, [], 'a locked SO PIN is refused before any question');
  s = at('cli: SO locked, right SO PIN, --force');
  assert.equal(s.code, 'PIN_LOCKED');
  assert.deepEqual(s.flags, so(false, false, true));

  s = at('user PIN and key after all that');
  assert.equal(s.ok, true, s.code);
  assert.deepEqual(s.keys, ['ock-ca-key'], 'the CA key is still on the token');

  const appJournal = at('app journal').value as Array<{ kind: string; code: string | null; answers: Record<string, string> | null }>;
  assert.deepEqual(appJournal.map((e) => `${e.kind}:${e.code}`), [
    'token.initialized:null', 'token.init.failed:PIN_INCORRECT', 'token.init.failed:PIN_INCORRECT', 'token.init.failed:PIN_FINAL_TRY', 'token.init.failed:PIN_LOCKED',
  ]);
  assert.deepEqual(appJournal[3].answers, { reinitialize: 'confirmed', soFinalTry: 'declined' });
  const cliJournal = (at('cli journal').value as Array<{ kind: string; code: string | null; answers: Record<string, string> | null }>).filter((e) => e.kind.startsWith('token.'));
  assert.deepEqual(cliJournal.map((e) => `${e.kind}:${e.code}`), ['token.init.failed:PIN_FINAL_TRY', 'token.init.failed:PIN_INCORRECT', 'token.init.failed:PIN_LOCKED']);
  assert.deepEqual(cliJournal[0].answers, { reinitialize: 'confirmed (--reinitialize)', soFinalTry: 'not confirmed (no --force)' });
  assert.equal(pinInOutput, false, 'no PIN in any answer, output or record');
  assert.match(r.stderr, /pkcsslotd \d+ stopped/);
});
