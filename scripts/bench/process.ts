/**
 * Section 2: one issuance as a whole process, the way an operator runs it: `qpki credential
 * enroll` (software subject key, CA key in the token) against `openssl req -x509` signing with
 * the same token key through the Debian PKCS#11 engine. Target: qpki ≤ 3 × OpenSSL (median).
 *
 * qpki is run as the executable bin/qpki.cjs, so its shebang applies as it does for an operator
 * (it empties NODE_EXTRA_CA_CERTS, which Node 20 otherwise loads at start-up). `node -e 0` is
 * timed both with the environment as given and without NODE_EXTRA_CA_CERTS: the floor Node sets.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleSourceMap, PROFILED_RUNS, summarizeCliProfiles } from './cliProfile';
import type { CpuProfile } from './profile';
import { median, say, type Report } from './report';
import { CA_PROFILE, TOKEN_LABEL, type BenchHsm } from './hsm';

const SECTION = '2 process vs openssl';
const ROOT = resolve(__dirname, '..', '..');
const QPKI = join(ROOT, 'bin', 'qpki.cjs');
const BUNDLE = join(ROOT, 'dist', 'cli.cjs');
const ENGINE = '/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so';
const TARGET_FACTOR = 3;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0]}`);
  return ms;
}

function which(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/**
 * OpenSSL through the Debian engine, same token and key, or why it cannot run. Its configuration
 * names the module; the PIN travels in the key URI (a throwaway token's PIN, never printed).
 */
function opensslRunner(hsm: BenchHsm, work: string, env: NodeJS.ProcessEnv, keyLabel: string): { openssl?: () => number; opensslMissing: string } {
  let openssl: (() => number) | undefined;
  let opensslMissing = '';
  if (!which('openssl')) opensslMissing = 'openssl is not installed (apt-get install openssl)';
  else if (!existsSync(ENGINE)) opensslMissing = `${ENGINE} is missing (apt-get install libengine-pkcs11-openssl)`;
  else {
    const conf = join(work, 'openssl.cnf');
    writeFileSync(conf, [
      'openssl_conf = openssl_init',
      '[openssl_init]', 'engines = engine_section',
      '[engine_section]', 'pkcs11 = pkcs11_section',
      '[pkcs11_section]', 'engine_id = pkcs11', `dynamic_path = ${ENGINE}`, `MODULE_PATH = ${hsm.lib}`, 'init = 0',
      '[req]', 'distinguished_name = dn', '[dn]', '',
    ].join('\n'));
    const osslEnv = { ...env, OPENSSL_CONF: conf, PKCS11_MODULE_PATH: hsm.lib };
    const uri = `pkcs11:token=${encodeURIComponent(TOKEN_LABEL)};object=${keyLabel};type=private?pin-value=${hsm.pin}`;
    let j = 0;
    openssl = () => run('openssl', ['req', '-new', '-x509', '-engine', 'pkcs11', '-keyform', 'engine', '-key', uri, '-subj', '/CN=x', '-days', '1', '-out', join(work, `ossl-${j++}.pem`)], osslEnv, 'openssl req -x509 (pkcs11 engine)');
  }
  return { openssl, opensslMissing };
}

