/**
 * The token stopped answering mid-ceremony. First: what happened in plain words and a Retry
 * button (main reloads the module and finds the token again by serial). Then: the PIN again,
 * masked and taken once, with the token's PIN state; the interrupted step continues after it.
 */
import { useEffect, useRef } from 'react';
import { actions, useWizard } from '../store';
import { Actions } from './common';
import { PinLogin } from './PinLogin';

export function TokenLost() {
  const lost = useWizard((s) => s.lost);
  const token = useWizard((s) => s.token);
  const busy = useWizard((s) => s.busy);
  const box = useRef<HTMLDivElement>(null);
  const stage = lost?.stage;
  useEffect(() => {
    if (stage) box.current?.focus();
  }, [stage]);
  if (!lost) return null;
  const named = `“${lost.label}” (serial ${lost.serial})`;

  if (lost.stage === 'reconnect') {
    return (
      <div className="error token-lost" role="alert" tabIndex={-1} ref={box} data-testid="token-lost" data-stage="reconnect">
        <p className="error-title">The token {named} stopped answering.</p>
        <p>It was removed, or its store cannot be read. The session on it was closed; nothing more is done with it until it is back.</p>
        <p><strong>Reconnect the token, then press Retry.</strong> You will be asked for its PIN again.</p>
        <p className="error-detail">Details (TOKEN_NOT_PRESENT): {lost.message}</p>
        {lost.retryProblem && (
          <p className="error-inline" data-testid="token-retry-problem">
            Still not found ({lost.retryProblem.code}): {lost.retryProblem.message}
          </p>
        )}
        <Actions>
          <button type="button" onClick={() => void actions.reconnectToken()} disabled={!!busy} data-testid="token-retry">Retry / reconnect</button>
        </Actions>
      </div>
    );
  }

  return (
    <div className="notice token-lost" role="region" aria-labelledby="token-back-title" tabIndex={-1} ref={box} data-testid="token-lost" data-stage="pin">
      <h2 id="token-back-title">The token {named} answers again</h2>
      <p>
        Type its user PIN to log in again.
        {lost.resumes ? <> Then “{lost.resumes}” continues where it stopped.</> : <> Then repeat the step that was interrupted.</>}
      </p>
      <PinLogin
        token={{ flags: token?.flags ?? {} }}
        busy={!!busy}
        ids="reconnect-"
        submitLabel={lost.resumes ? 'Log in and continue' : 'Log in'}
        onLogin={(pin) => actions.reloginAfterReconnect(pin)}
      />
    </div>
  );
}
