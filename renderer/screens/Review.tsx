import { useId, useRef, useState, type FormEvent } from 'react';
import { PinField, type PinHandle } from '../components/PinField';
import { actions, useWizard, type Screen as ScreenName } from '../store';
import { Actions, Screen } from '../components/common';
import { AlgName, CaKeysPanel, algName } from '../components/PostQuantum';
import { LintPanel } from '../components/LintPanel';
import type { SigningRequestT } from '../../shared/contract';
import { Hash } from '../components/Hash';

/** New key files are always encrypted, with at least this many characters (main refuses fewer). */
const MIN_PASSPHRASE = 12;

const CATALYST = new Set(['2.5.29.72', '2.5.29.73', '2.5.29.74']);

/**
 * What main prepared to sign, decoded in full: the exact structure the token will sign, with the
 * SHA-256 of its DER. Read aloud to the witnesses; main asks once more in its own dialog.
 */
// eslint-disable-next-line max-lines-per-function -- the review's rows, one per field of what is signed
export function RequestDetails({ r }: { r: SigningRequestT }) {
  const isCert = r.kind === 'certificate';
  // A request for an external parent has a subject and a key, but no issuer, dates or serial: the parent sets them.
  const isCsr = r.kind === 'csr';
  const fields = r.document.fields.filter((f) => f.label !== 'SHA-1 fingerprint');
  return (
    <>
        {/* Grouped as a browser's certificate viewer groups them, so a witness finds each part. */}
        <div className="review-groups" data-testid="review">
          <section aria-labelledby="review-general">
            <h2 id="review-general">General</h2>
            <dl className="fields review">
              {isCert && (
                <div className="field-row"><dt>Certificate authority</dt>
                  <dd data-testid="review-ca">{r.isCa ? `Yes${r.pathLen !== null ? `, path length ${r.pathLen}` : ', no path length limit'}` : 'No (end entity)'}</dd></div>
              )}
              {r.serial && <div className="field-row"><dt>Serial number</dt><dd className="mono" data-testid="review-serial">{r.serial}</dd></div>}
              {r.crl && <div className="field-row"><dt>CRL number</dt><dd data-testid="review-crl-number">{r.crl.number}</dd></div>}
              {r.crl && (
                <div className="field-row"><dt>Replaces</dt>
                  <dd data-testid="review-crl-replaces">{r.crl.replaces ? `This CRL replaces CRL number ${r.crl.replaces.number} of ${r.crl.replaces.thisUpdate} (crl/ca.crl is overwritten)` : 'Nothing: the CA’s first CRL'}</dd></div>
              )}
              {!isCsr && <div className="field-row"><dt>{isCert ? 'Valid from' : 'This update'}</dt><dd>{r.notBefore}</dd></div>}
              {!isCsr && <div className="field-row"><dt>{isCert ? 'Valid until' : 'Next update'}</dt><dd>{r.notAfter} ({r.validityDays} days)</dd></div>}
              {isCsr && <div className="field-row"><dt>Request</dt><dd data-testid="review-csr-kind">A certificate request for an external parent CA, which decides the certificate’s issuer, dates, serial and extensions</dd></div>}
              <div className="field-row"><dt>Written to</dt><dd className="mono" data-testid="review-target">{r.targetDir}</dd></div>
            </dl>
          </section>
          <section aria-labelledby="review-names">
            <h2 id="review-names">{isCsr ? 'Subject' : isCert ? 'Subject and issuer' : 'Issuer'}</h2>
            <dl className="fields review">
              {(isCert || isCsr) && <div className="field-row"><dt>Subject</dt><dd data-testid="review-subject">{r.subject}</dd></div>}
              {!isCsr && <div className="field-row"><dt>Issuer</dt><dd data-testid="review-issuer">{r.issuer}{r.purpose === 'root' ? ' (self-signed)' : ''}</dd></div>}
            </dl>
          </section>
          {(isCert || isCsr) && (
            <section aria-labelledby="review-key">
              <h2 id="review-key">Subject key</h2>
              <dl className="fields review">
                <div className="field-row"><dt>Algorithm</dt><dd data-testid="review-key-algorithm"><AlgName code={r.keyAlgorithm} /></dd></div>
                <div className="field-row"><dt>Public key SHA-256</dt><dd><Hash value={r.keyFingerprint ?? ''} testId="review-key-fingerprint" /></dd></div>
              </dl>
            </section>
          )}
          <section aria-labelledby="review-signature-title">
            <h2 id="review-signature-title">Signature</h2>
            <dl className="fields review">
              <div className="field-row"><dt>Signed by</dt><dd data-testid="review-signed-by">{r.signedBy}</dd></div>
              <div className="field-row">
                <dt>{r.altSignatureAlgorithm ? 'Primary signature' : 'Signature algorithm'}</dt>
                <dd data-testid="review-signature"><AlgName code={r.signatureAlgorithm} /></dd>
              </div>
              {r.altSignatureAlgorithm && (
                <div className="field-row"><dt>Alternative signature</dt><dd data-testid="review-alt-signature"><AlgName code={r.altSignatureAlgorithm} />, made by the CA’s ML-DSA key</dd></div>
              )}
            </dl>
          </section>
          <section aria-labelledby="review-fingerprints">
            <h2 id="review-fingerprints">Fingerprint</h2>
            <dl className="fields review">
              <div className="field-row"><dt>To-be-signed SHA-256</dt><dd><Hash value={r.tbsSha256} testId="review-tbs-sha256" /></dd></div>
            </dl>
          </section>
        </div>
        {r.warnings.length > 0 && (
          <div className="notice" role="note" data-testid="review-warnings">{r.warnings.map((w, i) => <p key={i}>{w}</p>)}</div>
        )}
        {!isCsr && <LintPanel lint={r.lint} />}
        {r.keys.length > 0 && <CaKeysPanel keys={r.keys} title="Keys of the new CA" />}
        {r.csr && (
          <section aria-labelledby="csr-title" data-testid="review-csr">
            <h2 id="csr-title">The certificate request</h2>
            <dl className="fields">
              <div className="field-row"><dt>Requested subject</dt><dd>{r.csr.subject || '(empty)'}</dd></div>
              <div className="field-row"><dt>Requested names</dt><dd>{r.csr.subjectAltNames.join(', ') || '(none)'}</dd></div>
              <div className="field-row"><dt>Key</dt><dd>{algName(r.csr.keyAlgorithm)}, SHA-256 <Hash value={r.csr.keyFingerprint} /></dd></div>
              <div className="field-row"><dt>Request’s own signature</dt><dd>{r.csr.signatureValid ? 'valid (the holder has the key)' : 'INVALID'}</dd></div>
              <div className="field-row"><dt>Request SHA-256</dt><dd><Hash value={r.csr.sha256} /></dd></div>
            </dl>
            {r.csr.differences.length > 0 ? (
              <div className="notice" data-testid="review-differences">
                <h3>Where the certificate differs from the request</h3>
                <dl className="fields">
                  {r.csr.differences.map((d, i) => (
                    <div className="field-row" key={i}><dt>{d.field}</dt><dd>Requested: {d.requested}<br />Certificate: {d.issued}</dd></div>
                  ))}
                </dl>
              </div>
            ) : <p data-testid="review-no-differences">The certificate says what the request asks for.</p>}
          </section>
        )}
        {r.crl && (
          <section aria-labelledby="crl-title" data-testid="review-crl">
            <h2 id="crl-title">Revoked certificates listed</h2>
            {r.crl.revoked.length === 0 ? <p>None.</p> : (
              <ul>{r.crl.revoked.map((x) => <li key={x.serial}><span className="mono">{x.serial}</span> since {x.date}{x.reason ? ` (${x.reason})` : ''}</li>)}</ul>
            )}
          </section>
        )}
        <h2>Every field, as decoded from the bytes to be signed</h2>
        <dl className="fields">
          {fields.map((f, i) => <div key={i} className="field-row"><dt>{f.label}</dt><dd>{f.value}</dd></div>)}
        </dl>
        <h2>Extensions</h2>
        <dl className="fields" data-testid="review-extensions">
          {r.document.extensions.map((e, i) => (
            <div className="field-row" key={i}>
              <dt>{e.name}{e.critical ? ' (critical)' : ''}<span className="oid">{e.oid}</span>{CATALYST.has(e.oid) ? ' (Catalyst)' : ''}</dt>
              <dd>{e.value}</dd>
            </div>
          ))}
        </dl>
        {isCsr && r.document.extensions.length === 0 && <p data-testid="review-no-extensions">None requested: the parent CA decides the certificate’s extensions.</p>}
        {r.addedAtSigning && <p className="hint" data-testid="review-added-at-signing">Added when signing: {r.addedAtSigning}</p>}
    </>
  );
}