export async function benchProcess(hsm: BenchHsm, report: Report, opts: { runs: number; profileDir: string }): Promise<void> {
  if (!existsSync(BUNDLE)) throw new Error('dist/cli.cjs is missing: run `npm run build:cli` (npm ci does it)');
  const env = { ...hsm.childEnv };
  const work = join(hsm.store.dir, 'process');
  mkdirSync(work, { recursive: true });
  const caDir = join(work, 'ca');
  const keyLabel = 'process-ca-key';
  const initMs = run(QPKI, ['ca', 'init', '--profile', CA_PROFILE, '--pkcs11-lib', hsm.lib, '--pkcs11-token', TOKEN_LABEL,
    '--pkcs11-pin-env', 'BENCH_PIN', '--pkcs11-key-label', keyLabel, '--var', 'cn=Bench Process CA', '--dir', caDir], env, 'qpki ca init');
  say(`  qpki ca init (token key generation included): ${initMs.toFixed(0)} ms`);
  report.add({ section: SECTION, name: 'qpki ca init (once, keygen in token)', value: initMs, unit: 'ms' });

  let i = 0;
  const enrollArgs = () => ['credential', 'enroll', '--ca-dir', caDir, '--profile', 'ec/tls-server', '--var', `cn=p${i++}.bench.example`,
    '--pkcs11-pin-env', 'BENCH_PIN', '--unencrypted-key', '--cred-dir', join(work, 'creds')];
  const qpki = () => run(QPKI, enrollArgs(), env, 'qpki credential enroll');

  const { openssl, opensslMissing } = opensslRunner(hsm, work, env, keyLabel);

  // One warm-up each (page cache, token files), then interleaved runs so drift hits both alike.
  qpki();
  openssl?.();
  const q: number[] = [];
  const o: number[] = [];
  for (let k = 0; k < opts.runs; k++) {
    q.push(qpki());
    if (openssl) o.push(openssl());
  }
  const version: number[] = [];
  const bare: number[] = [];
  const bareNoCerts: number[] = [];
  const noCerts = { ...env };
  delete noCerts.NODE_EXTRA_CA_CERTS;
  for (let k = 0; k < opts.runs; k++) {
    version.push(run(QPKI, ['--version'], env, 'qpki --version'));
    bare.push(run(process.execPath, ['-e', '0'], env, 'node -e 0'));
    bareNoCerts.push(run(process.execPath, ['-e', '0'], noCerts, 'node -e 0 (no NODE_EXTRA_CA_CERTS)'));
  }
  const qMed = median(q);
  report.add({ section: SECTION, name: `qpki credential enroll (median of ${q.length})`, value: qMed, unit: 'ms' });
  if (openssl) {
    const oMed = median(o);
    report.add({ section: SECTION, name: `openssl req -x509 via engine (median of ${o.length})`, value: oMed, unit: 'ms' });
    report.check(SECTION, 'qpki / openssl', Math.round((qMed / oMed) * 100) / 100, '×', { atMost: TARGET_FACTOR });
  } else {
    report.note(SECTION, 'skipped', `OpenSSL comparison skipped: ${opensslMissing}`);
    say(`  OpenSSL comparison skipped: ${opensslMissing}`);
  }
  const certsVar = env.NODE_EXTRA_CA_CERTS ? `NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS}` : 'NODE_EXTRA_CA_CERTS unset';
  report.add({ section: SECTION, name: 'qpki --version (startup)', value: median(version), unit: 'ms' });
  report.add({ section: SECTION, name: `node -e 0, environment as given (${certsVar})`, value: median(bare), unit: 'ms' });
  report.add({ section: SECTION, name: 'node -e 0 without NODE_EXTRA_CA_CERTS (the floor Node sets; qpki runs so)', value: median(bareNoCerts), unit: 'ms' });
  report.add({ section: SECTION, name: '  qpki start-up over that floor (--version − node -e 0)', value: median(version) - median(bareNoCerts), unit: 'ms' });
  report.add({ section: SECTION, name: '  enroll work (enroll − --version)', value: qMed - median(version), unit: 'ms' });
  report.detail('process', { enrollMs: q, opensslMs: o, versionMs: version, nodeMs: bare, nodeNoExtraCertsMs: bareNoCerts });

  // Where a whole enroll spends its time (always: the target is far from trivially met).
  const profDir = join(opts.profileDir, 'enroll');
  rmSync(profDir, { recursive: true, force: true });
  mkdirSync(profDir, { recursive: true });
  // Through node itself (for --cpu-prof), so NODE_EXTRA_CA_CERTS is emptied here as the shebang
  // does. The bin keeps one V8 code cache per set of Node flags: a first profiled run makes the
  // one for these flags, and the second, the one kept, runs with it as the timed runs did.
  const profiled = () => run(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '200', QPKI, ...enrollArgs()], { ...env, NODE_EXTRA_CA_CERTS: '' }, 'qpki credential enroll (profiled)');
  profiled();
  for (const f of readdirSync(profDir)) rmSync(join(profDir, f));
  for (let k = 0; k < PROFILED_RUNS; k++) profiled();
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length) {
    const map = await bundleSourceMap();
    const summary = summarizeCliProfiles(
      files.map((f) => JSON.parse(readFileSync(join(profDir, f), 'utf8')) as CpuProfile),
      'where' in map ? map.where : undefined,
      'missing' in map ? map.missing : undefined,
    );
    say(`  profiles of ${files.length} enrolls (${profDir}):`);
    for (const l of summary.lines) say('  ' + l);
    report.detail('enrollProfile', summary.phases);
    for (const [phase, ms] of Object.entries(summary.phases)) report.add({ section: SECTION, name: `  enroll profile: ${phase}`, value: ms, unit: 'ms' });
  }
}
