/**
 * Where opencryptoki is, and why a test cannot use it here. Its software token sets the PIN
 * flags SoftHSM2 never sets (count low, final try, locked); pkcsslotd reads only fixed system
 * paths, so it runs in a private mount namespace (test/faults/opencryptoki-ns.sh).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const OCK_LIB = ['/usr/lib/x86_64-linux-gnu/opencryptoki/libopencryptoki.so.0', '/usr/lib/opencryptoki/libopencryptoki.so', '/usr/lib64/opencryptoki/libopencryptoki.so'].find(existsSync) ?? null;

/** The namespace script: `unshare -m -i --propagation private bash OCK_NS_SCRIPT cmd...` runs cmd beside a private pkcsslotd. */
export const OCK_NS_SCRIPT = join(__dirname, 'faults', 'opencryptoki-ns.sh');

/** One reason opencryptoki in a private namespace is unavailable, or undefined if it is available. */
export function opencryptokiUnavailable(): string | undefined {
  if (!OCK_LIB) return 'opencryptoki is not installed (apt-get install opencryptoki)';
  if (!existsSync('/usr/sbin/pkcsslotd')) return 'pkcsslotd is missing (apt-get install opencryptoki)';
  if (spawnSync('getent', ['group', 'pkcs11']).status !== 0) return 'the pkcs11 group that opencryptoki needs does not exist';
  const u = spawnSync('unshare', ['-m', '-i', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  if (u.status !== 0) return `a private mount and IPC namespace is not allowed here (unshare -m -i: ${u.stderr.trim() || u.error?.message}); pkcsslotd would need the system's own /var/lib/opencryptoki and shared memory`;
  return undefined;
}

/**
 * The command line that runs `args` inside the namespace, beside a private pkcsslotd. Its own
 * IPC namespace too: pkcsslotd keeps its slot table in System V shared memory, which a mount
 * namespace does not separate, so two test files running at once would share (and reclaim) it.
 */
export function inOpencryptokiNamespace(args: string[]): [string, string[]] {
  return ['unshare', ['-m', '-i', '--propagation', 'private', 'bash', OCK_NS_SCRIPT, ...args]];
}
