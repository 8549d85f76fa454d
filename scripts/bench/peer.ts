/**
 * Section 7: ours against the real QPKI (../shared/peers/qpki/qpki beside the repository), the
 * tool an operator would otherwise pick, doing the same job on the same SoftHSM2 token. Each tool
 * has its own CA of the same profile (its key in the bench token, through an hsm.yaml), and each
 * command runs as a whole process, the two tools alternating so that load from other processes
 * hits both alike. Target: ours ≤ 1.5 × QPKI by median wall time (first bar ≤ 2 ×).
 *
 * Timing: each child is started by bash's `time` keyword (TIMEFORMAT %3R %3U %3S): bash reads the
 * clock around its fork/exec/wait of the one child, and the CPU time is the child's rusage
 * (user + system, children it waited for included) with millisecond resolution. GNU time's %U/%S
 * print only hundredths, too coarse beside a 30 ms command; process.resourceUsage() is this
 * process's own. Bash's own start-up is outside both figures.
 *
 * The PIN: QPKI takes it only from the variable its hsm.yaml names (pin_env) or a prompt, so its
 * children get BENCH_PIN; ours reads it from a 0600 file (--pkcs11-pin-file) and gets no PIN
 * variable at all.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CpuProfile } from './profile';
import { bundleSourceMap, PROFILED_RUNS, summarizeCliProfiles } from './cliProfile';
import { median, say, type Report } from './report';
import * as pkcs11js from 'pkcs11js';
import { TOKEN_LABEL, type BenchHsm } from './hsm';

const SECTION = '7 ours vs QPKI';
const ROOT = resolve(__dirname, '..', '..');
const OURS = join(ROOT, 'bin', 'qpki.cjs');
const BUNDLE = join(ROOT, 'dist', 'cli.cjs');
/** The least a Node process can do to sign once in the token (tokenFloor.cjs says what it does). */
const TOKEN_FLOOR = join(__dirname, 'tokenFloor.cjs');
/** CI keeps ../shared beside the clone, as this machine does. */
export const QPKI_PEER = resolve(ROOT, '..', 'shared', 'peers', 'qpki', 'qpki');
const PROFILE = 'ec/root-ca';
const TARGET = 1.5;
const FIRST_BAR = 2;

interface Timed { wallMs: number; cpuMs: number }

