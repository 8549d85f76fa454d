/**
 * Facts are the JSON payload of a journal entry. Callers hand over what they have (serials as
 * bigint, fingerprints as bytes); `toFacts` turns it into plain JSON so the canonical hash is
 * well defined, and `assertNoSecrets` is the journal's last guard against a PIN reaching disk.
 */
import { QpkiError } from '../errors';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Plain-JSON copy of `value`: bigint → decimal string, Uint8Array/Buffer/ArrayBuffer → lowercase
 * hex, Date → ISO 8601, Map → object, Set → array, undefined object members dropped.
 * Anything else that is not JSON (functions, symbols, NaN, class instances without toJSON,
 * cycles) throws INTERNAL rather than being silently mangled into the record.
 */
export function toFacts(value: Record<string, unknown>): Record<string, JsonValue> {
  const out = convert(value, new Set(), 'facts');
  if (out === null || typeof out !== 'object' || Array.isArray(out)) {
    throw new QpkiError('INTERNAL', 'Journal facts must be an object.');
  }
  return out;
}

function convert(v: unknown, seen: Set<object>, path: string): JsonValue {
  if (v === null) return null;
  switch (typeof v) {
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw bad(path, 'is not a finite number');
      return v;
    case 'bigint':
      return v.toString(10);
    case 'object':
      break;
    default:
      throw bad(path, `is a ${typeof v}`);
  }
  const obj = v as object;
  if (obj instanceof Uint8Array) return Buffer.from(obj.buffer, obj.byteOffset, obj.byteLength).toString('hex');
  if (obj instanceof ArrayBuffer) return Buffer.from(obj).toString('hex');
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw bad(path, 'is an invalid date');
    return obj.toISOString();
  }
  if (seen.has(obj)) throw bad(path, 'is a circular reference');
  seen.add(obj);
  let out: JsonValue;
  if (Array.isArray(obj) || obj instanceof Set) {
    out = [...obj].map((x, i) => (x === undefined ? null : convert(x, seen, `${path}[${i}]`)));
  } else if (obj instanceof Map) {
    const rec: Record<string, JsonValue> = {};
    for (const [k, x] of obj) if (x !== undefined) rec[String(k)] = convert(x, seen, `${path}.${String(k)}`);
    out = rec;
  } else {
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const toJSON = (obj as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON !== 'function') throw bad(path, `is a ${proto?.constructor?.name ?? 'class'} instance, not plain data`);
      out = convert(toJSON.call(obj), seen, path);
    } else {
      const rec: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(obj)) if (x !== undefined) rec[k] = convert(x, seen, `${path}.${k}`);
      out = rec;
    }
  }
  seen.delete(obj);
  return out;
}

function bad(path: string, why: string): QpkiError {
  return new QpkiError('INTERNAL', `Journal fact ${path} ${why}; convert it to plain JSON first.`);
}

const SECRET_WORDS = new Set(['pin', 'pins', 'passphrase', 'passphrases', 'password', 'passwords', 'passwd', 'pwd', 'secret', 'secrets']);
/** Words that make a secret-named key describe the secret rather than hold it: `pinLength`, `pinSource`. */
const ABOUT_WORDS = new Set(['length', 'len', 'min', 'max', 'count', 'retries', 'tries', 'source', 'policy', 'flags']);

/** Splits `userPin`, `so_pin`, `PIN-file`, `pinLength` into lowercase words. */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Keys judged so far: journals repeat the same few dozen keys in every entry. */
const judged = new Map<string, boolean>();

/** Whether a key is named like a PIN, passphrase, password or secret, and not a word about one. */
function secretNamedKey(key: string): boolean {
  let verdict = judged.get(key);
  if (verdict === undefined) {
    const words = keyWords(key);
    verdict = words.some((w) => SECRET_WORDS.has(w)) && !ABOUT_WORDS.has(words[words.length - 1] ?? '');
    // Keys are names chosen in code, but facts can carry maps keyed by data: keep the memo small.
    if (judged.size < 4096) judged.set(key, verdict);
  }
  return verdict;
}

/**
 * Throws INTERNAL if any key, at any depth, is named like a PIN, passphrase, password or secret
 * and could hold one. Booleans (`userPinInitialized`) and keys ending in a describing word
 * (`pinLength`, `pinSource`) are allowed: they say something about the secret, not the secret.
 * The message names the key, never its value.
 */
export function assertNoSecrets(facts: unknown, path = 'facts'): void {
  if (facts === null || typeof facts !== 'object') return;
  if (Array.isArray(facts)) {
    facts.forEach((x, i) => assertNoSecrets(x, `${path}[${i}]`));
    return;
  }
  for (const [key, value] of Object.entries(facts as Record<string, unknown>)) {
    if (secretNamedKey(key) && typeof value !== 'boolean') {
      throw new QpkiError('INTERNAL', `Refusing to write journal fact "${path}.${key}": its name says it may hold a PIN, passphrase or secret, which must never be recorded.`);
    }
    assertNoSecrets(value, `${path}.${key}`);
  }
}
