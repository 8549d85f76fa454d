import { useRef, useState } from 'react';
import { PinField, type PinHandle } from '../components/PinField';
import { actions, useWizard } from '../store';
import { Actions, Screen } from '../components/common';
import { CaKeysPanel, algName } from '../components/PostQuantum';

/** The passphrase rules of a new key file, the same for the software keystore and the ML-DSA file. */
const RECOMMENDED_PASSPHRASE = 12;

export function Review() {
  const review = useWizard((s) => s.review);
  const busy = useWizard((s) => s.busy);
  const [typed, setTyped] = useState('');
  const [witnessed, setWitnessed] = useState(false);
  const keystore = useWizard((s) => s.keystore);
  const pass = useRef<PinHandle>(null);
  const alt = useRef<PinHandle>(null);
  const alt2 = useRef<PinHandle>(null);
  const [passMissing, setPassMissing] = useState(false);
  const [altProblem, setAltProblem] = useState<string | null>(null);
  const [altLength, setAltLength] = useState(0);
  if (!review) return null;
  const matches = typed.trim() === review.commonName;
  const hybrid = review.altSignatureAlgorithm !== null;
  const catalystOids = new Set(review.catalystExtensions.map((e) => e.oid));
  const signer = keystore === 'software' ? 'the key file' : 'the token';
  return (
    <Screen title="Review before signing" intro={<p>Read this aloud to the witnesses. The {hybrid ? 'keys sign' : `${keystore === 'software' ? 'key file' : 'token'} signs`} only after the confirmation below.</p>}>
      <dl className="fields review" data-testid="review">
        <div className="field-row"><dt>Subject</dt><dd>{review.subject}</dd></div>
        <div className="field-row"><dt>Issuer</dt><dd>{review.issuer}</dd></div>
        <div className="field-row"><dt>Valid from</dt><dd>{review.notBefore}</dd></div>
        <div className="field-row"><dt>Valid until</dt><dd>{review.notAfter}</dd></div>
        <div className="field-row"><dt>Key</dt><dd>{review.keyAlgorithm} · {review.keyStorage}</dd></div>
        <div className="field-row"><dt>Key fingerprint (SHA-256 of the public key)</dt><dd className="mono">{review.keyFingerprint}</dd></div>
        <div className="field-row">
          <dt>{hybrid ? 'Primary signature' : 'Signature algorithm'}</dt>
          <dd data-testid="review-signature">{review.signatureAlgorithm}{hybrid ? ` (${algName(review.signatureAlgorithm)}), made by ${signer}` : ''}</dd>
        </div>
        {hybrid && (
          <div className="field-row">
            <dt>Alternative signature</dt>
            <dd data-testid="review-alt-signature">{review.altSignatureAlgorithm} ({algName(review.altSignatureAlgorithm)}), made by the ML-DSA key file</dd>
          </div>
        )}
        <div className="field-row"><dt>CA directory</dt><dd className="mono">{review.dir}</dd></div>
      </dl>
      {(hybrid || review.keyAlgorithm.startsWith('ml-dsa-')) && <CaKeysPanel keys={review.keys} />}
      <h2>Extensions</h2>
      <dl className="fields">
        {review.extensions.filter((e) => !catalystOids.has(e.oid)).map((e, i) => (
          <div className="field-row" key={i}>
            <dt>{e.name}{e.critical ? ' (critical)' : ''}</dt>
            <dd>{e.value}</dd>
          </div>
        ))}
      </dl>
      {hybrid && (
        <section aria-labelledby="catalyst-title" data-testid="review-catalyst">
          <h2 id="catalyst-title">Catalyst extensions that will be added</h2>
          <p className="hint">Non-critical (ITU-T X.509 §9.8): software that does not know them still checks the primary signature.</p>
          <dl className="fields">
            {review.catalystExtensions.map((e) => (
              <div className="field-row" key={e.oid}>
                <dt>{e.name}{e.critical ? ' (critical)' : ''}<span className="oid">{e.oid}</span></dt>
                <dd>{e.value}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      <form
        className="panel confirm"
        onSubmit={(e) => {
          e.preventDefault();
          if (!matches || !witnessed) return;
          let p: string | undefined;
          let a: string | undefined;
          if (keystore === 'software') {
            p = pass.current?.take() ?? '';
            if (!p) { setPassMissing(true); alt.current?.clear(); alt2.current?.clear(); return; }
            setPassMissing(false);
          }
          if (hybrid) {
            a = alt.current?.take() ?? '';
            const again = alt2.current?.take() ?? '';
            setAltLength(0);
            // A refused pair clears both fields (and the other passphrase): nothing typed lingers.
            if (!a) { setAltProblem('Type a passphrase: the ML-DSA key file is always encrypted.'); pass.current?.clear(); alt.current?.focus(); return; }
            if (a !== again) { setAltProblem('The two ML-DSA passphrases differ. Type them again.'); pass.current?.clear(); alt.current?.focus(); return; }
            setAltProblem(null);
          }
          void actions.sign(typed.trim(), p, a);
        }}
      >
        <h2>Confirmation</h2>
        <div className="field">
          <label htmlFor="confirm-cn">Type the CA’s common name to confirm: <strong>{review.commonName}</strong></label>
          <input id="confirm-cn" value={typed} spellCheck={false} autoComplete="off" onChange={(e) => setTyped(e.target.value)} data-testid="confirm-cn" />
        </div>
        {keystore === 'software' && (
          <PinField ref={pass} label={hybrid ? `Passphrase for the new ${algName(review.keyAlgorithm)} key file` : 'Passphrase for the new CA key file'} hint="The key file is encrypted with it. 12 or more characters; keep it apart from the backup." invalid={passMissing ? 'Type a passphrase: the CA key file is always encrypted.' : null} testId="passphrase" />
        )}
        {hybrid && (
          <fieldset className="alt-passphrase" data-testid="alt-passphrase-fields">
            <legend>Passphrase for the new {algName(review.altSignatureAlgorithm)} key file</legend>
            <PinField ref={alt} label="ML-DSA key file passphrase" onInput={setAltLength}
              hint={altLength > 0 && altLength < RECOMMENDED_PASSPHRASE ? `Shorter than the recommended ${RECOMMENDED_PASSPHRASE} characters.` : `The ML-DSA key file is encrypted with it. ${RECOMMENDED_PASSPHRASE} or more characters; it is asked for again at every later signature (certificates, CRLs).`}
              invalid={altProblem} testId="alt-passphrase" />
            <PinField ref={alt2} label="ML-DSA key file passphrase, again" testId="alt-passphrase2" />
          </fieldset>
        )}
        <label className="check">
          <input type="checkbox" checked={witnessed} onChange={(e) => setWitnessed(e.target.checked)} data-testid="confirm-witness" />
          The witnesses have checked the details above.
        </label>
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go('profile')}>Back</button>
          <button type="submit" className="sign" disabled={!matches || !witnessed || !!busy} data-testid="sign">
            {hybrid ? `Sign with ${keystore === 'software' ? 'both key files' : 'the token and the ML-DSA key file'}` : keystore === 'software' ? 'Sign with the key file' : 'Sign with token'}
          </button>
        </Actions>
      </form>
    </Screen>
  );
}
