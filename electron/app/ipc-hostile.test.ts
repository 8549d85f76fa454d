/**
 * Hostile input on every contract channel: wrong types, missing fields, extra fields, oversized
 * strings and arrays, deeply nested objects. Main's validation must refuse each with
 * INPUT_INVALID (never INTERNAL, never a crash), quickly, and nothing may be written.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSoftHsmStore, SOFTHSM_LIB } from '../../test/softhsm';
import { makeHarness } from '../../test/harness/test-harness';
import { CHANNELS, type Channel } from '../../shared/channels';
import { contract } from '../../shared/contract';
import { preflightConfirmation } from '../../test/handler-calls';

const store = makeSoftHsmStore();
process.env.SOFTHSM2_CONF = store.conf;
const work = mkdtempSync(join(tmpdir(), 'qpki-hostile-'));
const h = makeHarness({ softhsmPath: SOFTHSM_LIB, devTokenDir: store.dir, dataDir: work });
after(() => {
  h.state.endCeremony();
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const CA_DIR = join(work, 'ca');
const PEM = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';

/** A well-formed request per channel: each hostile variant changes one thing in it. */
export const VALID: Record<Channel, Record<string, unknown>> = {
  appInfo: {},
  knownModules: {},
  chooseModuleFile: {},
  loadModule: { moduleId: 'module-0123456789abcdef' },
  listSlots: {},
  tokenMechanisms: { slotId: '0' },
  initToken: { slotId: '0', label: 'x', soPin: 'so-pin-123456', userPin: 'user-pin-123456', reinitialize: true, confirmLabel: 'x' },
  prepareDevToken: {},
  openCeremony: { operator: 'Op', witnesses: ['W'], purpose: 'test' },
  closeCeremony: {},
  exportTranscript: {},
  openToken: { serial: '1234', label: 'x' },
  login: { pin: '123456' },
  reconnectToken: {},
  endSession: {},
  endAltSession: {},
  closeToken: {},
  confirmPreflight: { witness: 'W', referenceTime: '2027-01-15T09:30:00Z', justification: 'the witnesses agreed' },
  listKeys: {},
  keyAlgorithms: {},
  generateKey: { algorithm: 'ec-p256', label: 'k', id: '01' },
  selectKey: { label: 'k', id: '01' },
  useSoftwareKeystore: { algorithm: 'ec-p256' },
  listProfiles: {},
  getProfile: { name: 'ec/root-ca' },
  validateVariables: { profile: 'ec/root-ca', vars: { cn: 'x' } },
  previewCa: { profile: 'ec/root-ca', vars: { cn: 'x' }, dirId: 'dir-0123456789abcdef' },
  openCa: { dirId: 'dir-0123456789abcdef' },
  readCsr: { csrPem: PEM, profile: 'ec/issuing-ca' },
  prepareIssue: { purpose: 'subordinate-ca', csrPem: PEM, profile: 'ec/issuing-ca', vars: { cn: 'x' } },
  preparePlanCross: {},
  preparePlanCsr: { dirId: 'dir-0123456789abcdef', profile: 'ec/issuing-ca', vars: { cn: 'x' } },
  listIssued: {},
  revokeCertificate: { serial: '01', reason: 'superseded' },
  prepareCrl: { days: 7 },
  sign: { requestId: 'request-0123456789abcdef', passphrase: 'pass-phrase-1234' },
  withdrawRequest: { requestId: 'request-0123456789abcdef' },
  describeDocument: { data: PEM, encoding: 'pem' },
  verifyDocument: { document: { data: PEM, encoding: 'pem' }, againstOpenCa: true },
  exportCertificate: { path: join(CA_DIR, 'ca.crt'), format: 'pem' },
  chooseDirectory: { purpose: 'open-ca' },
  readJournal: {},
  openPlan: {},
  startPlan: { sha256: '0'.repeat(64) },
  planState: {},
  acknowledgeStep: { witness: 'W' },
  recordDeviation: { kind: 'skipped', note: 'a note long enough' },
};

const BIG = 'A'.repeat(10 * 1024 * 1024);
function deep(levels: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}
const DEEP = deep(10_000);
const LONG_ARRAY = Array.from({ length: 100_000 }, () => 'x');

