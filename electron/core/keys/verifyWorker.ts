/**
 * Signatures verified on one worker thread, handed over a few at a time. A batch of issuances
 * signs on this thread while the worker checks the signatures already made. libuv's thread pool
 * did the same job, one callback per signature: with 64 callers in flight on a 2-core machine,
 * waking its four threads for each signature cost this thread more than a tenth of an issuance.
 *
 * The worker runs node:crypto's `verify` with the key, hash and options `verify.ts` chose,
 * exactly as the synchronous path does. A worker that stops fails every verdict it owed (never a
 * pass), and the next signature starts a new one. Where no worker can start at all, the
 * signatures waiting for it are refused the same way, and verify.ts sends later ones to the
 * thread pool (workerUsable).
 */
import type { Worker } from 'node:worker_threads';
import { QpkiError } from '../errors';

export interface VerifyJob {
  spki: Uint8Array;
  /** node:crypto's digest name, or null (Ed25519). */
  hash: string | null;
  /** RSA padding and salt, or ECDSA's DER encoding: what node:crypto's verify takes beside the key. */
  options: { padding?: number; saltLength?: number; dsaEncoding?: 'der' | 'ieee-p1363' };
  data: Uint8Array;
  signature: Uint8Array;
}

/** The worker's whole program: plain CommonJS, so that it runs the same from the bundle, tsx and Electron. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
function keyOf(spki) {
  const id = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength).toString('base64');
  let key = keys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    if (keys.size >= 64) keys.delete(keys.keys().next().value);
    keys.set(id, key);
  }
  return key;
}
parentPort.on('message', ({ id, jobs }) => {
  const verdicts = jobs.map((j) => {
    try {
      return verify(j.hash, j.data, { key: keyOf(j.spki), ...j.options }, j.signature) === true;
    } catch {
      return false;
    }
  });
  parentPort.postMessage({ id, verdicts });
});
`;

/** Signatures handed over together: one message per group instead of one per signature. */
const GROUP = 4;

interface Waiting {
  resolve: (ok: boolean) => void;
  reject: (e: unknown) => void;
}

let worker: Worker | undefined;
/** Why no worker can start here, once one failed to. */
let unavailable: unknown;
let nextId = 0;
/** Groups sent and not answered yet, by message id. */
const sent = new Map<number, Waiting[]>();
/** Jobs not sent yet, and whether a send is scheduled for them. */
const queued: { job: VerifyJob; w: Waiting }[] = [];
let sendScheduled = false;

function stopped(e: unknown): QpkiError {
  return new QpkiError('INTERNAL', `The signature check stopped before it gave its verdict (${e instanceof Error ? e.message : String(e)}); nothing waiting for it was written.`);
}

function failAll(e: unknown): void {
  const why = stopped(e);
  worker = undefined;
  for (const group of sent.values()) for (const w of group) w.reject(why);
  sent.clear();
  for (const q of queued.splice(0)) q.w.reject(why);
}

function start(): Worker {
  const { Worker: WorkerClass } = require('node:worker_threads') as typeof import('node:worker_threads');
  const w = new WorkerClass(WORKER_SOURCE, { eval: true });
  w.on('message', (m: { id: number; verdicts: boolean[] }) => {
    const group = sent.get(m.id);
    sent.delete(m.id);
    group?.forEach((g, k) => g.resolve(m.verdicts[k] === true));
    // Idle, the worker must not keep the process alive.
    if (!sent.size && !queued.length) w.unref();
  });
  w.on('error', failAll);
  w.on('exit', (code) => {
    if (worker === w) failAll(new Error(`the verifying thread exited with code ${code}`));
  });
  return w;
}

function send(): void {
  sendScheduled = false;
  if (!queued.length) return;
  try {
    worker ??= start();
  } catch (e) {
    unavailable = e;
    failAll(e);
    return;
  }
  const group = queued.splice(0);
  const id = nextId++;
  sent.set(id, group.map((q) => q.w));
  worker.ref();
  worker.postMessage({ id, jobs: group.map((q) => q.job) });
}

/**
 * Whether `job.signature` verifies, decided on the worker thread. Jobs are sent GROUP at a
 * time, and whatever is left when this turn of the event loop ends.
 */
export function verifyOnWorker(job: VerifyJob): Promise<boolean> {
  return new Promise((resolve, reject) => {
    queued.push({ job, w: { resolve, reject } });
    if (queued.length >= GROUP) send();
    else if (!sendScheduled) {
      sendScheduled = true;
      setImmediate(send);
    }
  });
}

/** Whether a worker can be used here (false once one failed to start). */
export function workerUsable(): boolean {
  return unavailable === undefined;
}

/** Stop the worker now (tests: one that dies must fail what it owed). Resolves once it has exited. */
export async function stopVerifyWorker(): Promise<void> {
  await worker?.terminate();
}
