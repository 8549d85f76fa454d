/**
 * `{{ var }}` substitution as QPKI does it. A field that is exactly one placeholder takes the
 * variable's value whole (so a list variable expands into a list); a placeholder inside text is
 * replaced by the scalar value. A field whose variable is absent is dropped, not left half-filled.
 */
import type { VariableValue } from './rules';
import type { VariableValues } from './types';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE = /^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$/;

/** Variable names a template refers to. */
export function referencedVariables(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Whether braces are left over once the well-formed placeholders are taken out. */
export function hasMalformedPlaceholder(template: string): boolean {
  const rest = template.replace(PLACEHOLDER, '');
  return rest.includes('{{') || rest.includes('}}');
}

/** The variable a field consists of, when it is exactly one placeholder. */
export function wholeVariable(template: string): string | undefined {
  return WHOLE.exec(template)?.[1];
}

function present(v: VariableValue | undefined): v is VariableValue {
  if (v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** A scalar field; undefined when a referenced variable has no value. */
export function renderScalar(template: string, values: VariableValues): string | undefined {
  let missing = false;
  const out = template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = values[name];
    if (!present(v)) {
      missing = true;
      return '';
    }
    return Array.isArray(v) ? v.join(',') : String(v);
  });
  return missing ? undefined : out;
}

/** A list field: each entry rendered, list variables spread, absent entries dropped. */
export function renderList(field: string | string[] | undefined, values: VariableValues): string[] {
  if (field === undefined) return [];
  const entries = Array.isArray(field) ? field : [field];
  const out: string[] = [];
  for (const e of entries) {
    const whole = wholeVariable(e);
    if (whole !== undefined) {
      const v = values[whole];
      if (!present(v)) continue;
      if (Array.isArray(v)) out.push(...v);
      else out.push(String(v));
      continue;
    }
    const r = renderScalar(e, values);
    if (r !== undefined && r.trim() !== '') out.push(r.trim());
  }
  return out;
}
