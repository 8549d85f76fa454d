/** Calling the app's handler table in node tests: the raw answer, or the value of one that must succeed. */
import assert from 'node:assert/strict';
import type { Harness } from './harness/test-harness';

export type Answer = { ok: boolean; value?: any; error?: { code: string; message: string } };

export interface Secrets {
  passphrase?: string;
  altPassphrase?: string;
}

export function handlerCalls(h: Harness) {
  const call = async (name: keyof Harness['handlers'], input: unknown = {}) => (await h.handlers[name](input)) as Answer;
  const ok = async (name: keyof Harness['handlers'], input: unknown = {}) => {
    const r = await call(name, input);
    assert.equal(r.ok, true, `${String(name)}: ${JSON.stringify(r.error)}`);
    return r.value;
  };
  /** A directory as the operator picks it: main's dialog (answered here) gives the id requests name. */
  const dirId = async (purpose: 'new-ca' | 'open-ca', path: string): Promise<string> => {
    h.answers.directory = path;
    const r = await ok('chooseDirectory', { purpose });
    h.answers.directory = null;
    return r.dirId as string;
  };
  /** A library as the operator picks it: main's open dialog, then main's confirmation (answered yes by default). */
  const loadLibrary = async (path: string) => {
    h.answers.moduleFile = path;
    const m = (await ok('chooseModuleFile')).module;
    h.answers.moduleFile = null;
    return ok('loadModule', { moduleId: m.id });
  };
  /** A new root CA in `dir`: prepared, then signed by the id main gave. */
  const root = async (profile: string, vars: Record<string, unknown>, dir: string, secrets: Secrets = {}) => {
    const req = await ok('previewCa', { profile, vars, dirId: await dirId('new-ca', dir) });
    return (await ok('sign', { requestId: req.id, ...secrets })).issued;
  };
  const openCa = async (dir: string) => ok('openCa', { dirId: await dirId('open-ca', dir) });
  /** A certificate from a request, issued by the open CA: prepared, then signed. */
  const issue = async (purpose: 'subordinate-ca' | 'end-entity', csrPem: string, profile: string, vars: Record<string, unknown>, secrets: Secrets = {}) => {
    const req = await ok('prepareIssue', { purpose, csrPem, profile, vars });
    return (await ok('sign', { requestId: req.id, ...secrets })).issued;
  };
  /** The open CA's next CRL: prepared, then signed. */
  const crl = async (days: number, secrets: Secrets = {}) => {
    const req = await ok('prepareCrl', { days });
    const out = await ok('sign', { requestId: req.id, ...secrets });
    return { crl: out.crl, savedTo: out.savedTo };
  };
  /** Prepare a request and sign it, returning the raw answer of the signing (for refusals). */
  const signRaw = async (prepare: keyof Harness['handlers'], input: unknown, secrets: Secrets = {}) => {
    const req = await call(prepare, input);
    if (!req.ok) return req;
    return call('sign', { requestId: req.value.id, ...secrets });
  };
  return { call, ok, dirId, loadLibrary, root, openCa, issue, crl, signRaw };
}

/**
 * A witness's confirmation of the preflight, as the preflight screen sends it: the reference time
 * read now (the test's clock is the reference) and the reason for going on despite the warnings
 * this machine gives (its network interface is up).
 */
export function preflightConfirmation(witness: string): { witness: string; referenceTime: string; justification: string } {
  return { witness, referenceTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), justification: 'Test machine: its container network link has no route out.' };
}
