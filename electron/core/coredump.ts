/**
 * No secret in a core dump. A core taken while `qpki` waits at the passphrase prompt, or while
 * the app holds a PIN on its way to C_Login, would hold that secret. Node has no setrlimit and no
 * prctl, and a `ulimit -c 0` wrapper would cost every command line start a process; so this
 * writes the process's core dump filter, one small write at start-up.
 *
 * What it guarantees, on Linux: /proc/<pid>/coredump_filter set to 0 tells the kernel's core
 * writer to dump no memory mapping at all — anonymous (the V8 heap, malloc, stacks: where a
 * secret lives), shared, file-backed, ELF headers, huge pages, DAX. That holds whatever the
 * core_pattern is (a file, or a pipe to systemd-coredump or apport: the helper receives the
 * filtered core) and whatever RLIMIT_CORE says; gdb's gcore honours the filter too. What a core
 * still holds: the notes — each thread's registers (a few bytes of whatever was being copied),
 * the first 80 characters of the command line, the auxiliary vector and the mapped file names.
 * The filter is per process (all threads) and is inherited by every child forked or executed
 * afterwards (the Chromium that prints a transcript). It does not stop a process of the same user
 * or root from reading the memory directly (ptrace, /proc/<pid>/mem), nor swap or hibernation.
 *
 * In the app, main.ts applies it to the main process before `ready`, and to each of Electron's
 * other processes (zygote, GPU, utility, renderers — the PIN field is in a renderer) once they
 * exist, by their pid: the zygote and GPU process start before main.ts runs, so they do not
 * inherit it. A process that is not dumpable refuses the write (EACCES) — and, with the default
 * fs.suid_dumpable of 0, dumps no core at all.
 *
 * macOS: nothing is done here (no /proc). The default soft RLIMIT_CORE is 0 for apps started by
 * launchd and for shells, so no core is written unless the operator raised it beforehand
 * (`ulimit -c unlimited`) — on a ceremony laptop, don't. Windows: processes do not dump core;
 * Windows Error Reporting writes a dump only where an administrator configured LocalDumps in the
 * registry, which a ceremony laptop must not have. The app never starts Electron's crash reporter,
 * so there are no minidumps either.
 */
import { writeFileSync } from 'node:fs';

export type CoreDumpFilterResult = 'off' | 'unsupported' | 'refused';

/**
 * Sets the core dump filter of `pid` (this process by default) to dump no memory. Never throws:
 * a failure is reported, and the caller goes on (a missing /proc must not stop a ceremony).
 */
export function disableCoreDumps(pid: number | 'self' = 'self', platform: NodeJS.Platform = process.platform): CoreDumpFilterResult {
  if (platform !== 'linux') return 'unsupported';
  if (pid !== 'self' && !(Number.isSafeInteger(pid) && pid > 0)) return 'refused';
  try {
    writeFileSync(`/proc/${pid}/coredump_filter`, '0');
    return 'off';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'unsupported' : 'refused';
  }
}
