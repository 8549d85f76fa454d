/**
 * Finding and reading profiles: built-ins under resources/profiles, or a .yaml file by path.
 * YAML is parsed with a small alias budget so an alias bomb is refused instead of expanded.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { QpkiError } from '../errors';
import { compileProfile } from './compile';
import type { Profile, ProfileSummary } from './types';

/** Profiles and variable files are small; anything larger is a mistake or an attack. */
export const MAX_YAML_BYTES = 256 * 1024;
const MAX_ALIASES = 16;

/** Parses YAML safely: bounded size, few aliases, no duplicate keys. `code` names what failed. */
export function parseYamlSafe(text: string, what: string, code: 'PROFILE_INVALID' | 'INPUT_INVALID'): unknown {
  if (text.length > MAX_YAML_BYTES) throw new QpkiError(code, `${what} is larger than ${MAX_YAML_BYTES / 1024} KiB`);
  // Required here: a run that uses only built-in profiles (compiled at build time) parses no YAML.
  const { parseDocument } = require('yaml') as typeof import('yaml');
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { uniqueKeys: true, merge: false, prettyErrors: false, logLevel: 'silent' });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new QpkiError(code, `${what} is not valid YAML: ${msg}`);
  }
  if (doc.errors.length) throw new QpkiError(code, `${what} is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  // A tag the parser cannot resolve (!!js/function, !custom) would silently become a plain string:
  // plain YAML is all a profile needs, so anything else is refused rather than guessed at.
  const tag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (tag) throw new QpkiError(code, `${what} uses a YAML tag this tool does not support (${tag.message.split('\n')[0].replace(/^Unresolved tag: /, '')}); use plain YAML values`);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new QpkiError(code, `${what} is not valid YAML: ${msg}`);
  }
}

function readText(path: string, what: string, code: 'PROFILE_INVALID' | 'INPUT_INVALID'): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new QpkiError(code === 'PROFILE_INVALID' ? 'PROFILE_NOT_FOUND' : 'IO_ERROR', `${what} ${path} cannot be read: no such file`);
  }
  if (size > MAX_YAML_BYTES) throw new QpkiError(code, `${what} ${path} is larger than ${MAX_YAML_BYTES / 1024} KiB`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new QpkiError('IO_ERROR', `${what} ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function candidateRoots(): string[] {
  const roots: string[] = [];
  if (typeof __dirname !== 'undefined') roots.push(__dirname);
  if (process.argv[1]) roots.push(dirname(resolve(process.argv[1])));
  roots.push(process.cwd());
  return roots;
}

/**
 * The built-in profile folder: QPKI_PROFILES_DIR when set, else the first `resources/profiles`
 * found walking up from this module (source under tsx, or the bundle in dist/), the script,
 * or the working directory; a packaged app also looks in its resources folder.
 */
export function builtinProfilesDir(): string {
  const env = process.env.QPKI_PROFILES_DIR;
  if (env) return resolve(env);
  for (const start of candidateRoots()) {
    let dir = resolve(start);
    for (;;) {
      const c = join(dir, 'resources', 'profiles');
      if (existsSync(c) && statSync(c).isDirectory()) return c;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged) for (const c of [join(packaged, 'profiles'), join(packaged, 'resources', 'profiles')]) if (existsSync(c)) return c;
  throw new QpkiError('PROFILE_NOT_FOUND', 'The built-in profiles folder (resources/profiles) was not found; set QPKI_PROFILES_DIR');
}

const BUILTIN_NAME = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/;

function builtinNames(dir: string): string[] {
  const names: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith('.yaml')) names.push(relative(dir, p).slice(0, -'.yaml'.length).split(sep).join('/'));
    }
  };
  walk(dir);
  return names.sort();
}

/**
 * Whether builtinNames(dir) would list `name`, reading only the folders on its path instead of
 * walking them all: the same directory entries, matched by exact name and by type as the walk
 * sees them (links are not followed).
 */
function isBuiltinName(dir: string, name: string): boolean {
  const parts = name.split('/');
  let d = dir;
  try {
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      const entry = readdirSync(d, { withFileTypes: true }).find((e) => e.name === (last ? `${parts[i]}.yaml` : parts[i]));
      if (!entry || !(last ? entry.isFile() : entry.isDirectory())) return false;
      d = join(d, parts[i]);
    }
    return true;
  } catch {
    return false;
  }
}

const builtinCache = new Map<string, Profile>();

/**
 * The built-in profiles as compiled when the command line was built (scripts/build-cli.mjs defines
 * this; elsewhere it is undefined): each with the SHA-256 of the YAML text it was compiled from,
 * and the Profile as JSON. Parsing YAML and checking the document cost more than a whole issuance.
 */
declare const QPKI_BUILTIN_PROFILES: Record<string, { sha256: string; profile: string }> | undefined;

/** The profile compiled at build time from exactly this text, if there is one. */
function precompiled(name: string, text: string): Profile | undefined {
  if (typeof QPKI_BUILTIN_PROFILES === 'undefined' || !Object.hasOwn(QPKI_BUILTIN_PROFILES, name)) return undefined;
  const hit = QPKI_BUILTIN_PROFILES[name];
  // Any other text (an edited file, another QPKI_PROFILES_DIR) is compiled from the file as always.
  if (hit.sha256 !== createHash('sha256').update(text).digest('hex')) return undefined;
  return JSON.parse(hit.profile) as Profile;
}

function loadBuiltin(dir: string, name: string): Profile {
  const path = join(dir, ...name.split('/')) + '.yaml';
  const key = path;
  const hit = builtinCache.get(key);
  if (hit) return hit;
  const text = readText(path, `Profile ${name}`, 'PROFILE_INVALID');
  const profile = precompiled(name, text) ?? compileProfile(parseYamlSafe(text, `Profile ${name}`, 'PROFILE_INVALID'), 'builtin');
  if (profile.name !== name) throw new QpkiError('PROFILE_INVALID', `profile ${name}: its name field says "${profile.name}"`);
  builtinCache.set(key, profile);
  return profile;
}

function looksLikePath(s: string): boolean {
  return /\.ya?ml$/i.test(s) || s.startsWith('.') || s.startsWith('/') || s.includes('\\');
}

/** A built-in profile by name (ec/root-ca), or a profile file by path (./my-profile.yaml). */
export function loadProfile(nameOrPath: string): Profile {
  if (typeof nameOrPath !== 'string' || nameOrPath.trim() === '')
    throw new QpkiError('PROFILE_NOT_FOUND', 'No profile was named; give a built-in name such as ec/root-ca or a .yaml path');
  if (looksLikePath(nameOrPath)) {
    const path = resolve(nameOrPath);
    const text = readText(path, 'Profile file', 'PROFILE_INVALID');
    return compileProfile(parseYamlSafe(text, `Profile file ${path}`, 'PROFILE_INVALID'), path);
  }
  const dir = builtinProfilesDir();
  if (!BUILTIN_NAME.test(nameOrPath) || !isBuiltinName(dir, nameOrPath))
    throw new QpkiError('PROFILE_NOT_FOUND', `Profile "${nameOrPath}" is not a built-in profile; run "qpki profile list" to see them, or give a path to a .yaml file`);
  return loadBuiltin(dir, nameOrPath);
}

export function listProfiles(): ProfileSummary[] {
  const dir = builtinProfilesDir();
  return builtinNames(dir).map((n) => {
    const p = loadBuiltin(dir, n);
    return {
      name: p.name,
      description: p.description,
      algorithm: p.algorithm,
      ...(p.altAlgorithm && { altAlgorithm: p.altAlgorithm }),
      isCa: p.isCa,
    };
  });
}
