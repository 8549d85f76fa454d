/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), the byte form every journal hash is taken over.
 *
 * Why not `import canonicalize from 'canonicalize'`: that package (v4) is ESM-only and its
 * `exports` map offers only the `import` condition, so it cannot be `require`d — and this
 * project's TypeScript runs as CommonJS under tsx (tests) and in the bundled CLI/main process.
 * JCS on ES values is small: sort object keys by UTF-16 code units, serialize strings and
 * numbers exactly as ES `JSON.stringify` does. `canonical.test.ts` checks this function against
 * the `canonicalize` package (loaded with a dynamic import) on many inputs, so they cannot drift.
 */
import { QpkiError } from '../errors';

export function canonicalJson(value: unknown): string {
  return encode(value, undefined);
}

/** Lowercase hex SHA-256 of the canonical encoding. */
export function canonicalSha256(value: unknown): string {
  // node:crypto when first hashed: reading a CA's files (`ca info`) loads this module for formatting only.
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/**
 * Object keys as encoded: journals repeat the same few dozen keys in every entry, and each was
 * scanned for surrogates and stringified again every time. Keys can also be data (a map's), so
 * the memo stays small.
 */
const encodedKeys = new Map<string, string>();

function encodeKey(key: string): string {
  let e = encodedKeys.get(key);
  if (e === undefined) {
    e = encode(key, undefined);
    if (encodedKeys.size < 4096) encodedKeys.set(key, e);
  }
  return e;
}

function encode(value: unknown, seen: Set<object> | undefined): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw notJson('a number that is NaN or infinite');
      return JSON.stringify(value);
    case 'string':
      if (hasLoneSurrogate(value)) throw notJson('a string with a lone surrogate');
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw notJson(`a ${typeof value}`);
  }
  const obj = value as object;
  // Made at the first object: a journal entry's scalar fields need no set.
  seen ??= new Set();
  if (seen.has(obj)) throw notJson('a circular reference');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = '[';
    // A hole reads as undefined and is written null, as JSON.stringify writes it.
    for (let i = 0; i < obj.length; i++) out += (i ? ',' : '') + encode(obj[i] === undefined ? null : obj[i], seen);
    out += ']';
  } else {
    const rec = obj as Record<string, unknown>;
    out = '{';
    let first = true;
    for (const key of Object.keys(rec).sort()) {
      const v = rec[key];
      if (v === undefined) continue;
      out += (first ? '' : ',') + encodeKey(key) + ':' + encode(v, seen);
      first = false;
    }
    out += '}';
  }
  seen.delete(obj);
  return out;
}

function hasLoneSurrogate(s: string): boolean {
  // Node 20's V8 has String.prototype.isWellFormed (ES2024): one native scan instead of a JS loop.
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed;
  if (native) return !native.call(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (n < 0xdc00 || n > 0xdfff) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return true;
    }
  }
  return false;
}

function notJson(what: string): QpkiError {
  return new QpkiError('INTERNAL', `Journal data must be plain JSON; it contained ${what}.`);
}
