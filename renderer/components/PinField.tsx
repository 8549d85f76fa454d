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
  /** Whether this field holds exactly what `other` holds (both non-empty): the "matches" indicator of a PIN typed twice. */
  matches(other: PinHandle | null): boolean;
  /** For `matches` only: the typed value, compared and dropped, never kept. */
  peek(): string;
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
      // An emptied field is masked again: the next PIN typed into it is not shown by surprise.
      setShown(false);
      onInput?.(0);
      return v;
    },
    clear() {
      if (input.current) input.current.value = '';
      setShown(false);
      onInput?.(0);
    },
    focus() {
      input.current?.focus();
    },
    matches(other) {
      const mine = input.current?.value ?? '';
      return mine !== '' && other !== null && mine === other.peek();
    },
    peek() {
      return input.current?.value ?? '';
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
          onInput={(e) => {
            const n = (e.target as HTMLInputElement).value.length;
            if (n === 0) setShown(false);
            onInput?.(n);
          }}
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
