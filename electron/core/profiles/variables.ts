/**
 * Variable input: `--var k=v` arguments, YAML variable files, and resolving them against a
 * profile's definitions (types, defaults, every rule).
 */
import { readFileSync, statSync } from 'node:fs';
import { QpkiError } from '../errors';
import { MAX_YAML_BYTES, parseYamlSafe } from './loader';
import { MAX_VALIDITY_DAYS, parseDurationSeconds, validateVariable } from './rules';
import type { Profile, VariableValues } from './types';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** ['cn=x', 'organization=ACME, Inc.'] → { cn: 'x', organization: 'ACME, Inc.' }; split at the first '='. */
export function parseVarArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq).trim() : '';
    if (!key || !VAR_NAME.test(key))
      throw new QpkiError('INPUT_INVALID', `--var ${JSON.stringify(arg.length > 60 ? arg.slice(0, 57) + '...' : arg)} is not of the form name=value`);
    if (Object.hasOwn(out, key)) throw new QpkiError('INPUT_INVALID', `--var ${key} is given twice; give each variable once`);
    out[key] = arg.slice(eq + 1).trim();
  }
  return out;
}

/** A YAML mapping of variable values (scalars or lists of scalars). */
export function loadVarFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    if (statSync(path).size > MAX_YAML_BYTES) throw new QpkiError('INPUT_INVALID', `Variable file ${path} is larger than ${MAX_YAML_BYTES / 1024} KiB`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof QpkiError) throw e;
    throw new QpkiError('IO_ERROR', `Variable file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const doc = parseYamlSafe(text, `Variable file ${path}`, 'INPUT_INVALID');
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new QpkiError('INPUT_INVALID', `Variable file ${path} must be a mapping of name: value`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!VAR_NAME.test(k)) throw new QpkiError('INPUT_INVALID', `Variable file ${path}: "${k}" is not a variable name`);
    const scalar = (x: unknown) => x === null || ['string', 'number', 'boolean'].includes(typeof x);
    if (!(scalar(v) || (Array.isArray(v) && v.every(scalar))))
      throw new QpkiError('INPUT_INVALID', `Variable file ${path}: "${k}" must be a value or a list of values`);
    out[k] = v;
  }
  return out;
}

/** A refused value as the message shows it: quoted, and cut short so a pasted blob stays one line. */
function shownValue(v: unknown): string {
  const s = Array.isArray(v) ? v.map(String).join(',') : v === undefined || v === null ? '' : String(v);
  return JSON.stringify(s.length > 120 ? s.slice(0, 117) + '...' : s);
}

/** Checks every input against the profile: unknown names, types, defaults, all rules. */
export function resolveVariables(profile: Profile, input: Record<string, unknown>): VariableValues {
  const known = new Set(profile.variables.map((v) => v.name));
  for (const k of Object.keys(input)) {
    if (!known.has(k))
      throw new QpkiError(
        'VARIABLE_INVALID',
        `variable "${k}" is not defined by profile ${profile.name} (unknown variable; value ${shownValue(input[k])} refused; it has: ${[...known].join(', ') || 'no variables'})`,
        { variable: k, rule: 'unknown' },
      );
  }
  const out: VariableValues = {};
  for (const def of profile.variables) {
    const v = validateVariable(def, Object.hasOwn(input, def.name) ? input[def.name] : undefined);
    if (v !== undefined) out[def.name] = v;
  }
  return out;
}

/**
 * The validity in days once variables are known (a `{{ validity }}` profile takes the variable),
 * for a certificate issued at `at`: a validity_schedule caps it by the issuance date.
 */
export function validityDaysFor(profile: Profile, values: VariableValues, at: Date = new Date()): number {
  return scheduled(profile, unscheduledDays(profile, values), at);
}

/** The profile's ceiling for a certificate issued at `at`, one second short of its figure (notAfter counts). */
function scheduled(profile: Profile, days: number, at: Date): number {
  let cap: number | undefined;
  for (const e of profile.validitySchedule ?? []) if (at.getTime() >= Date.parse(`${e.from}T00:00:00Z`)) cap = e.maxDays - 1 / 86400;
  return cap !== undefined && cap < days ? cap : days;
}

function unscheduledDays(profile: Profile, values: VariableValues): number {
  if (!profile.validityVariable) return profile.validityDays;
  const v = values[profile.validityVariable];
  if (v === undefined)
    throw new QpkiError('VARIABLE_INVALID', `variable "${profile.validityVariable}": a value is required (required) to set the validity`, {
      variable: profile.validityVariable,
      rule: 'required',
    });
  const def = profile.variables.find((d) => d.name === profile.validityVariable)!;
  // validateVariable refuses a malformed duration, so the parse below cannot fail.
  const s = validateVariable(def, v) as string;
  const days = parseDurationSeconds(s)! / 86400;
  if (days > MAX_VALIDITY_DAYS) {
    throw new QpkiError('VARIABLE_INVALID', `variable "${def.name}": ${s} is longer than ${MAX_VALIDITY_DAYS / 366} years`, { variable: def.name, rule: 'max' });
  }
  return days;
}
