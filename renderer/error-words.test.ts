import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, IPC_ERROR_CODES } from '../shared/error-codes';
import { ERROR_WORDS, errorWords } from './error-words';

test('every error has words for the app, none of them a command-line flag, a command or a schema message', () => {
  for (const code of [...ERROR_CODES, ...IPC_ERROR_CODES]) {
    const w = errorWords(code, null);
    assert.ok(w.title && w.next, code);
    for (const flow of ['ceremony', 'init', 'ca'] as const) {
      const f = errorWords(code, { purpose: flow, screen: 'ca' });
      const text = `${f.title} ${f.next}`;
      assert.doesNotMatch(text, /(^|\s)--[a-z]/, `${code} in ${flow}: a CLI flag`);
      assert.doesNotMatch(text, /\bqpki\s+[a-z]/, `${code} in ${flow}: a qpki command`);
      assert.doesNotMatch(text, /\b(zod|Expected|Required|invalid_type)\b/, `${code} in ${flow}: schema words`);
    }
  }
});

test('the CA-directory flow, which has no PIN step, is not sent back to one', () => {
  assert.match(ERROR_WORDS.NOT_LOGGED_IN.next, /PIN step/);
  const ca = errorWords('NOT_LOGGED_IN', { purpose: 'ca', screen: 'issue' });
  assert.doesNotMatch(ca.next, /PIN step/);
  assert.match(ca.next, /CA screen/);
  // A flow with nothing better to say keeps the general words.
  assert.deepEqual(errorWords('PIN_INCORRECT', { purpose: 'ca', screen: 'ca' }), ERROR_WORDS.PIN_INCORRECT);
});
