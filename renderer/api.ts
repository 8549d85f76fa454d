/** The renderer's only door to main: the named functions the preload exposed as `window.qpki`. */
import type { Channel, Input, Output, QpkiApi } from '../shared/contract';
import type { ErrorPayload } from '../shared/error-codes';

declare global {
  interface Window {
    qpki?: QpkiApi;
  }
}

export class UiError extends Error {
  readonly code: ErrorPayload['code'];
  constructor(payload: ErrorPayload) {
    super(payload.message);
    this.code = payload.code;
  }
}

let injected: QpkiApi | null = null;

/** Tests drive the store with an API object of their own (built from the same handler table). */
export function setApi(api: QpkiApi | null): void {
  injected = api;
}

function api(): QpkiApi {
  const a = injected ?? (typeof window !== 'undefined' ? window.qpki : undefined);
  if (!a) throw new UiError({ code: 'INTERNAL', message: 'The app bridge is missing: this page must run inside the QPKI Ceremony app.' });
  return a;
}

/** Call one contract function; failures become a UiError carrying the stable code. */
export async function call<C extends Channel>(name: C, input: Input<C>): Promise<Output<C>> {
  const fn = api()[name] as (i: Input<C>) => Promise<{ ok: true; value: Output<C> } | { ok: false; error: ErrorPayload }>;
  const r = await fn(input);
  if (!r.ok) throw new UiError(r.error);
  return r.value;
}

export function toPayload(e: unknown): ErrorPayload {
  if (e instanceof UiError) return { code: e.code, message: e.message };
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}
