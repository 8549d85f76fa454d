/**
 * A handler table beside opencryptoki, for the e2e tests: e2e/ock-bridge.cjs started inside a
 * private mount namespace with its own pkcsslotd (test/faults/opencryptoki-ns.sh), reached over
 * its stdin and stdout. The page's requests go there through App.route.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { inOpencryptokiNamespace, OCK_LIB } from '../test/opencryptoki-env';
import type { Confirmation } from '../electron/ceremony/confirmation';

export interface OckBridge {
  lib: string;
  invoke(channel: string, input: unknown): Promise<unknown>;
  /** The same, by function name, for test set-up. */
  call(name: string, input?: unknown): Promise<{ ok: boolean; value?: any; error?: { code: string; message: string } }>;
  /** Every question main asked the operator there (deps.confirm), in order. */
  confirmations(): Promise<Confirmation[]>;
  /** What the operator answers to main's next questions there. */
  answerConfirm(yes: boolean): Promise<void>;
  /** What the namespace script said (pkcsslotd started and stopped). */
  log(): string;
  close(): Promise<void>;
}

export async function startOckBridge(): Promise<OckBridge> {
  const [cmd, args] = inOpencryptokiNamespace([process.execPath, join(__dirname, 'ock-bridge.cjs')]);
  const child: ChildProcessWithoutNullStreams = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const waiting = new Map<number, (r: unknown) => void>();
  let next = 1;
  let ready!: () => void;
  const started = new Promise<void>((res, rej) => {
    ready = res;
    child.on('exit', (code) => rej(new Error(`the opencryptoki bridge exited (${code}) before it was ready: ${stderr.slice(-2000)}`)));
  });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as { ready?: boolean; id?: number; result?: unknown };
    if (m.ready) return ready();
    const done = waiting.get(m.id!);
    waiting.delete(m.id!);
    done?.(m.result);
  });
  await started;
  const send = (message: Record<string, unknown>) =>
    new Promise<unknown>((res) => {
      const id = next++;
      waiting.set(id, res);
      child.stdin.write(JSON.stringify({ id, ...message }) + '\n');
    });
  const invoke = (channel: string, input: unknown) => send({ channel, input: input === undefined ? {} : input });
  return {
    lib: OCK_LIB!,
    invoke,
    call: (name, input = {}) => invoke(`qpki:${name}`, input) as Promise<{ ok: boolean; value?: any; error?: { code: string; message: string } }>,
    confirmations: () => send({ control: 'confirmations' }) as Promise<Confirmation[]>,
    answerConfirm: async (yes) => { await send({ control: 'answer', input: { confirm: yes } }); },
    log: () => stderr,
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}
