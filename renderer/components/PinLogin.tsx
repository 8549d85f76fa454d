/**
 * The token's PIN state in words and the masked PIN form: used by the PIN step and again when a
 * token comes back after being pulled out. The PIN is taken from the field once, on submit. On
 * the final try main asks the operator itself in its own dialog before the PIN goes to the
 * token: nothing on this page can confirm it.
 */
import { useRef, useState, type ReactNode } from 'react';
import { Actions } from './common';
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
}) {
  const { token, ids } = props;
  const pin = useRef<PinHandle>(null);
  const [empty, setEmpty] = useState(false);
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
