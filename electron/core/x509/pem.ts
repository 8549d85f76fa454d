import { QpkiError } from '../errors';

export type PemLabel = 'CERTIFICATE' | 'CERTIFICATE REQUEST' | 'NEW CERTIFICATE REQUEST' | 'X509 CRL' | 'PRIVATE KEY' | 'ENCRYPTED PRIVATE KEY' | 'PUBLIC KEY';

export function toPem(der: Uint8Array, label: PemLabel): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** One BEGIN…END block as found, before any check: `body` is everything between the two lines. */
export interface RawPemBlock {
  label: string;
  endLabel: string;
  body: string;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/** [A-Z0-9 ]: the characters a PEM label may have here. */
function isLabelChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20;
}

/**
 * The end of the label run starting at `from` (== from when there is none). A hyphen belongs to
 * the label only between label characters (RFC 7468: "ML-DSA-65 PRIVATE KEY", as QPKI writes),
 * so the dashes that close the line are never taken in.
 */
function labelEnd(text: string, from: number): number {
  let k = from;
  for (;;) {
    if (k < text.length && isLabelChar(text.charCodeAt(k))) k++;
    else if (k > from && text.charCodeAt(k) === 0x2d && k + 1 < text.length && isLabelChar(text.charCodeAt(k + 1)) && text.charCodeAt(k + 1) !== 0x20) k++;
    else return k;
  }
}

/** The first `-----BEGIN LABEL-----` line (ending in \n or \r\n) at or after `from`. */
function findBegin(text: string, from: number): { label: string; bodyStart: number } | null {
  for (let i = text.indexOf(BEGIN, from); i >= 0; i = text.indexOf(BEGIN, i + 1)) {
    const j = i + BEGIN.length;
    const k = labelEnd(text, j);
    if (k === j || !text.startsWith(DASHES, k)) continue;
    let n = k + DASHES.length;
    if (text.charCodeAt(n) === 0x0d) n++;
    if (text.charCodeAt(n) !== 0x0a) continue;
    return { label: text.slice(j, k), bodyStart: n + 1 };
  }
  return null;
}

/** The first `-----END LABEL-----` at or after `from`. */
function findEnd(text: string, from: number): { label: string; at: number; after: number } | null {
  for (let i = text.indexOf(END, from); i >= 0; i = text.indexOf(END, i + 1)) {
    const j = i + END.length;
    const k = labelEnd(text, j);
    if (k === j || !text.startsWith(DASHES, k)) continue;
    return { label: text.slice(j, k), at: i, after: k + DASHES.length };
  }
  return null;
}

/**
 * Every BEGIN…END block, in order: a BEGIN line, then the first END marker after it, whatever
 * lies between (so a BEGIN inside a block is body, and a block whose END names another label is
 * reported as such). This is what /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g
 * matched, found in one pass: that expression searched the rest of the text for an END from
 * every BEGIN, so a megabyte of BEGIN lines without an END took half a minute. Here the first END
 * after a point is looked for once and reused by every BEGIN before it, and the text is read
 * forward only.
 */
export function scanPemBlocks(text: string): RawPemBlock[] {
  const out: RawPemBlock[] = [];
  let end: ReturnType<typeof findEnd> = null;
  for (let pos = 0; ;) {
    const begin = findBegin(text, pos);
    if (!begin) break;
    if (!end || end.at < begin.bodyStart) end = findEnd(text, begin.bodyStart);
    // No END after this BEGIN: none after any later BEGIN either.
    if (!end) break;
    out.push({ label: begin.label, endLabel: end.label, body: text.slice(begin.bodyStart, end.at) });
    pos = end.after;
  }
  return out;
}

/** Every PEM block in a text, strictly decoded. */
export function parsePemBlocks(text: string): { label: string; der: Uint8Array }[] {
  const out: { label: string; der: Uint8Array }[] = [];
  for (const m of scanPemBlocks(text)) {
    if (m.label !== m.endLabel) throw new QpkiError('PEM_INVALID', `PEM block begins with "${m.label}" but ends with "${m.endLabel}".`);
    const body = m.body.replace(/\r?\n/g, '').trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw new QpkiError('PEM_INVALID', `The "${m.label}" PEM block is not valid base64.`);
    }
    out.push({ label: m.label, der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return out;
}

/** Bytes that are either PEM (one block with one of `labels`) or DER. */
export function pemOrDer(data: Uint8Array | string, labels: PemLabel[]): Uint8Array {
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const blocks = parsePemBlocks(text);
    if (blocks.length === 0) throw new QpkiError('PEM_INVALID', 'The PEM text has no complete BEGIN/END block.');
    const hit = blocks.find((b) => (labels as string[]).includes(b.label));
    if (!hit) throw new QpkiError('PEM_INVALID', `Expected a PEM block labelled ${labels.join(' or ')}, found ${blocks.map((b) => b.label).join(', ')}.`);
    return hit.der;
  }
  if (typeof data === 'string') throw new QpkiError('PEM_INVALID', 'The text is not PEM (no BEGIN line).');
  return data;
}
