/**
 * A masked PIN field. The PIN lives only in this input element (uncontrolled: not in React state,
 * not in the store). The parent takes it once with `take()`, which also clears the field; the
 * field is cleared again on unmount.
 */
import { forwardRef, useEffect, useId, useImperativeHandle, useRef, useState } from 'react';

export interface PinHandle {
  /** Returns the typed PIN and clears the field. */
  take(): string;
  clear(): void;
  focus(): void;
}

interface Props {
  label: string;
  hint?: string;
  invalid?: string | null;
  autoFocus?: boolean;
  onInput?: (length: number) => void;
  testId?: string;
}

export const PinField = forwardRef<PinHandle, Props>(function PinField({ label, hint, invalid, autoFocus, onInput, testId }, ref) {
  const input = useRef<HTMLInputElement>(null);
  const [shown, setShown] = useState(false);
  const id = useId();

  useImperativeHandle(ref, () => ({
    take() {
      const el = input.current;
      const v = el?.value ?? '';
      if (el) el.value = '';
      onInput?.(0);
      return v;
    },
    clear() {
      if (input.current) input.current.value = '';
      onInput?.(0);
    },
    focus() {
      input.current?.focus();
    },
  }));

  useEffect(() => {
    const el = input.current;
    return () => {
      if (el) el.value = '';
    };
  }, []);

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="pin-row">
        <input
          id={id}
          ref={input}
          type={shown ? 'text' : 'password'}
          autoComplete="off"
          autoCorrect="off"
          autoCapitalize="off"
          spellCheck={false}
          autoFocus={autoFocus}
          aria-invalid={invalid ? true : undefined}
          aria-describedby={hint || invalid ? `${id}-hint` : undefined}
          data-testid={testId}
          onInput={(e) => onInput?.((e.target as HTMLInputElement).value.length)}
        />
        <button
          type="button"
          className="secondary"
          aria-pressed={shown}
          aria-label={shown ? `Hide ${label}` : `Show ${label}`}
          onClick={() => setShown((s) => !s)}
        >
          {shown ? 'Hide' : 'Show'}
        </button>
      </div>
      {(hint || invalid) && (
        <p id={`${id}-hint`} className={invalid ? 'field-error' : 'hint'}>
          {invalid ?? hint}
        </p>
      )}
    </div>
  );
});
