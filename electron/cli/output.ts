/** Command output: human-readable lines by default, one JSON document with --json. */
import { fstatSync, writeSync } from 'node:fs';

let json = false;

export function setJson(on: boolean): void {
  json = on;
}

export function isJson(): boolean {
  return json;
}

/**
 * Whether output goes to file descriptors 1 and 2 directly (the qpki process itself), rather than
 * through process.stdout and process.stderr (main() called in-process, as tests do, whose callers
 * may capture those streams). Node builds those streams on first use, loading its stream, net and
 * tty modules: about 8 ms of CPU in every run that writes a line, measured with
 * `perf stat -e task-clock` on `node -e "require('crypto'); process.stdout.write('x')" | cat`
 * against the same with `fs.writeSync(1, 'x')`.
 */
let direct = false;
/** The descriptors where a direct write failed: the rest of the run writes there through Node's stream. */
const streamed = new Set<1 | 2>();
/** Which of process.stdout and process.stderr were built this run (by us or by any other code). */
const opened = new Set<'stdout' | 'stderr'>();

/**
 * Write to the descriptors directly from now on. process.stdout and process.stderr are watched,
 * so that exitAfterOutput waits only for the streams something built, and for all of those.
 * Not on Windows: a console there takes UTF-16 (Node's stream converts), and raw UTF-8 bytes
 * written to it show "→" and every other non-ASCII character garbled.
 */
export function useDirectOutput(): void {
  if (process.platform === 'win32') return;
  direct = true;
  for (const name of ['stdout', 'stderr'] as const) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    const get = d?.get;
    if (!get || !d.configurable) {
      opened.add(name);
      continue;
    }
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: d.enumerable,
      get() {
        opened.add(name);
        return get.call(process);
      },
    });
  }
}

/**
 * A descriptor from a shell or a spawning parent is blocking: the write returns once all of it is
 * taken. A non-blocking one that is full (EAGAIN), a closed reader (EPIPE) or any other failure
 * hands the rest, and every later write there, to Node's stream: it queues what the pipe cannot
 * take yet, exitAfterOutput waits for it, and its errors are what they were before this path.
 */
function write(fd: 1 | 2, text: string | Uint8Array): void {
  let rest: string | Uint8Array = text;
  if (direct && !streamed.has(fd)) {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    let at = 0;
    try {
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      return;
    } catch {
      streamed.add(fd);
      rest = bytes.subarray(at);
    }
  }
  (fd === 1 ? process.stdout : process.stderr).write(rest);
}

/**
 * False when `fd` is surely not a terminal (a pipe, a file, closed), without node:tty, which
 * loads node:net. A terminal is a character device; so is /dev/null, which the stream then tells apart.
 */
export function couldBeTerminal(fd: 1 | 2): boolean {
  try {
    return fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}

export function writeOut(text: string | Uint8Array): void {
  write(1, text);
}

export function writeErr(text: string): void {
  write(2, text);
}

/**
 * Exit once everything written is out: writes to a pipe can be queued, and exiting at once cut
 * `qpki journal show | less` short after the first 64 KB. An empty write's callback runs after
 * every write queued before it. With direct output, only the streams that were built can hold any.
 */
export function exitAfterOutput(status: number): void {
  const streams = direct ? (['stdout', 'stderr'] as const).filter((n) => opened.has(n)).map((n) => process[n]) : [process.stdout, process.stderr];
  const next = (i: number): void => {
    if (i < streams.length) streams[i].write('', () => next(i + 1));
    else process.exit(status);
  };
  next(0);
}

export function emit(data: unknown, lines: () => string[]): void {
  if (json) writeOut(JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2) + '\n');
  else writeOut(lines().join('\n') + '\n');
}

export function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}
