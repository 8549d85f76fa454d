/**
 * The token's PIN state in words and the masked PIN form: used by the PIN step and again when a
 * token comes back after being pulled out. The PIN is taken from the field once, on submit. On
 * the final try main asks the operator itself in its own dialog before the PIN goes to the
 * token: nothing on this page can confirm it.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Actions } from './common';
import { useWizard } from '../store';
import { PinField, type PinHandle } from './PinField';

export interface PinTokenState {
  flags: { userPinLocked?: boolean; userPinFinalTry?: boolean; userPinCountLow?: boolean };
  minPinLen?: number;
  maxPinLen?: number;
}

export function PinLogin(props: {
  token: PinTokenState;
  busy: boolean;
  /** Prefix of the test ids ('' for the PIN step, 'reconnect-' when the token is back). */
  ids: '' | 'reconnect-';
  submitLabel: string;
  onLogin: (pin: string) => Promise<unknown>;
  /** Buttons placed before the submit button (Back). */
  before?: ReactNode;
  /** Wrong PINs typed for this token in this ceremony, as its record counts them. */
  wrongTries?: number;
}) {
  const { token, ids } = props;
  const pin = useRef<PinHandle>(null);
  const [empty, setEmpty] = useState(false);
  const wrong = props.wrongTries ?? 0;
  const errorCode = useWizard((s) => s.error?.code);
  // After a wrong PIN the next one is typed straight away: the field takes the focus back from the
  // error box once that has been focused (the box is an alert, so it is still announced).
  useEffect(() => {
    if (wrong === 0 || errorCode !== 'PIN_INCORRECT') return;
    const t = setTimeout(() => pin.current?.focus(), 0);
    return () => clearTimeout(t);
  }, [wrong, errorCode]);
  const f = token.flags;
  const locked = !!f.userPinLocked;
  const finalTry = !!f.userPinFinalTry;
  return (
    <>
      <div className="pin-state" data-testid={`${ids}pin-state`}>
        {locked ? (
          <p className="error-inline" role="alert">The user PIN is locked. No login is possible: the security officer must unlock or reset it with the vendor tool.</p>
        ) : finalTry ? (
          <p className="warning-inline" role="alert">Final try: one more wrong PIN locks this token. Before the PIN is sent, the app asks you to confirm in a separate dialog.</p>
        ) : f.userPinCountLow ? (
          <p className="warning-inline" role="status">A wrong PIN was entered recently. Few tries remain before the token locks.</p>
        ) : token.minPinLen !== undefined ? (
          <p role="status">PIN state: normal. The token accepts PINs of {token.minPinLen} to {token.maxPinLen} characters.</p>
        ) : null}
        {wrong > 0 && (
          <p role="status" data-testid={`${ids}wrong-tries`}>
            {wrong === 1 ? 'One wrong PIN' : `${wrong} wrong PINs`} typed for this token in this ceremony (each is on its record).
          </p>
        )}
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const value = pin.current?.take() ?? '';
          if (!value) {
            setEmpty(true);
            pin.current?.focus();
            return;
          }
          setEmpty(false);
          void props.onLogin(value);
        }}
      >
        <PinField ref={pin} label="User PIN" autoFocus invalid={empty ? 'Type the PIN first.' : null} testId={`${ids}pin`} />
        <Actions primary>
          {props.before}
          <button type="submit" disabled={locked || props.busy} data-testid={`${ids}login`}>
            {props.submitLabel}
          </button>
        </Actions>
      </form>
    </>
  );
}
