/**
 * The handler table: one function per contract channel. Each validates its input with the
 * contract, calls the ceremony layer and core, and validates its answer before it leaves;
 * failures become `{ ok:false, error:{code,message} }`. No `electron` import: ipc.ts registers
 * this table, and the e2e bridge drives the very same table over Playwright. The channels are
 * grouped by what they touch: handlers/token-handlers.ts, ceremony-handlers.ts, ca-handlers.ts.
 */
import { existsSync } from 'node:fs';
import type { z } from 'zod';
import { CHANNELS, contract, type Channel, type Result } from '../../shared/contract';
import { toErrorPayload } from '../core/errors';
import { KNOWN_MODULE_PATHS } from '../core/pkcs11';
import type { AppState } from '../ceremony/state';
import * as recovery from './token-recovery';
import { handlerContext, type HandlerDeps, type Impl } from './handlers/context';
import { tokenHandlers } from './handlers/token-handlers';
import { ceremonyHandlers } from './handlers/ceremony-handlers';
import { caHandlers } from './handlers/ca-handlers';

export type { HandlerDeps } from './handlers/context';
export type Handler = (input: unknown) => Promise<Result<unknown>>;
export type Handlers = Record<Channel, Handler>;

/** The first SoftHSM2 library present on this machine, or null. */
export function findSoftHsm(): string | null {
  const env = process.env.QPKI_SOFTHSM_LIB;
  if (env && existsSync(env)) return env;
  const soft = KNOWN_MODULE_PATHS.find((v) => v.vendor.startsWith('SoftHSM2'));
  return soft?.paths.find((p) => existsSync(p)) ?? null;
}

/** A field name as it may be shown: names come from the request too, so odd ones are not echoed. */
function fieldName(k: PropertyKey): string {
  const t = String(k);
  return /^[A-Za-z_][A-Za-z0-9_-]{0,39}$/.test(t) || /^\d{1,6}$/.test(t) ? t : '(unnamed)';
}

/** Zod's complaint in words, naming the fields but never echoing a value (it may be a PIN). */
function inputProblem(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((i) => {
    const where = i.path.map(fieldName).join('.') || 'request';
    if (i.code === 'unrecognized_keys') return `${where}: unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.slice(0, 5).map(fieldName).join(', ')}`;
    const m = i.message.length > 120 ? `${i.message.slice(0, 117)}...` : i.message;
    return `${where}: ${m}`;
  });
  return `The request was refused: ${parts.join('; ')}.`;
}

export function createHandlers(state: AppState, deps: HandlerDeps): Handlers {
  const h = handlerContext(state, deps);
  const impl: Impl = { ...tokenHandlers(h), ...ceremonyHandlers(h), ...caHandlers(h) };
  return serialized(impl, state, h.record);
}

/**
 * Each channel's function wrapped: input checked against the contract, one call at a time, a
 * token that stopped answering dropped, the answer checked against the contract before it leaves.
 */
function serialized(impl: Impl, state: AppState, record: ReturnType<typeof handlerContext>['record']): Handlers {
  // Calls are serialized: a token session is one conversation, and so is the CA directory.
  let queue: Promise<unknown> = Promise.resolve();
  const handlers = {} as Handlers;
  for (const name of CHANNELS) {
    const entry = contract[name];
    const run = impl[name] as (input: unknown) => unknown;
    handlers[name] = (raw: unknown) => {
      const job = queue.then(async (): Promise<Result<unknown>> => {
        // Only a missing argument means "no fields"; null, strings, arrays are refused like any bad input.
        const parsed = entry.input.safeParse(raw === undefined ? {} : raw);
        if (!parsed.success) return { ok: false, error: { code: 'INPUT_INVALID', message: inputProblem(parsed.error) } };
        let out: unknown;
        const before = { session: state.session, module: state.module };
        try {
          out = await run(parsed.data);
        } catch (e) {
          // A token that stopped answering: its session is dropped here, whatever the request was.
          let err = e;
          try {
            err = recovery.onFailure(state, { channel: name, input: parsed.data, ...before }, e, record);
          } catch { /* the original error still says what failed */ }
          return { ok: false, error: toErrorPayload(err) };
        }
        const checked = entry.output.safeParse(out);
        if (!checked.success) {
          return { ok: false, error: { code: 'RESPONSE_INVALID', message: `The answer to ${name} did not match the contract: ${inputProblem(checked.error)}` } };
        }
        return { ok: true, value: checked.data };
      });
      queue = job.catch(() => undefined);
      return job;
    };
  }
  return handlers;
}