/** Every hostile variant of one channel's request, each with a name for the failure message. */
export function hostileInputs(name: Channel): Array<[string, unknown]> {
  const valid = VALID[name];
  const out: Array<[string, unknown]> = [
    ['null', null], ['a string', 'x'], ['a number', 42], ['true', true], ['an array', [valid]],
    ['an extra field', { ...valid, extra: 1 }],
    ['a 10 MB extra field', { ...valid, [BIG.slice(0, 1000)]: BIG }],
    ['a deeply nested extra field', { ...valid, nested: DEEP }],
    ['__proto__ as a field', JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(valid).slice(1, -1) || '"x": 1'}}`)],
  ];
  for (const key of Object.keys(valid)) {
    const { [key]: _dropped, ...rest } = valid;
    const optional = contract[name].input.safeParse(rest).success;
    if (!optional) out.push([`without ${key}`, rest]);
    out.push([`${key} as a number`, { ...valid, [key]: 12345 }]);
    if (typeof valid[key] !== 'object') out.push([`${key} as an object`, { ...valid, [key]: { toString: 'x' } }]);
    out.push([`${key} deeply nested`, { ...valid, [key]: DEEP }]);
    out.push([`${key} as a long array`, { ...valid, [key]: LONG_ARRAY }]);
    if (typeof valid[key] === 'string') out.push([`${key} of 10 MB`, { ...valid, [key]: BIG }]);
    if (key === 'vars') {
      out.push(['vars with a 10 MB value', { ...valid, vars: { cn: BIG } }]);
      out.push(['vars with a long list value', { ...valid, vars: { cn: LONG_ARRAY } }]);
      out.push(['vars with 10 000 names', { ...valid, vars: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`v${i}`, 'x'])) }]);
      out.push(['vars with a 10 MB name', { ...valid, vars: { [BIG]: 'x' } }]);
    }
    if (key === 'witnesses') {
      out.push(['no witness', { ...valid, witnesses: [] }]);
      out.push(['an empty witness name', { ...valid, witnesses: ['  '] }]);
      out.push(['a witness name with a newline', { ...valid, witnesses: ['Bob\nforged line'] }]);
    }
    if (key === 'document') out.push(['document of 10 MB', { ...valid, document: { data: BIG, encoding: 'pem' } }]);
  }
  return out;
}

/** Every file under `dir` with its size and modification time: what "nothing written" compares. */
function snapshot(dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      out.set(p, `${st.size}:${st.mtimeMs}`);
    }
  };
  for (const d of dirs) walk(d);
  return out;
}

test('the valid samples are valid, so each variant tests one thing', () => {
  assert.deepEqual(Object.keys(VALID).sort(), [...CHANNELS].sort());
  for (const name of CHANNELS) {
    const r = contract[name].input.safeParse(VALID[name]);
    assert.equal(r.success, true, `${name}: ${JSON.stringify(!r.success && r.error.issues)}`);
  }
});

test('every channel refuses every hostile input with INPUT_INVALID and writes nothing', async () => {
  // A ceremony with a CA in progress, so a request that slipped through would have somewhere to write.
  const call = async (name: Channel, input: unknown) => h.handlers[name](input) as Promise<{ ok: boolean; value?: any; error?: { code: string; message: string } }>;
  assert.equal((await call('openCeremony', { operator: 'Op', witnesses: ['W'], purpose: 'hostile input' })).ok, true);
  assert.equal((await call('confirmPreflight', preflightConfirmation('W'))).ok, true);
  assert.equal((await call('useSoftwareKeystore', { algorithm: 'ec-p384' })).ok, true);
  h.answers.directory = CA_DIR;
  const target = await call('chooseDirectory', { purpose: 'new-ca' });
  const req = await call('previewCa', { profile: 'ec/root-ca', vars: { cn: 'Hostile Root' }, dirId: target.value.dirId });
  const signed = await call('sign', { requestId: req.value?.id, passphrase: 'pass-phrase-1234' });
  assert.equal(signed.ok, true, JSON.stringify(signed.error));
  const before = snapshot([work, store.dir]);
  const journalBefore = (await call('readJournal', {})).value;

  let count = 0;
  const slowest: [number, string] = [0, ''];
  for (const name of CHANNELS) {
    for (const [what, input] of hostileInputs(name)) {
      const t0 = performance.now();
      const r = await call(name, input);
      const ms = performance.now() - t0;
      if (ms > slowest[0]) { slowest[0] = ms; slowest[1] = `${name} ${what}`; }
      assert.equal(r.ok, false, `${name} accepted ${what}`);
      assert.equal(r.error!.code, 'INPUT_INVALID', `${name} ${what}: ${r.error!.code} ${r.error!.message.slice(0, 200)}`);
      assert.ok(r.error!.message.length < 600, `${name} ${what}: the refusal is short (${r.error!.message.length} chars)`);
      assert.equal(r.error!.message.includes('AAAAAAAAAA'), false, `${name} ${what}: the refusal does not echo the payload`);
      count += 1;
    }
  }
  assert.ok(count > 400, `${count} hostile requests`);
  console.log(`${count} hostile requests refused; slowest ${slowest[0].toFixed(1)} ms (${slowest[1]})`);
  assert.ok(slowest[0] < 2000, 'no hostile request takes long to refuse');
  assert.deepEqual(snapshot([work, store.dir]), before, 'no file was written, changed or removed');
  const journalAfter = (await call('readJournal', {})).value;
  assert.deepEqual(journalAfter, journalBefore, 'the journal and the held events are unchanged');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
  // Still serving: the table was not wedged by what it refused.
  assert.equal((await call('appInfo', undefined)).ok, true);
});
