/**
 * `npm run bench`: figures for the performance goals in the issues, printed as a table with
 * targets and PASS/MISS and written to bench-results.json. Not a test: a MISS is a finding to
 * act on, so the exit code is 0 unless the script itself breaks.
 *
 * Options: --sections=1,2,5   run only these sections
 *          --seconds=N        length of each rate measurement in section 1 (default 3)
 *          --runs=N           process runs per side in section 2 (default 10)
 *          --pairs=N          alternating pairs per command in section 7 (default 15)
 *          --load-total=N     issuances in section 5 (default 10000)
 *          --load-budget=S    stop section 5 before a block would pass S seconds (default 180)
 *          --load-full        run all of section 5 whatever it takes
 *
 * Needs SoftHSM2 (softhsm2), and for section 2 openssl with libengine-pkcs11-openssl. Each
 * section reports a one-line reason when something it needs is missing, and the rest still run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, platform, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Report, say } from './bench/report';
import type { BenchHsm } from './bench/hsm';

const ROOT = resolve(__dirname, '..');
const RESULTS = join(ROOT, 'bench-results.json');
const PROFILES = join(ROOT, 'bench-profiles');

function option(name: string): string | undefined {
  const hit = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (!hit) return undefined;
  return hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : 'true';
}

function numberOption(name: string, fallback: number): number {
  const v = option(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number, got "${v}"`);
  return n;
}

function filesystemOf(dir: string): string {
  try {
    return execFileSync('df', ['--output=fstype', dir], { encoding: 'utf8' }).trim().split('\n').pop() ?? '?';
  } catch {
    return '?';
  }
}

/** One line saying why a section could not run, without a stack trace for missing tools. */
function reason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

/**
 * One private token store for every token section; created lazily so sections 3 and 4 run even
 * where SoftHSM2 is missing. `opened` is the store if a section made it (to clean up at the end).
 */
function lazyHsm(): { needHsm: () => Promise<BenchHsm>; opened: () => BenchHsm | undefined } {
  let hsm: BenchHsm | undefined;
  let hsmError: unknown;
  const needHsm = async (): Promise<BenchHsm> => {
    if (hsm) return hsm;
    if (hsmError) throw hsmError;
    try {
      const { setupBenchHsm } = await import('./bench/hsm');
      hsm = setupBenchHsm();
      return hsm;
    } catch (e) {
      hsmError = e;
      throw e;
    }
  };
  return { needHsm, opened: () => hsm };
}

async function main(): Promise<void> {
  const only = option('sections')?.split(',').map((s) => s.trim());
  const wanted = (n: string) => !only || only.includes(n);
  const report = new Report();
  const started = performance.now();
  mkdirSync(PROFILES, { recursive: true });
  const env = {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: `${cpus()[0]?.model ?? '?'} × ${cpus().length}`,
    tmpdir: `${tmpdir()} (${filesystemOf(tmpdir())})`,
    date: new Date().toISOString(),
  };
  say(`qpki bench — node ${env.node}, ${env.platform}, ${env.cpu}, temp dir ${env.tmpdir}`);

  const { needHsm, opened } = lazyHsm();

  const section = async (id: string, title: string, run: () => Promise<void>) => {
    if (!wanted(id)) return;
    say(`\n[${id}] ${title}`);
    const t0 = performance.now();
    try {
      await run();
      report.note(`${id} ${title}`, 'ok');
      say(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      report.note(`${id} ${title}`, 'failed', reason(e));
      say(`  section not measured: ${reason(e)}`);
    }
  };

  await section('1', 'engine vs raw token (P-256)', async () => {
    const { benchEngineVsRaw } = await import('./bench/engineVsRaw');
    await benchEngineVsRaw(await needHsm(), report, { seconds: numberOption('seconds', 3), profileDir: PROFILES });
  });
  await section('2', 'one issuance as a process: qpki vs openssl', async () => {
    const { benchProcess } = await import('./bench/process');
    await benchProcess(await needHsm(), report, { runs: numberOption('runs', 10), profileDir: PROFILES });
  });
  await section('7', 'whole commands: ours vs the real QPKI, same token', async () => {
    const { benchPeer } = await import('./bench/peer');
    await benchPeer(await needHsm(), report, { pairs: numberOption('pairs', 15), profileDir: PROFILES });
  });
  await section('3', 'ML-DSA-65: noble vs liboqs-js vs the token', async () => {
    const { benchMlDsa } = await import('./bench/mldsa');
    await benchMlDsa(report);
  });
  await section('4', 'UI', async () => {
    const { benchUiSection } = await import('./bench/ui');
    await benchUiSection(report);
  });
  await section('6', 'path validation on x509-limbo', async () => {
    const { benchLimbo } = await import('./bench/limbo');
    await benchLimbo(report);
  });
  await section('5', 'load: many issuances in one session', async () => {
    const { benchLoad } = await import('./bench/load');
    const full = option('load-full') !== undefined;
    await benchLoad(await needHsm(), report, {
      total: numberOption('load-total', 10_000),
      block: 1000,
      budgetSec: full ? Infinity : numberOption('load-budget', 180),
    });
  });

  const hsm = opened();
  if (hsm) {
    try {
      const { finalizeAllModules } = await import('../electron/core/pkcs11/index');
      finalizeAllModules();
    } catch { /* the process ends anyway */ }
    hsm.cleanup();
  }
  const totalSec = (performance.now() - started) / 1000;
  say(`\nResults (${totalSec.toFixed(0)} s in all; profiles in ${PROFILES})\n`);
  say(report.table());
  report.writeJson(RESULTS, { environment: env, totalSeconds: totalSec });
  say(`\nwritten to ${RESULTS}`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
