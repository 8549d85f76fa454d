/** Calling the app's handler table in node tests: the raw answer, or the value of one that must succeed. */
import assert from 'node:assert/strict';
import type { Harness } from '../electron/test-harness';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Answer = { ok: boolean; value?: any; error?: { code: string; message: string } };

export function handlerCalls(h: Harness) {
  const call = async (name: keyof Harness['handlers'], input: unknown = {}) => (await h.handlers[name](input)) as Answer;
  const ok = async (name: keyof Harness['handlers'], input: unknown = {}) => {
    const r = await call(name, input);
    assert.equal(r.ok, true, `${String(name)}: ${JSON.stringify(r.error)}`);
    return r.value;
  };
  return { call, ok };
}
