/** Command output: human-readable lines by default, one JSON document with --json. */
let json = false;

export function setJson(on: boolean): void {
  json = on;
}

export function isJson(): boolean {
  return json;
}

export function emit(data: unknown, lines: () => string[]): void {
  if (json) process.stdout.write(JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2) + '\n');
  else process.stdout.write(lines().join('\n') + '\n');
}

export function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}
