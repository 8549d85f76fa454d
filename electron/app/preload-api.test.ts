import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApi } from './preload-api';
import { CHANNELS, ipcChannel } from '../../shared/channels';
import { contract } from '../../shared/contract';

test('the preload exposes exactly the contract functions, no generic invoke', () => {
  const api = buildApi(async () => null);
  assert.deepEqual(Object.keys(api).sort(), [...CHANNELS].sort());
  assert.deepEqual(Object.keys(api).sort(), Object.keys(contract).sort());
  for (const k of ['invoke', 'send', 'on', 'ipcRenderer', 'call']) assert.equal(k in api, false, k);
  assert.ok(Object.isFrozen(api));
  assert.equal(Object.getPrototypeOf(api), null);
});

test('each function sends one argument on its own channel', async () => {
  const sent: Array<[string, unknown]> = [];
  const api = buildApi(async (ch, input) => { sent.push([ch, input]); return { ok: true }; });
  await (api.loadModule as (a: unknown, b: unknown) => Promise<unknown>)({ path: '/x.so' }, 'extra');
  await api.listSlots();
  assert.deepEqual(sent, [[ipcChannel('loadModule'), { path: '/x.so' }], [ipcChannel('listSlots'), {}]]);
  assert.equal(ipcChannel('login'), 'qpki:login');
});