/** The CA's ML-DSA key file, where it has one (its path is named where its passphrase is asked). */
function useAltFile() {
  return useWizard((s) => s.ca?.keys.find((k) => k.role === 'alternative' && k.file) ?? null);
}

/** The confirmation below a review: typed name (new CAs), passphrases, the witnesses' check, Sign. */
// eslint-disable-next-line max-lines-per-function -- a React form: markup; the signature's rules are in main
export function SignForm({ r, back }: { r: SigningRequestT; back: ScreenName }) {
  const busy = useWizard((s) => s.busy);
  const keystore = useWizard((s) => s.keystore);
  const altFile = useAltFile();
  // Main says which passphrases signing needs (it knows which keys are files).
  const need = { primary: r.secrets.passphrase, alt: r.secrets.altPassphrase };
  const [typed, setTyped] = useState('');
  const [witnessed, setWitnessed] = useState(false);
  const pass = useRef<PinHandle>(null);
  const pass2 = useRef<PinHandle>(null);
  const alt = useRef<PinHandle>(null);
  const alt2 = useRef<PinHandle>(null);
  const [passProblem, setPassProblem] = useState<string | null>(null);
  const [altProblem, setAltProblem] = useState<string | null>(null);
  // A new CA (a root, or a subordinate whose key is made part of it here) is confirmed by typing its name.
  const typeName = r.purpose === 'root' || (r.purpose === 'subordinate-ca' && r.keys.length > 0 && !!r.commonName);
  const typedOk = !typeName || typed.trim() === r.commonName;
  const clearAll = () => [pass, pass2, alt, alt2].forEach((f) => f.current?.clear());
  /** A new key file's passphrase: typed twice, the same, long enough; otherwise both fields are cleared. */
  const takeNew = (a: typeof pass, b: typeof pass, setProblem: (p: string | null) => void, what: string): string | null => {
    const one = a.current?.take() ?? '';
    const two = b.current?.take() ?? '';
    if (!one) { setProblem(`Type a passphrase: ${what} is always encrypted.`); return null; }
    if (one.length < MIN_PASSPHRASE) { setProblem(`The passphrase must have at least ${MIN_PASSPHRASE} characters.`); return null; }
    if (one !== two) { setProblem(`The two passphrases for ${what} differ. Type them again.`); return null; }
    setProblem(null);
    return one;
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!typedOk || !witnessed) return;
    let p: string | undefined;
    let a: string | undefined;
    if (need.primary === 'new') {
      const v = takeNew(pass, pass2, setPassProblem, 'the CA key file');
      if (!v) { clearAll(); pass.current?.focus(); return; }
      p = v;
    } else if (need.primary === 'existing') p = pass.current?.take() || undefined;
    if (need.alt === 'new') {
      const v = takeNew(alt, alt2, setAltProblem, 'the ML-DSA key file');
      if (!v) { clearAll(); alt.current?.focus(); return; }
      a = v;
    } else if (need.alt === 'existing') a = alt.current?.take() || undefined;
    void actions.sign(p, a);
  };
  const signer = r.purpose === 'csr' ? 'the token' : r.purpose === 'crl' || r.purpose !== 'root' ? 'the CA key' : keystore === 'software' ? 'the key file' : 'the token';
  const formId = useId();
  // The action bar sits beside the form, not in it: a sticky bar stays inside its parent, and this
  // form is only the last panel of a long review, so inside it Sign would sit far below the fold.
  // The buttons still belong to the form (form attribute): Enter in a field signs as before.
  return (
    <>
    <form className="panel confirm" id={formId} onSubmit={onSubmit}>
      <h2>Confirmation</h2>
      <p className="hint">When you press Sign, the app asks once more in its own window, with the to-be-signed SHA-256 above; nothing is signed until you answer there.</p>
      {typeName && (
        <div className="field">
          <label htmlFor="confirm-cn">Type the CA’s common name to confirm: <strong>{r.commonName}</strong></label>
          <input id="confirm-cn" value={typed} spellCheck={false} autoComplete="off" onChange={(e) => setTyped(e.target.value)} data-testid="confirm-cn" />
        </div>
      )}
      {need.primary === 'new' && (
        <fieldset className="alt-passphrase" data-testid="passphrase-fields">
          <legend>Passphrase for the new {algName(r.keyAlgorithm)} key file</legend>
          <PinField ref={pass} label="Passphrase" hint={`The key file is encrypted with it. ${MIN_PASSPHRASE} or more characters; keep it apart from the backup.`} invalid={passProblem} testId="passphrase" />
          <PinField ref={pass2} label="Passphrase, again" testId="passphrase2" />
        </fieldset>
      )}
      {need.primary === 'existing' && <PinField ref={pass} label={need.alt ? 'Classical CA key file passphrase' : 'CA key file passphrase'} testId="ca-passphrase" />}
      {need.alt === 'new' && (
        <fieldset className="alt-passphrase" data-testid="alt-passphrase-fields">
          <legend>Passphrase for the new {algName(r.altSignatureAlgorithm)} key file</legend>
          <PinField ref={alt} label="ML-DSA key file passphrase" hint={`The ML-DSA key file is encrypted with it. ${MIN_PASSPHRASE} or more characters; it is asked for again at every later signature (certificates, CRLs).`} invalid={altProblem} testId="alt-passphrase" />
          <PinField ref={alt2} label="ML-DSA key file passphrase, again" testId="alt-passphrase2" />
        </fieldset>
      )}
      {need.alt === 'existing' && (
        <PinField ref={alt} label={`${algName(altFile?.algorithm ?? r.altSignatureAlgorithm)} key file passphrase`} testId="ca-alt-passphrase"
          hint={`The CA’s alternative (Catalyst) signature is made by ${altFile?.file?.path ?? 'its ML-DSA key file'}; the passphrase is used for this one signature and not kept.`} />
      )}
      <label className="check">
        <input type="checkbox" checked={witnessed} onChange={(e) => setWitnessed(e.target.checked)} data-testid="confirm-witness" />
        The witnesses have checked the details above.
      </label>
    </form>
      <Actions primary>
        <button type="button" className="secondary" onClick={() => void actions.withdrawReview(back)} data-testid="review-back">Back</button>
        <button type="submit" form={formId} className="sign" disabled={!typedOk || !witnessed || !!busy || r.lint.blocking.length > 0} data-testid="sign">
          {r.altSignatureAlgorithm ? `Sign with ${signer} and the ML-DSA key` : `Sign with ${signer}`}
        </button>
      </Actions>
    </>
  );
}

export function Review() {
  const review = useWizard((s) => s.review);
  const keystore = useWizard((s) => s.keystore);
  if (!review) return null;
  return (
    <Screen title={review.kind === 'csr' ? review.document.title : 'Review before signing'} intro={<p>Read this aloud to the witnesses. The {keystore === 'software' ? 'key file signs' : 'token signs'} exactly this, and only after the confirmation below and the app’s own question.</p>}>
      <RequestDetails r={review} />
      {/* A plan's request for an external parent was opened from the plan screen: going back returns there. */}
      <SignForm r={review} back={review.kind === 'csr' ? 'plan' : 'profile'} />
    </Screen>
  );
}