/** One child under bash's `time`; the last stderr line is the timing, everything before it the child's. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, what: string): Timed {
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="@@time %3R %3U %3S"; time "$@"', 'bash', cmd, ...args], {
    env, cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw new Error(`${what}: ${r.error.message}`);
  const lines = r.stderr.trimEnd().split('\n');
  const m = /^@@time (\d+\.\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(lines[lines.length - 1] ?? '');
  if (r.status !== 0 || !m) {
    const said = (m ? lines.slice(0, -1) : lines).join('\n').trim() || r.stdout.trim();
    throw new Error(`${what} exited ${r.status}: ${said.split('\n').slice(-1)[0]}`);
  }
  return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 };
}

// eslint-disable-next-line max-lines-per-function -- a benchmark: set up both tools, measure in alternating pairs, print
export async function benchPeer(hsm: BenchHsm, report: Report, opts: { pairs: number; profileDir: string }): Promise<void> {
  if (!existsSync(QPKI_PEER)) {
    const line = `the real QPKI is not at ${QPKI_PEER} (../shared/peers/qpki/qpki beside the repository): comparison skipped`;
    say(`  ${line}`);
    report.note(SECTION, 'skipped', line);
    return;
  }
  if (!existsSync(BUNDLE)) throw new Error('dist/cli.cjs is missing: run `npm run build:cli` (npm ci does it)');
  const work = join(hsm.store.dir, 'peer');
  mkdirSync(work, { recursive: true });
  const hsmYaml = join(work, 'hsm.yaml');
  writeFileSync(hsmYaml, `type: pkcs11\npkcs11:\n  lib: ${hsm.lib}\n  token: "${TOKEN_LABEL}"\n  pin_env: BENCH_PIN\n`);
  // Ours reads an hsm.yaml's pin_env before any --pkcs11-pin-file, so its CA's file names none.
  const ourHsmYaml = join(work, 'ours-hsm.yaml');
  writeFileSync(ourHsmYaml, `type: pkcs11\npkcs11:\n  lib: ${hsm.lib}\n  token: "${TOKEN_LABEL}"\n`);
  const pinFile = join(work, 'pin.txt');
  writeFileSync(pinFile, hsm.pin + '\n', { mode: 0o600 });
  const theirEnv = { ...hsm.childEnv };
  const ourEnv = { ...hsm.childEnv };
  delete ourEnv.BENCH_PIN;
  const ourPin = ['--pkcs11-pin-file', pinFile];

  const ours = (args: string[], what: string) => timed(OURS, args, ourEnv, work, `ours ${what}`);
  const theirs = (args: string[], what: string) => timed(QPKI_PEER, args, theirEnv, work, `QPKI ${what}`);
  ours(['ca', 'init', '--profile', PROFILE, '--hsm-config', ourHsmYaml, '--key-label', 'ours-peer-ca', ...ourPin, '--var', 'cn=Bench Ours CA', '--dir', 'ours-ca'], 'ca init');
  theirs(['ca', 'init', '-P', PROFILE, '--hsm-config', hsmYaml, '--key-label', 'qpki-peer-ca', '--var', 'cn=Bench QPKI CA', '-d', 'qpki-ca'], 'ca init');

  // One CSR (software P-256 key) that both tools issue from, so only the issuance is timed.
  const csr = join(work, 'subject.csr');
  const o = spawnSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'subject.key'),
    '-subj', '/CN=peer.bench.example', '-addext', 'subjectAltName=DNS:peer.bench.example', '-out', csr], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (o.status !== 0) throw new Error(`openssl req (the CSR both tools issue from) failed: ${o.error?.message ?? o.stderr.trim().split('\n').pop()}`);

  // Our own session beside the children, only to destroy QPKI's subject keys between its runs.
  const { loadModule } = await import('../../electron/core/pkcs11/index');
  const mod = loadModule(hsm.lib);
  const slotSession = mod.openSession({ serial: hsm.serial });
  // Read-write, to destroy; logged in already through slotSession (login is per token and process).
  await slotSession.login(hsm.pin);
  const rw = mod.lib.C_OpenSession(slotSession.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  const dropSubjectKeys = () => {
    mod.lib.C_FindObjectsInit(rw, [{ type: pkcs11js.CKA_LABEL, value: 'qpki-peer-ca-0' }]);
    const found = mod.lib.C_FindObjects(rw, 16);
    mod.lib.C_FindObjectsFinal(rw);
    if (found.length === 0) throw new Error('QPKI\'s subject key (label qpki-peer-ca-0) is not on the token: its labelling changed');
    for (const h of found) mod.lib.C_DestroyObject(rw, h);
  };
  let n = 0;
  const subject = () => { const cn = `p${n++}.bench.example`; return ['--var', `cn=${cn}`, '--var', `dns_names=${cn}`]; };
  // `signs`: the command signs with the CA key in the token, so the token floor is timed beside it.
  const commands: { name: string; ours: () => string[]; theirs: () => string[]; afterTheirs?: () => void; signs?: true }[] = [
    {
      name: 'cert issue --csr',
      signs: true,
      ours: () => ['cert', 'issue', '--csr', csr, '-P', 'ec/tls-server', '-d', 'ours-ca', '-o', `ours-${n}.crt`, ...subject(), ...ourPin],
      theirs: () => ['cert', 'issue', '--csr', csr, '-P', 'ec/tls-server', '-d', 'qpki-ca', '-o', `qpki-${n}.crt`, ...subject()],
    },
    // QPKI generates the subject key of a CA in a token in that token (there is no software
    // choice), always labelled "<CA key label>-0" with the CA key's CKA_ID (its --key-label is
    // not applied), and its next enroll fails ("multiple keys found") while that key is there.
    // So both make the subject key in the token, and QPKI's is destroyed after each of its
    // runs, outside the timing (dropSubjectKeys).
    {
      name: 'credential enroll (key in token)',
      signs: true,
      ours: () => ['credential', 'enroll', '-d', 'ours-ca', '-c', 'ours-creds', '-P', 'ec/tls-server', '--key-in-token', '--key-label', `ours-sub-${n}`, ...subject(), ...ourPin],
      theirs: () => ['credential', 'enroll', '-d', 'qpki-ca', '-c', 'qpki-creds', '-P', 'ec/tls-server', ...subject()],
      afterTheirs: () => dropSubjectKeys(),
    },
    { name: 'crl gen', signs: true, ours: () => ['crl', 'gen', '-d', 'ours-ca', ...ourPin], theirs: () => ['crl', 'gen', '-d', 'qpki-ca'] },
    // Reads only: no PIN, no token login for either.
    { name: 'ca info', ours: () => ['ca', 'info', '-d', 'ours-ca'], theirs: () => ['ca', 'info', '-d', 'qpki-ca'] },
  ];

  const details: Record<string, { ours: Timed[]; qpki: Timed[] }> = {};
  for (const c of commands) {
    // A warm-up each: ours writes this command's code cache on its first run, as after install.
    const theirRun = () => { const t = theirs(c.theirs(), c.name); c.afterTheirs?.(); return t; };
    const a: Timed[] = [];
    const b: Timed[] = [];
    // Node starting and doing nothing, in the same pairs: the least any command on Node can take.
    const floor: Timed[] = [];
    // And Node signing once in the token with ours' CA key, doing nothing else.
    const tokenFloor: Timed[] = [];
    const floorArgs = [TOKEN_FLOOR, hsm.lib, TOKEN_LABEL, pinFile, 'ours-peer-ca'];
    try {
      ours(c.ours(), c.name);
      theirRun();
      for (let k = 0; k < opts.pairs; k++) {
        // Who goes first alternates too, so neither always runs right after the other's fsyncs.
        if (k % 2 === 0) { a.push(ours(c.ours(), c.name)); b.push(theirRun()); }
        else { b.push(theirRun()); a.push(ours(c.ours(), c.name)); }
        floor.push(timed(process.execPath, ['-e', '0'], { ...ourEnv, NODE_EXTRA_CA_CERTS: '' }, work, 'node -e 0'));
        if (c.signs) tokenFloor.push(timed(process.execPath, floorArgs, { ...ourEnv, NODE_EXTRA_CA_CERTS: '' }, work, 'the token floor (tokenFloor.cjs)'));
      }
    } catch (e) {
      // One command that cannot be compared must not hide the others' figures.
      const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
      say(`  ${c.name}: not measured: ${why}`);
      report.add({ section: SECTION, name: `${c.name}: not measured (reason below the table)`, value: null, unit: '' });
      report.note(SECTION, 'skipped', `${c.name}: ${why}`);
      continue;
    }
    details[c.name] = { ours: a, qpki: b };
    const ow = median(a.map((t) => t.wallMs));
    const qw = median(b.map((t) => t.wallMs));
    const oc = median(a.map((t) => t.cpuMs));
    const qc = median(b.map((t) => t.cpuMs));
    const ratio = Math.round((ow / qw) * 100) / 100;
    const fw = median(floor.map((t) => t.wallMs));
    say(`  ${c.name}: ours ${ow.toFixed(1)} ms wall / ${oc.toFixed(1)} ms CPU, QPKI ${qw.toFixed(1)} ms / ${qc.toFixed(1)} ms: ${ratio}× (median of ${opts.pairs} pairs); node -e 0 alone ${fw.toFixed(1)} ms = ${(fw / qw).toFixed(2)}× QPKI`);
    report.add({ section: SECTION, name: `${c.name}: ours, wall (median of ${a.length})`, value: ow, unit: 'ms' });
    report.add({ section: SECTION, name: `${c.name}: QPKI, wall (median of ${b.length})`, value: qw, unit: 'ms' });
    report.add({ section: SECTION, name: `${c.name}: ours, CPU of the child (user+sys)`, value: oc, unit: 'ms' });
    report.add({ section: SECTION, name: `${c.name}: QPKI, CPU of the child (user+sys)`, value: qc, unit: 'ms' });
    report.add({ section: SECTION, name: `${c.name}: CPU ours / QPKI`, value: Math.round((oc / qc) * 100) / 100, unit: '×' });
    report.add({ section: SECTION, name: `${c.name}: node -e 0 alone / QPKI (Node's floor, same pairs)`, value: Math.round((fw / qw) * 100) / 100, unit: '×' });
    if (tokenFloor.length) {
      const tw = median(tokenFloor.map((t) => t.wallMs));
      say(`    Node signing once in the token and nothing else (scripts/bench/tokenFloor.cjs) ${tw.toFixed(1)} ms = ${(tw / qw).toFixed(2)}× QPKI; ${TARGET}× QPKI is ${(TARGET * qw).toFixed(1)} ms`);
      report.add({ section: SECTION, name: `${c.name}: Node signing once in the token alone / QPKI (floor, same pairs)`, value: Math.round((tw / qw) * 100) / 100, unit: '×' });
    }
    report.check(SECTION, `${c.name}: wall ours / QPKI (first bar)`, ratio, '×', { atMost: FIRST_BAR });
    report.check(SECTION, `${c.name}: wall ours / QPKI`, ratio, '×', { atMost: TARGET });
  }
  mod.lib.C_CloseSession(rw);

  // Where ours spends each command. Through node itself for --cpu-prof, emptying
  // NODE_EXTRA_CA_CERTS as the bin's shebang does; the first profiled run writes the code cache
  // for these node flags, and the runs kept after it run with it, as the timed runs did.
  const profiles: Record<string, unknown> = {};
  const map = await bundleSourceMap();
  if ('missing' in map) say(`  bundled functions are named as minified below: ${map.missing}`);
  for (const c of commands) {
    if (!details[c.name]) continue;
    const slug = c.name.replace(/ \(.*\)$/, '').replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '');
    const profDir = join(opts.profileDir, slug);
    const profiled = () => {
      rmSync(profDir, { recursive: true, force: true });
      mkdirSync(profDir, { recursive: true });
      timed(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '200', OURS, ...c.ours()], { ...ourEnv, NODE_EXTRA_CA_CERTS: '' }, work, `ours ${c.name} (profiled)`);
    };
    const keep: CpuProfile[] = [];
    for (let k = 0; k <= PROFILED_RUNS; k++) {
      profiled();
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      // The first run writes the code cache for these node flags; the others run with it.
      if (file && k > 0) keep.push(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile);
    }
    if (!keep.length) continue;
    const summary = summarizeCliProfiles(keep, 'where' in map ? map.where : undefined, 'missing' in map ? map.missing : undefined);
    say(`  profiles of ${keep.length} runs of ours ${c.name} (the last in ${profDir}):`);
    for (const l of summary.lines) say('  ' + l);
    profiles[c.name] = summary;
    for (const [phase, ms] of Object.entries(summary.phases)) report.add({ section: SECTION, name: `${c.name} profile: ${phase}`, value: ms, unit: 'ms' });
    // The kinds of work within the command and the bundle's load that weigh (2 ms or more).
    const parts = [...Object.entries(summary.loading).map(([k, v]) => [`loading: ${k}`, v] as const), ...Object.entries(summary.command).map(([k, v]) => [`command: ${k}`, v] as const)];
    for (const [part, ms] of parts.filter(([, v]) => v >= 2).sort((x, y) => y[1] - x[1])) report.add({ section: SECTION, name: `  ${c.name} profile: ${part}`, value: ms, unit: 'ms' });
  }
  report.detail('cliProfiles', profiles);
  report.detail('peer', details);
}
