/**
 * A form generated from a profile's variable definitions, checked inline by the very rules main
 * applies again before signing (shared/rules re-exports core's pure validateVariable).
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { VariableDefT } from '../../shared/contract';
import { isListType, validateVariable, type VariableDef } from '../../shared/rules';
import type { VarValue } from '../store';
import { variableHint, variableLabel, variableProblem } from '../variable-words';

/** One message per invalid variable; empty when everything is acceptable. */
export function validateAll(defs: VariableDefT[], vars: Record<string, VarValue>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const d of defs) {
    try {
      validateVariable(d as VariableDef, vars[d.name]);
    } catch (e) {
      const rule = (e as { details?: { rule?: string } }).details?.rule;
      errors[d.name] = variableProblem(d, rule, vars[d.name], e instanceof Error ? e.message : String(e));
    }
  }
  return errors;
}

const humanName = variableLabel;

interface Props {
  defs: VariableDefT[];
  vars: Record<string, VarValue>;
  onChange: (name: string, value: VarValue | undefined) => void;
  /** Show every error (after a submit attempt), not only the touched fields'. */
  showAll: boolean;
}

// eslint-disable-next-line max-lines-per-function -- a React form: markup, one field kind after another
export function VariableForm({ defs, vars, onChange, showAll }: Props) {
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const errors = validateAll(defs, vars);
  const prefix = useId();
  // A list entry added or removed by keyboard: focus goes to the new entry, or to the one before the
  // removed entry, instead of staying on a moved button or falling to <body>.
  const entries = useRef(new Map<string, HTMLInputElement | null>());
  const [focusEntry, setFocusEntry] = useState<string | null>(null);
  useEffect(() => {
    if (focusEntry === null) return;
    entries.current.get(focusEntry)?.focus();
    setFocusEntry(null);
  }, [focusEntry]);
  return (
    <div className="var-form">
      {/* eslint-disable-next-line max-lines-per-function -- one field, its markup by variable type */}
      {defs.map((d) => {
        const id = `${prefix}-${d.name}`;
        const err = (showAll || touched[d.name]) && errors[d.name] ? errors[d.name] : null;
        const touch = () => setTouched((t) => ({ ...t, [d.name]: true }));
        const describedBy = [d.description ? `${id}-desc` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
        const labelText = `${humanName(d.name)}${d.required ? ' (required)' : ''}`;
        let control;
        if (isListType(d.type as VariableDef['type'])) {
          const items = Array.isArray(vars[d.name]) ? (vars[d.name] as string[]) : vars[d.name] ? [String(vars[d.name])] : [];
          const shown = items.length ? items : [''];
          control = (
            <fieldset className="list-field" aria-describedby={describedBy}>
              <legend>{labelText}</legend>
              {shown.map((v, i) => (
                <div key={i} className="list-row">
                  <input
                    ref={(el) => { entries.current.set(`${d.name}/${i}`, el); }}
                    aria-label={`${humanName(d.name)} entry ${i + 1}`}
                    data-testid={`var-${d.name}-${i}`}
                    value={v}
                    spellCheck={false}
                    aria-invalid={err ? true : undefined}
                    onChange={(e) => {
                      const next = [...shown];
                      next[i] = e.target.value;
                      const clean = next.filter((x, j) => x !== '' || j < next.length - 1);
                      onChange(d.name, clean.every((x) => x === '') ? undefined : clean);
                    }}
                    onBlur={touch}
                  />
                  {shown.length > 1 && (
                    <button type="button" className="secondary" aria-label={`Remove ${humanName(d.name)} entry ${i + 1}`}
                      onClick={() => {
                        const next = shown.filter((_, j) => j !== i);
                        onChange(d.name, next.length ? next : undefined);
                        touch();
                        setFocusEntry(`${d.name}/${Math.max(0, i - 1)}`);
                      }}>
                      Remove
                    </button>
                  )}
                </div>
              ))}
              <button type="button" className="secondary" onClick={() => { onChange(d.name, [...shown, '']); setFocusEntry(`${d.name}/${shown.length}`); }}>
                Add another
              </button>
            </fieldset>
          );
        } else if (d.type === 'boolean') {
          control = (
            <label className="check">
              <input type="checkbox" id={id} checked={vars[d.name] === true} onChange={(e) => { onChange(d.name, e.target.checked); touch(); }} aria-describedby={describedBy} />
              {labelText}
            </label>
          );
        } else if (d.enum && d.enum.length) {
          control = (
            <>
              <label htmlFor={id}>{labelText}</label>
              <select id={id} data-testid={`var-${d.name}`} value={vars[d.name] === undefined ? '' : String(vars[d.name])}
                aria-invalid={err ? true : undefined} aria-describedby={describedBy}
                onChange={(e) => { onChange(d.name, e.target.value === '' ? undefined : e.target.value); touch(); }}>
                <option value="">— choose —</option>
                {d.enum.map((o) => (
                  <option key={o} value={o}>{o}</option>
                ))}
              </select>
            </>
          );
        } else {
          control = (
            <>
              <label htmlFor={id}>{labelText}</label>
              <input
                id={id}
                data-testid={`var-${d.name}`}
                inputMode={d.type === 'integer' ? 'numeric' : undefined}
                spellCheck={false}
                value={vars[d.name] === undefined ? '' : String(vars[d.name])}
                aria-invalid={err ? true : undefined}
                aria-describedby={describedBy}
                aria-required={d.required}
                onChange={(e) => onChange(d.name, e.target.value === '' ? undefined : e.target.value)}
                onBlur={touch}
              />
            </>
          );
        }
        return (
          <div className="field" key={d.name}>
            {control}
            {d.description && <p id={`${id}-desc`} className="hint">{variableHint(d)}</p>}
            {err && <p id={`${id}-err`} className="field-error" data-testid={`var-error-${d.name}`}>{err}</p>}
          </div>
        );
      })}
    </div>
  );
}
