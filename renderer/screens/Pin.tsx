import { useRef, useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Screen } from '../components/common';
import { PinField, type PinHandle } from '../components/PinField';

export function Pin() {
  const token = useWizard((s) => s.token);
  const busy = useWizard((s) => s.busy);
  const pin = useRef<PinHandle>(null);
  const [confirmFinal, setConfirmFinal] = useState(false);
  const [empty, setEmpty] = useState(false);
  if (!token) return null;
  const f = token.flags;
  const locked = !!f.userPinLocked;
  const finalTry = !!f.userPinFinalTry;
  return (
    <Screen title={`Log in to “${token.label}”`} intro={<p>Type the user PIN. It goes once to the token and is not kept anywhere by this app.</p>}>
      <div className="pin-state" data-testid="pin-state">
        {locked ? (
          <p className="error-inline" role="alert">The user PIN is locked. No login is possible: the security officer must unlock or reset it with the vendor tool.</p>
        ) : finalTry ? (
          <p className="warning-inline" role="alert">Final try: one more wrong PIN locks this token.</p>
        ) : f.userPinCountLow ? (
          <p className="warning-inline" role="status">A wrong PIN was entered recently. Few tries remain before the token locks.</p>
        ) : (
          <p role="status">PIN state: normal. The token accepts PINs of {token.minPinLen} to {token.maxPinLen} characters.</p>
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
          void actions.login(value, confirmFinal).then(() => setConfirmFinal(false));
        }}
      >
        <PinField ref={pin} label="User PIN" autoFocus invalid={empty ? 'Type the PIN first.' : null} testId="pin" />
        {finalTry && !locked && (
          <label className="check">
            <input type="checkbox" checked={confirmFinal} onChange={(e) => setConfirmFinal(e.target.checked)} data-testid="confirm-final" />
            I understand that a wrong PIN now locks the token.
          </label>
        )}
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go('token')}>Back</button>
          <button type="submit" disabled={locked || (finalTry && !confirmFinal) || !!busy} data-testid="login">
            Log in
          </button>
        </Actions>
      </form>
    </Screen>
  );
}
