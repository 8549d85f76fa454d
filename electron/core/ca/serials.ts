/**
 * Serial numbers as both tools that work in one CA directory write and read them (ours and the
 * real QPKI, see README "Working with QPKI"):
 *  - index.txt and certs/<serial>.crt name a serial in lower-case hex of its positive magnitude,
 *    minimal and of even length (Go's hex.EncodeToString(serial.Bytes()), which QPKI matches
 *    exactly); either case is read, since earlier versions of ours wrote upper case.
 *  - the `serial` file holds the NEXT serial (QPKI issues exactly that number and writes it plus
 *    one). Ours keeps drawing random serials (the CA/B Forum asks for 64 random bits) and keeps
 *    the file above every serial used in the directory, so QPKI's counter can never land on one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { QpkiError } from '../errors';
import { readText } from './fsx';

/** A serial in its one written form: lower-case hex, no leading zero byte, even length. */
export function canonicalSerial(s: string): string {
  let h = s.trim().replace(/^0x/i, '').replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(h)) throw new QpkiError('INPUT_INVALID', `"${s}" is not a hex serial number.`);
  h = h.replace(/^0+/, '');
  if (!h) h = '0';
  return h.length % 2 ? '0' + h : h;
}

/** Whether a string names a serial in hex (either case, optional 0x and colons). */
export function isHexSerial(s: string): boolean {
  return /^(0x)?[0-9a-fA-F:]+$/.test(s.trim()) && /[0-9a-fA-F]/.test(s);
}

export function serialBigInt(hex: string): bigint {
  return BigInt('0x' + canonicalSerial(hex));
}

export function serialFromBigInt(n: bigint): string {
  return canonicalSerial(n.toString(16));
}

/** certs/<serial>.crt: the lower-case name, or the upper-case one an earlier version of ours wrote. */
export function certFile(dir: string, serial: string): string {
  const lower = join(dir, 'certs', `${canonicalSerial(serial)}.crt`);
  if (existsSync(lower)) return lower;
  const upper = join(dir, 'certs', `${canonicalSerial(serial).toUpperCase()}.crt`);
  return existsSync(upper) ? upper : lower;
}

/** The file name certs/<serial>.crt gets when it is written now. */
export function certFileName(serial: string): string {
  return `${canonicalSerial(serial)}.crt`;
}

export const SERIAL_FILE = 'serial';

/** The next serial the `serial` file names; undefined when it is missing, empty or not hex. */
export function readSerialFile(dir: string): { text: string; next?: bigint } {
  const p = join(dir, SERIAL_FILE);
  const text = existsSync(p) ? readText(p).trim() : '';
  // QPKI decodes it with hex.DecodeString, which refuses an odd length: so must we, or we would
  // accept a file that stops QPKI.
  if (!/^[0-9a-fA-F]+$/.test(text) || text.length % 2) return { text };
  return { text, next: BigInt('0x' + text) };
}

/**
 * The serial file's new contents after serials up to `highest` are used: its current value when
 * that is already above them, else one more than the highest. Never lower than it was.
 */
export function nextSerialFileText(current: bigint | undefined, highest: bigint): string {
  const next = current !== undefined && current > highest ? current : highest + 1n;
  return serialFromBigInt(next) + '\n';
}

/** The serials of the CA certificates of every version (a root's own serial is used under its own name). */
export function caCertificateSerials(dir: string, serialOf: (pem: string) => string | undefined): string[] {
  const out: string[] = [];
  const versions = join(dir, 'versions');
  if (!existsSync(versions)) return out;
  for (const v of readdirSync(versions)) {
    const certs = join(versions, v, 'certs');
    if (!existsSync(certs)) continue;
    for (const f of readdirSync(certs)) {
      if (!f.endsWith('.pem')) continue;
      try {
        const s = serialOf(readText(join(certs, f)));
        if (s) out.push(canonicalSerial(s));
      } catch {
        // An unreadable certificate is `ca check`'s business; it names no serial here.
      }
    }
  }
  return out;
}
