import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES as CORE_CODES } from '../electron/core/errors';
import { KEY_ALGORITHMS as CORE_ALGS } from '../electron/core/keys/algorithms';
import { ERROR_CODES, IPC_ERROR_CODES } from './error-codes';
import { CHANNELS, KEY_ALGORITHMS, contract } from './contract';
import { ERROR_WORDS } from '../renderer/error-words';

test('the IPC layer’s own codes never collide with core’s', () => {
  for (const c of IPC_ERROR_CODES) assert.equal((CORE_CODES as readonly string[]).includes(c), false);
});

test('the key algorithms are core’s', () => {
  assert.deepEqual([...KEY_ALGORITHMS], [...CORE_ALGS]);
});

test('every channel has a contract entry and every code has words', () => {
  assert.deepEqual(Object.keys(contract).sort(), [...CHANNELS].sort());
  for (const c of [...ERROR_CODES, ...IPC_ERROR_CODES]) {
    assert.ok(ERROR_WORDS[c]?.title && ERROR_WORDS[c]?.next, c);
  }
});

test('requests are strict: unknown fields are refused', () => {
  assert.equal(contract.login.input.safeParse({ pin: '123456' }).success, true);
  assert.equal(contract.login.input.safeParse({ pin: '123456', extra: 1 }).success, false);
  // The final PIN try is main's question, never a request field the renderer could set.
  assert.equal(contract.login.input.safeParse({ pin: '123456', confirmFinalTry: true }).success, false);
  assert.equal(contract.loadModule.input.safeParse({ path: '' }).success, false);
  assert.equal(contract.generateKey.input.safeParse({ algorithm: 'ec-p256', label: 'k', id: 'xyz' }).success, false);
});
