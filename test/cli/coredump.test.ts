/**
 * A core taken while `qpki` waits at the passphrase prompt holds no memory, hence not the
 * passphrase typed so far. The run is on a pseudo-terminal (Python's pty), so the hidden prompt
 * is the real one; the core is the kernel's, made by SIGABRT, where this machine writes cores to
 * a file: it holds none of the process's memory, only the kernel's vDSO pages that every core
 * holds. A plain Node process in the same situation, without the filter, is the control: its
 * core holds its memory and the canary, so the empty core is the filter's doing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCliBuilt, QPKI } from './helpers';

const CANARY = 'CANARY-core-passphrase-7f3a9c';

/** Start `cmd` on a pty with cores allowed, wait for a prompt ending in ':', type `typed` (no Enter), read the filter, abort it. */
const AT_PROMPT = `
import os, pty, sys, time, select, json, resource, signal
cwd, typed, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(cwd)
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass
    os.execvp(cmd[0], cmd)
out, deadline = b'', time.time() + 40
while time.time() < deadline and not out.rstrip().endswith(b':'):
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
prompted = out.rstrip().endswith(b':')
filt = open('/proc/%d/coredump_filter' % pid).read().strip() if prompted else None
# The kernel's own pages in every process ([vdso], [vvar]…), which a core always holds: their start addresses.
special = [l.split('-')[0] for l in open('/proc/%d/maps' % pid).read().splitlines() if l.rstrip().endswith(('[vdso]', '[vvar]', '[vvar_vclock]', '[vsyscall]'))]
if prompted:
    os.write(fd, typed.encode())
    time.sleep(0.5)
os.kill(pid, signal.SIGABRT)
_, status = os.waitpid(pid, 0)
print(json.dumps({'prompted': prompted, 'filter': filt, 'special': special, 'screen': out.decode('utf8', 'replace'), 'cored': os.WIFSIGNALED(status) and os.WCOREDUMP(status)}))
`;

/** Where this machine puts a core: only a plain file name in the working directory is used here. */
function coreFilesHere(): string | null {
  const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  if (pattern.startsWith('|')) return null;
  if (pattern.includes('/') || /%[^p]/.test(pattern)) return null;
  return pattern;
}

/** The start addresses (hex) of the PT_LOAD segments of an ELF64 core that carry bytes. */
function dumpedSegments(core: Buffer): string[] {
  assert.equal(core.subarray(0, 4).toString('latin1'), '\x7fELF', 'not an ELF core');
  assert.equal(core[4], 2, 'not ELF64');
  const phoff = Number(core.readBigUInt64LE(0x20));
  const phentsize = core.readUInt16LE(0x36);
  const phnum = core.readUInt16LE(0x38);
  const out: string[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = core.readUInt32LE(at);
    const vaddr = core.readBigUInt64LE(at + 0x10);
    const filesz = core.readBigUInt64LE(at + 0x20);
    if (type === 1 && filesz > 0n) out.push(vaddr.toString(16));
  }
  return out;
}

let work: string;
const linux = process.platform === 'linux' && existsSync('/proc/self/coredump_filter');
const pattern = linux ? coreFilesHere() : null;
if (!linux) console.log(`[coredump] skipped: ${process.platform} has no /proc/<pid>/coredump_filter`);
else if (pattern === null) console.log(`[coredump] the core file checks are skipped: core_pattern "${readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim()}" does not write a core into the working directory (the filter itself is still checked)`);

function atPrompt(dir: string, cmd: string[]) {
  const r = spawnSync('python3', ['-c', AT_PROMPT, dir, CANARY, ...cmd], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), NODE_EXTRA_CA_CERTS: '' },
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { prompted: boolean; filter: string | null; special: string[]; screen: string; cored: boolean };
}

function theCore(dir: string): Buffer | null {
  const f = readdirSync(dir).find((n) => n === pattern || n.startsWith(`${pattern}.`));
  return f ? readFileSync(join(dir, f)) : null;
}

describe('no passphrase in a core of qpki', { skip: !linux && 'Linux only' }, () => {
  before(async () => {
    await ensureCliBuilt();
    work = mkdtempSync(join(tmpdir(), 'qpki-core-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('at the passphrase prompt the core dump filter is 0, and a core taken there holds no memory', () => {
    const dir = mkdtempSync(join(work, 'cli-'));
    const r = atPrompt(dir, [process.execPath, QPKI, 'ca', 'init', '--profile', 'ec/root-ca', '--var', 'cn=Core Test', '--dir', 'ca']);
    assert.ok(r.prompted, `no prompt came:\n${r.screen}`);
    assert.match(r.screen, /passphrase/i);
    assert.equal(r.filter, '00000000');
    if (pattern === null) return;
    assert.ok(r.cored, 'the aborted qpki dumped no core');
    const core = theCore(dir);
    assert.ok(core, 'no core file was written');
    // What the kernel always writes, the vDSO and its data pages, and nothing of the process's own memory.
    const special = new Set(r.special.map((a) => BigInt(`0x${a}`).toString(16)));
    assert.ok(special.size > 0, 'no [vdso] in the maps: the check below would prove nothing');
    assert.deepEqual(dumpedSegments(core).filter((a) => !special.has(a)), [], 'the core holds memory of the process');
    assert.equal(core.includes(CANARY), false, 'the typed passphrase is in the core');
  });

  test('the control: a Node process without the filter, in the same place, dumps its memory and the canary', { skip: pattern === null && 'no core file to read' }, () => {
    const dir = mkdtempSync(join(work, 'control-'));
    // It holds the canary and asks, as qpki does, then is aborted the same way.
    const script = `const held = Buffer.from(${JSON.stringify(Buffer.from(CANARY).toString('base64'))}, 'base64').toString('latin1'); process.stdout.write('Passphrase: '); process.stdin.setRawMode(true); process.stdin.on('data', () => held.length);`;
    const r = atPrompt(dir, [process.execPath, '-e', script]);
    assert.ok(r.prompted && r.cored, JSON.stringify(r));
    assert.notEqual(r.filter, '00000000');
    const core = theCore(dir);
    assert.ok(core);
    const special = new Set(r.special.map((a) => BigInt(`0x${a}`).toString(16)));
    assert.ok(dumpedSegments(core).filter((a) => !special.has(a)).length > 10, 'the control core holds little of its memory');
    assert.ok(core.includes(CANARY), 'the control core lacks the canary: the check above would prove nothing');
  });
});
