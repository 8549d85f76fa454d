import { useRef, useState } from 'react';
import { PinField, type PinHandle } from '../components/PinField';
import { actions, useWizard } from '../store';
import { Actions, Screen } from '../components/common';

export function Review() {
  const review = useWizard((s) => s.review);
  const busy = useWizard((s) => s.busy);
  const [typed, setTyped] = useState('');
  const [witnessed, setWitnessed] = useState(false);
  const keystore = useWizard((s) => s.keystore);
  const pass = useRef<PinHandle>(null);
  const [passMissing, setPassMissing] = useState(false);
  if (!review) return null;
  const matches = typed.trim() === review.commonName;
  return (
    <Screen title="Review before signing" intro={<p>Read this aloud to the witnesses. The token signs only after the confirmation below.</p>}>
      <dl className="fields review" data-testid="review">
        <div className="field-row"><dt>Subject</dt><dd>{review.subject}</dd></div>
        <div className="field-row"><dt>Issuer</dt><dd>{review.issuer}</dd></div>
        <div className="field-row"><dt>Valid from</dt><dd>{review.notBefore}</dd></div>
        <div className="field-row"><dt>Valid until</dt><dd>{review.notAfter}</dd></div>
        <div className="field-row"><dt>Key</dt><dd>{review.keyAlgorithm} · {review.keyStorage}</dd></div>
        <div className="field-row"><dt>Key fingerprint (SHA-256 of the public key)</dt><dd className="mono">{review.keyFingerprint}</dd></div>
        <div className="field-row"><dt>Signature algorithm</dt><dd>{review.signatureAlgorithm}</dd></div>
        <div className="field-row"><dt>CA directory</dt><dd className="mono">{review.dir}</dd></div>
      </dl>
      <h2>Extensions</h2>
      <dl className="fields">
        {review.extensions.map((e, i) => (
          <div className="field-row" key={i}>
            <dt>{e.name}{e.critical ? ' (critical)' : ''}</dt>
            <dd>{e.value}</dd>
          </div>
        ))}
      </dl>
      <form
        className="panel confirm"
        onSubmit={(e) => {
          e.preventDefault();
          if (!matches || !witnessed) return;
          if (keystore === 'software') {
            const p = pass.current?.take() ?? '';
            if (!p) { setPassMissing(true); return; }
            setPassMissing(false);
            void actions.sign(typed.trim(), p);
          } else void actions.sign(typed.trim());
        }}
      >
        <h2>Confirmation</h2>
        <div className="field">
          <label htmlFor="confirm-cn">Type the CA’s common name to confirm: <strong>{review.commonName}</strong></label>
          <input id="confirm-cn" value={typed} spellCheck={false} autoComplete="off" onChange={(e) => setTyped(e.target.value)} data-testid="confirm-cn" />
        </div>
        {keystore === 'software' && (
          <PinField ref={pass} label="Passphrase for the new CA key file" hint="The key file is encrypted with it. 12 or more characters; keep it apart from the backup." invalid={passMissing ? 'Type a passphrase: the CA key file is always encrypted.' : null} testId="passphrase" />
        )}
        <label className="check">
          <input type="checkbox" checked={witnessed} onChange={(e) => setWitnessed(e.target.checked)} data-testid="confirm-witness" />
          The witnesses have checked the details above.
        </label>
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go('profile')}>Back</button>
          <button type="submit" className="sign" disabled={!matches || !witnessed || !!busy} data-testid="sign">
            {keystore === 'software' ? 'Sign with the key file' : 'Sign with token'}
          </button>
        </Actions>
      </form>
    </Screen>
  );
}
