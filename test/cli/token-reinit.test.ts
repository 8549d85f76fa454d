/**
 * A hostile (or careless) command-line user against an initialized SoftHSM2 token holding a CA
 * key: `token init --slot N` refuses it before asking for any PIN; `--reinitialize` needs the
 * token's current label and its SO PIN (checked before anything is destroyed); every refusal is
 * in the --journal-dir record. pkcs11-tool, not our code, says whether the key is still there.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ensureCliBuilt, errorLine, makeLab, ok, PIN_ENV, sh, SO_PIN, SOFTHSM_LIB, tokenArgs, USER_PIN, type Lab } from './helpers';
import { readJournal, verifyJournal } from '../../electron/core/journal/journal';

let lab: Lab;
const NEW_USER = 'new-user-canary-71c2d9';
const WRONG_SO = 'wrong-so-canary-0b5e8f';
const env = { NEW_USER, RIGHT_SO: SO_PIN, WRONG_SO };

before(async () => {
  await ensureCliBuilt();
  lab = makeLab();
  ok(lab.run(['key', 'gen', ...tokenArgs(), '--algorithm', 'ec-p256', '--pkcs11-key-label', 'root-key'], PIN_ENV));
});
after(() => lab?.cleanup());

function keysOnToken(label: string, pin: string): string {
  const r = sh('pkcs11-tool', ['--module', SOFTHSM_LIB, '--token-label', label, '--login', '--pin', pin, '--list-objects', '--type', 'privkey'], { env: lab.env });
  return r.code === 0 ? r.stdout : `pkcs11-tool failed: ${r.stderr}`;
}

function slotOfCaToken(): string {
  return new RegExp(`slot (\\d+): token "CA Token"`).exec(ok(lab.run(['token', 'list', '--pkcs11-lib', SOFTHSM_LIB])))![1];
}

test('token init on an initialized token: refused without --reinitialize, with the wrong label, with the wrong SO PIN; journaled; the key survives until it is done deliberately', () => {
  const slot = slotOfCaToken();
  const init = (args: string[]) => lab.run(['--operator', 'Carol', '--witness', 'Dan', 'token', 'init', '--pkcs11-lib', SOFTHSM_LIB, '--slot', slot, '--label', 'Wiped', '--pin-env', 'NEW_USER', '--journal-dir', 'record', ...args], env);
  const keyThere = () => assert.match(keysOnToken('CA Token', USER_PIN), /label:\s+root-key/, 'the CA key is still on the token');

  let r = init(['--so-pin-env', 'RIGHT_SO']);
  assert.equal(errorLine(r).code, 'TOKEN_ALREADY_INITIALIZED');
  assert.match(errorLine(r).message, /"CA Token".*already initialized.*--reinitialize "CA Token"/);
  keyThere();

  r = init(['--so-pin-env', 'RIGHT_SO', '--reinitialize', 'Wiped']);
  assert.equal(errorLine(r).code, 'INPUT_INVALID');
  assert.match(errorLine(r).message, /type its current label exactly \("CA Token"\)/);
  keyThere();

  r = init(['--so-pin-env', 'WRONG_SO', '--reinitialize', 'CA Token']);
  assert.equal(errorLine(r).code, 'PIN_INCORRECT');
  assert.match(errorLine(r).message, /SO PIN is incorrect.*nothing on it was destroyed/);
  assert.match(r.stderr, /warning: re-initializing token "CA Token" \(serial [0-9a-f]+\): every key and object on it is destroyed/);
  keyThere();

  r = init(['--so-pin-env', 'RIGHT_SO', '--reinitialize', 'CA Token']);
  assert.match(ok(r), /Token "Wiped" re-initialized \(was "CA Token", serial [0-9a-f]+; everything on it was destroyed\)/);
  assert.doesNotMatch(keysOnToken('Wiped', NEW_USER), /root-key/, 'the key went with the re-initialization');

  const entries = readJournal(lab.path('record'));
  assert.equal(verifyJournal(lab.path('record')).ok, true);
  const tokenSteps = entries.filter((e) => e.kind.startsWith('token.'));
  assert.deepEqual(tokenSteps.map((e) => `${e.kind}:${(e.facts as { code?: string }).code ?? ''}`), [
    'token.init.failed:TOKEN_ALREADY_INITIALIZED', 'token.init.failed:INPUT_INVALID', 'token.init.failed:PIN_INCORRECT', 'token.initialized:',
  ]);
  for (const e of tokenSteps.slice(0, 3)) assert.equal((e.facts as { serial: string }).serial, lab.serial, 'each refusal names the token it protected');
  assert.equal((tokenSteps[3].facts as { previousSerial: string }).previousSerial, lab.serial);
  assert.equal(entries.every((e) => e.operator === 'Carol'), true);
  const text = readFileSync(lab.path('record', 'journal.jsonl'), 'utf8');
  for (const secret of [SO_PIN, USER_PIN, NEW_USER, WRONG_SO]) assert.equal(text.includes(secret), false, 'no PIN in the record');
});
