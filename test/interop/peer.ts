/**
 * The real QPKI (github remiblancher/qpki) as a peer: the binary in ../shared/peers/qpki/ beside
 * the repository (never through PATH: its name is ours too). Tests that need it skip, with one
 * printed line, where it is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../cli-build';
import { transcript, type RunResult } from '../cli/helpers';

export const QPKI_PEER = resolve(ROOT, '..', 'shared', 'peers', 'qpki', 'qpki');

/** false when the peer is there, else the reason the interop tests skip (printed once). */
export function peerMissing(): string | false {
  if (existsSync(QPKI_PEER)) return false;
  const why = `the real QPKI is not at ${QPKI_PEER} (../shared/peers/qpki/qpki beside the repository)`;
  console.log(`skipping QPKI interop tests: ${why}`);
  return why;
}

/** Run the real QPKI; its output goes into the transcript the canary test searches for secrets. */
export function peer(args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string }): RunResult {
  const r = spawnSync(QPKI_PEER, args, { env: opts.env, cwd: opts.cwd, encoding: 'utf8', timeout: 60_000 });
  const out = { code: r.status, stdout: r.stdout, stderr: r.stderr };
  transcript.push(out);
  return out;
}

export function peerOk(r: RunResult): string {
  if (r.code !== 0) throw new Error(`real QPKI failed (exit ${r.code}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** The serials of index.txt, as written (field 4). */
export function indexSerials(dir: string): string[] {
  const p = join(dir, 'index.txt');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[3]);
}

/** The serial numbers of the certificate files in certs/ (names, without .crt). */
export function certFileSerials(dir: string): string[] {
  return readdirSync(join(dir, 'certs')).filter((f) => f.endsWith('.crt')).map((f) => f.slice(0, -4));
}

/** The CA certificate QPKI or ours wrote for the active version (Catalyst: QPKI's name). */
export function activeCaCert(dir: string): string {
  const meta = JSON.parse(readFileSync(join(dir, 'ca.meta.json'), 'utf8')) as { active: string };
  const certs = join(dir, 'versions', meta.active, 'certs');
  const files = readdirSync(certs).filter((f) => f.endsWith('.pem'));
  return join(certs, files.find((f) => f.includes('catalyst')) ?? files[0]);
}
