import { QpkiError } from '../errors';

/** One DER TLV located in a buffer. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

function malformed(why: string, at: number): QpkiError {
  return new QpkiError('INPUT_INVALID', `Malformed DER: ${why} at offset ${at}.`);
}

/**
 * Read the TLV at `offset`. Only single-byte tags and definite lengths (DER). No closure is made
 * per call: the bundles keep function names, so each closure made costs a property definition,
 * and this runs for every TLV of every document.
 */
export function readTlv(buf: Uint8Array, offset: number): Tlv {
  if (offset + 2 > buf.length) throw malformed('truncated header', offset);
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tag', offset);
  let len = buf[offset + 1];
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw malformed('unsupported length', offset);
    if (p + n > buf.length) throw malformed('truncated length', offset);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > buf.length) throw malformed('length beyond the data', offset);
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** The TLVs directly inside a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const t = readTlv(buf, p);
    if (t.end > parent.end) throw new QpkiError('INPUT_INVALID', 'Malformed DER: child runs past its parent.');
    out.push(t);
    p = t.end;
  }
  return out;
}

/** Bytes of a DER length's header: 1 for short form, 1 + n for long form. */
function lengthSize(n: number): number {
  if (n < 0x80) return 1;
  let size = 1;
  for (let v = n; v > 0; v = Math.floor(v / 256)) size++;
  return size;
}

/** Write the DER length `n` at `at`, in `size` bytes (from `lengthSize`). */
function writeLength(out: Uint8Array, at: number, n: number, size: number): void {
  if (size === 1) {
    out[at] = n;
    return;
  }
  out[at] = 0x80 | (size - 1);
  for (let i = size - 1, v = n; i >= 1; i--, v = Math.floor(v / 256)) out[at + i] = v & 0xff;
}

export function encodeLength(n: number): Uint8Array {
  const size = lengthSize(n);
  const out = new Uint8Array(size);
  writeLength(out, 0, n, size);
  return out;
}

export function encodeTlv(tag: number, parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const part of parts) len += part.length;
  const size = lengthSize(len);
  const out = new Uint8Array(1 + size + len);
  out[0] = tag;
  writeLength(out, 1, len, size);
  let p = 1 + size;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

export function slice(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

/** Parse exactly one TLV spanning the whole buffer (no trailing bytes). */
export function whole(buf: Uint8Array): Tlv {
  const t = readTlv(buf, 0);
  if (t.end !== buf.length) throw new QpkiError('INPUT_INVALID', `Malformed DER: ${buf.length - t.end} trailing bytes.`);
  return t;
}

/** DER of an OBJECT IDENTIFIER value (content bytes only), for comparing extension ids. */
export function oidContent(oid: string): Uint8Array {
  const arcs = oid.split('.').map((x) => BigInt(x));
  const out: number[] = [];
  const push = (v: bigint) => {
    const tmp: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) tmp.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...tmp);
  };
  push(arcs[0] * 40n + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return Uint8Array.from(out);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Deeper than any certificate, CSR or CRL needs; a deeper input is hostile. */
export const MAX_DER_DEPTH = 32;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Checks that a whole document is strict DER before any decoder sees it: minimal definite
 * lengths, constructed values exactly filled by their children, bounded nesting, well-formed
 * OBJECT IDENTIFIERs, UTF8Strings that are UTF-8 and BMPStrings of whole characters. Decoders
 * are lenient about some of these, and a lenient decoder shows something other than what was signed.
 */
export function assertStrictDer(buf: Uint8Array): void {
  const bad = malformed;
  const top = whole(buf);
  const stack: { t: Tlv; depth: number }[] = [{ t: top, depth: 1 }];
  while (stack.length) {
    const { t, depth } = stack.pop()!;
    const lenByte = buf[t.start + 1];
    if (lenByte & 0x80) {
      if (buf[t.start + 2] === 0 || t.end - t.contentStart < 0x80) throw bad('length not minimally encoded', t.start);
    }
    const content = buf.subarray(t.contentStart, t.end);
    if (t.tag & 0x20) {
      if (depth >= MAX_DER_DEPTH) throw bad(`nesting deeper than ${MAX_DER_DEPTH} levels`, t.start);
      for (const c of children(buf, t)) stack.push({ t: c, depth: depth + 1 });
      continue;
    }
    if (t.tag === 0x06) {
      if (content.length === 0 || content.length > 128) throw bad('object identifier of impossible length', t.start);
      if (content[content.length - 1] & 0x80) throw bad('object identifier ends inside an arc', t.start);
      for (let i = 0; i < content.length; i++) {
        if (content[i] === 0x80 && (i === 0 || !(content[i - 1] & 0x80))) throw bad('object identifier arc not minimally encoded', t.start);
      }
    } else if (t.tag === 0x0c) {
      try {
        utf8.decode(content);
      } catch {
        throw bad('UTF8String that is not UTF-8', t.start);
      }
    } else if (t.tag === 0x1e && content.length % 2) {
      throw bad('BMPString of an odd number of bytes', t.start);
    }
  }
}
