/**
 * Runs inside test/faults/opencryptoki-ns.sh, beside a private opencryptoki: walks the user PIN
 * of its software token through count low, final try and locked using the app's own handler
 * table, and prints what each request answered as one `RESULT {json}` line for
 * pin-states.test.ts to judge. Nothing here decides pass or fail.
 */
import * as pkcs11js from 'pkcs11js';
import { makeHarness } from './test-harness';

const LIB = process.argv[2];
const LABEL = 'OCK App Token';
const PIN = 'ock-1234';
const WRONG = 'wrong-00';

type R = { ok: boolean; value?: any; error?: { code: string; message: string } };
const h = makeHarness({ softhsmPath: null, devTokenDir: null });
const call = (name: keyof typeof h.handlers, input: unknown = {}) => h.handlers[name](input) as Promise<R>;
const steps: Array<{ step: string; ok: boolean; code?: string; message?: string; ms?: number; endedAt?: number; questions?: unknown[]; flags?: Record<string, boolean>; value?: unknown }> = [];
const PIN_FLAGS = ['userPinCountLow', 'userPinFinalTry', 'userPinLocked'] as const;

/** The token's PIN flags as listSlots shows them to the renderer. */
async function listedFlags(serial: string): Promise<Record<string, boolean>> {
  const s = await call('listSlots');
  const t = s.value.slots.find((x: any) => x.token?.serial === serial)?.token;
  return Object.fromEntries(PIN_FLAGS.map((k) => [k, !!t?.flags[k]]));
}

async function step(name: string, channel: keyof typeof h.handlers, input: unknown, serial: string | null, keep?: (v: any) => unknown) {
  const asked = h.confirmations.length;
  const started = Date.now();
  const r = await call(channel, input);
  const endedAt = Date.now();
  steps.push({
    step: name, ok: r.ok, code: r.error?.code, message: r.error?.message, ms: endedAt - started, endedAt,
    // The questions main asked the operator during this request, as the operator read them.
    questions: h.confirmations.slice(asked).map((c) => ({ kind: c.kind, title: c.title, facts: c.facts, action: c.action })),
    ...(serial ? { flags: await listedFlags(serial) } : {}),
    ...(r.ok && keep ? { value: keep(r.value) } : {}),
  });
  return r;
}

/** The public key objects with this CKA_ID, read with pkcs11js directly on the ceremony's session. */
function publicKeyAttributes(idHex: string) {
  const s = h.state.session!;
  s.lib.C_FindObjectsInit(s.handle, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') }]);
  const found = s.lib.C_FindObjects(s.handle, 10);
  s.lib.C_FindObjectsFinal(s.handle);
  const [modifiable, encrypt, wrap, verify, priv] = s.lib
    .C_GetAttributeValue(s.handle, found[0], [pkcs11js.CKA_MODIFIABLE, pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_WRAP, pkcs11js.CKA_VERIFY, pkcs11js.CKA_PRIVATE].map((type) => ({ type })))
    .map((a) => (a.value as Buffer)[0] === 1);
  return { modifiable, encrypt, wrap, verify, private: priv, count: found.length };
}

(async () => {
  await step('openCeremony', 'openCeremony', { operator: 'Alice Operator', witnesses: ['Bob Witness'], purpose: 'PIN states on opencryptoki' }, null);
  // The library as the operator picks it: main's open dialog (answered here), then its confirmation.
  h.answers.moduleFile = LIB;
  const picked = await call('chooseModuleFile');
  await step('loadModule', 'loadModule', { moduleId: picked.value.module.id }, null, (v) => v.manufacturer);
  const slots = await call('listSlots');
  const free = slots.value.slots.find((s: any) => s.tokenPresent && s.token && !s.token.flags.initialized);
  const init = await step('initToken', 'initToken', { slotId: free.slotId, label: LABEL, soPin: '87654321', userPin: PIN }, null, (v) => v.slot.token);
  const serial: string = init.value.slot.token.serial;
  await step('listSlots', 'listSlots', {}, serial, (v) => v.slots.find((s: any) => s.token?.serial === serial).token);
  await step('openToken', 'openToken', { serial }, serial);
  await step('wrong PIN 1', 'login', { pin: WRONG }, serial);
  await step('wrong PIN 2', 'login', { pin: WRONG }, serial);
  // A hostile renderer's own "confirmation" is no field of the request at all.
  await step('final try: the renderer confirms by itself', 'login', { pin: PIN, confirmFinalTry: true }, serial);
  h.answers.confirm = false;
  await step('right PIN, final try declined in main', 'login', { pin: PIN }, serial);
  h.answers.confirm = true;
  await step('right PIN, final try confirmed in main', 'login', { pin: PIN }, serial, (v) => ({ warnings: v.warnings, flags: v.token.flags }));
  const gen = await step('key generated once logged in', 'generateKey', { algorithm: 'rsa-2048', label: 'ock-app-key' }, serial, (v) => ({ algorithm: v.key.algorithm, verified: v.testSignature.verified, extractable: v.key.attributes.extractable }));
  steps.push({ step: 'public key attributes', ok: true, value: publicKeyAttributes(gen.value.key.id) });
  await step('the generated key chosen again', 'selectKey', { label: 'ock-app-key', id: gen.value.key.id }, serial, (v) => ({ verified: v.testSignature.verified, journal: v.journal }));
  // Opening the token again logs out and closes the first session; the ceremony goes on.
  await step('openToken again', 'openToken', { serial }, serial);
  await step('again wrong PIN 1', 'login', { pin: WRONG }, serial);
  await step('again wrong PIN 2', 'login', { pin: WRONG }, serial);
  await step('wrong PIN on the confirmed final try', 'login', { pin: WRONG }, serial);
  await step('locked: right PIN', 'login', { pin: PIN }, serial);
  await step('locked: listKeys', 'listKeys', {}, serial);
  const journal = await call('readJournal');
  steps.push({ step: 'journal', ok: journal.ok, value: journal.value.pending.map((p: any) => ({ kind: p.kind, code: p.facts.code ?? null, finalTry: p.facts.finalTry ?? null })) });
  const state = JSON.stringify({ pending: journal.value, steps });
  h.state.endCeremony();
  h.state.module?.finalize();
  process.stdout.write('RESULT ' + JSON.stringify({ steps, pinInOutput: state.includes(PIN) || state.includes(WRONG) }) + '\n');
})().catch((e) => {
  process.stderr.write(`pin-states child failed: ${e instanceof Error ? e.stack : String(e)}\nsteps so far: ${JSON.stringify(steps)}\n`);
  process.exit(1);
});
