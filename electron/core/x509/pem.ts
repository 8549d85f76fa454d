import { QpkiError } from '../errors';

export type PemLabel = 'CERTIFICATE' | 'CERTIFICATE REQUEST' | 'NEW CERTIFICATE REQUEST' | 'X509 CRL' | 'PRIVATE KEY' | 'ENCRYPTED PRIVATE KEY' | 'PUBLIC KEY';

export function toPem(der: Uint8Array, label: PemLabel): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += b64.slice(i, i + 64) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/** Every PEM block in a text, strictly decoded. */
export function parsePemBlocks(text: string): { label: string; der: Uint8Array }[] {
  const out: { label: string; der: Uint8Array }[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    if (m[1] !== m[3]) throw new QpkiError('PEM_INVALID', `PEM block begins with "${m[1]}" but ends with "${m[3]}".`);
    const body = m[2].replace(/\r?\n/g, '').trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw new QpkiError('PEM_INVALID', `The "${m[1]}" PEM block is not valid base64.`);
    }
    out.push({ label: m[1], der: new Uint8Array(Buffer.from(body, 'base64')) });
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
