import { useEffect, useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, DescribedView, Screen, focusFirstInvalid } from '../components/common';
import { VariableForm, validateAll } from '../components/VariableForm';
import { ProfilePicker } from './Profile';
import { readFileForInspection } from './Inspector';
import { useRef } from 'react';
import { CaKeysPanel, algName } from '../components/PostQuantum';
import { RequestDetails, SignForm } from './Review';
import { Revoke } from './Revoke';

/** Open an existing CA directory; once open (and logged in), choose what to sign. */
export function Ca() {
  const ca = useWizard((s) => s.ca);
  const caDir = useWizard((s) => s.caDir);
  const loggedIn = useWizard((s) => s.loggedIn);
  const token = useWizard((s) => s.token);
  const caDirId = useWizard((s) => s.caDirId);
  return (
    <Screen title={ca ? 'CA directory' : 'Open a CA directory'}>
      <form onSubmit={(e) => { e.preventDefault(); if (caDirId) void actions.openCa(caDirId); }}>
        <div className="field">
          <span className="label" id="open-dir-label">CA directory</span>
          <div className="pin-row">
            <output className="mono" aria-labelledby="open-dir-label" data-testid="open-dir">{caDir || 'No directory chosen yet'}</output>
            <button type="button" className="secondary" onClick={() => void actions.chooseDirectory('open-ca')} data-testid="choose-open-dir">Choose…</button>
          </div>
          <p className="hint">The folder that holds ca.meta.json and ca.crt, picked in the app’s own dialog.</p>
        </div>
        {/* Once a CA is open, its tasks below are the screen's action bar, not opening another. */}
        <Actions primary={!ca}>
          <button type="button" className="secondary" onClick={() => actions.go('start')}>Back</button>
          <button type="submit" disabled={!caDirId} data-testid="open-ca">Open</button>
        </Actions>
      </form>
      {ca && (
        <>
          {ca.keys.length > 1 ? <CaKeysPanel keys={ca.keys} /> : <p>Key storage: {ca.keyStorage}</p>}
          {ca.token && !loggedIn && (
            <p className="notice">To sign with this CA, log in to its token: <button type="button" onClick={() => void actions.loginForCa()} data-testid="ca-login">Log in to “{ca.token?.label}”</button></p>
          )}
          {loggedIn && token && <p role="status">Logged in to “{token.label}”.</p>}
          <Actions primary label="With this CA">
            <button type="button" onClick={() => void actions.startIssue('csr')} data-testid="ca-sub-ca">Issue a subordinate CA from a CSR</button>
            <button type="button" onClick={() => void actions.startIssue('end-entity')} data-testid="ca-ee">Issue an end-entity certificate</button>
            <button type="button" onClick={() => void actions.startRevoke()} data-testid="ca-revoke">Revoke a certificate</button>
            <button type="button" onClick={() => void actions.startIssue('crl')} data-testid="ca-crl">Generate a CRL</button>
            <button type="button" className="secondary" onClick={() => void actions.closeCeremony()} data-testid="ca-close-ceremony">Close the ceremony…</button>
          </Actions>
          <DescribedView doc={ca.certificate} />
        </>
      )}
    </Screen>
  );
}

/** Issue from a CSR (subordinate CA or end entity), or sign a CRL, with the CA that is open: prepared, reviewed, signed. */
// eslint-disable-next-line max-lines-per-function -- a React screen: markup; the rules are in main
export function Issue() {
  const mode = useWizard((s) => s.issueMode);
  const profile = useWizard((s) => s.profile);
  const vars = useWizard((s) => s.vars);
  const caDir = useWizard((s) => s.caDir);
  const crl = useWizard((s) => s.crl);
  const review = useWizard((s) => s.review);
  const isRoot = useWizard((s) => !!s.ca?.isRoot);
  // The Sign button is disabled while the CA key works, which drops its focus: the outcome takes it.
  const crlDone = useRef<HTMLParagraphElement>(null);
  const lastCrl = useRef(crl);
  useEffect(() => {
    if (crl && crl !== lastCrl.current) crlDone.current?.focus();
    lastCrl.current = crl;
  }, [crl]);
  const [csr, setCsr] = useState('');
  const [showAll, setShowAll] = useState(false);
  const plannedDays = useWizard((s) => (s.planned?.type === 'crl' ? s.planned.nextUpdateDays : null));
  const [days, setDays] = useState(plannedDays ?? 30);
  const [rootOverride, setRootOverride] = useState(false);
  const errors = profile ? validateAll(profile.variables, vars) : {};
  const title = mode === 'csr' ? 'Issue a subordinate CA from a CSR' : mode === 'end-entity' ? 'Issue an end-entity certificate' : 'Generate a CRL';
  if (mode === 'revoke') return <Revoke />;
  if (review) {
    return (
      <Screen title={`${title}: review before signing`} intro={<p>Read this aloud to the witnesses. The CA key signs exactly this, and only after the confirmation below and the app’s own question.</p>}>
        <RequestDetails r={review} />
        <SignForm r={review} back="issue" />
      </Screen>
    );
  }
  if (mode === 'crl') {
    return (
      <Screen title={title} intro={<p>CA directory: <span className="mono">{caDir}</span></p>}>
        <form onSubmit={(e) => { e.preventDefault(); void actions.prepareCrl(days); }}>
          <div className="field">
            <label htmlFor="crl-days">Valid for (days, at most 365: CA/Browser Forum BR 7.2)</label>
            <input id="crl-days" type="number" min={1} max={365} value={days} onChange={(e) => setDays(Number(e.target.value))} />
          </div>
          <Actions>
            <button type="button" className="secondary" onClick={() => actions.go('ca')}>Back</button>
            <button type="submit" data-testid="review-crl-button">Review the CRL</button>
          </Actions>
        </form>
        {crl && (
          <>
            <p role="status" tabIndex={-1} ref={crlDone} data-testid="crl-signed">Saved to <span className="mono" data-testid="crl-saved">{crl.savedTo}</span></p>
            <Actions>
              <button type="button" className="secondary" onClick={() => void actions.closeCeremony()} data-testid="crl-close-ceremony">Close the ceremony and log out…</button>
            </Actions>
            <DescribedView doc={crl.crl} />
          </>
        )}
      </Screen>
    );
  }
  const hasCsr = csr.includes('CERTIFICATE REQUEST');
  const ready = !!profile && Object.keys(errors).length === 0 && hasCsr;
  const rootEndEntity = mode === 'end-entity' && isRoot;
  return (
    <Screen title={title} intro={<p>CA directory: <span className="mono">{caDir}</span></p>}>
      <form noValidate onSubmit={(e) => {
        e.preventDefault();
        setShowAll(true);
        if (!ready || (rootEndEntity && !rootOverride)) {
          focusFirstInvalid(e.currentTarget);
          return;
        }
        void actions.prepareIssue(csr, rootEndEntity && rootOverride);
      }}>
        <ProfilePicker filter={(p) => (mode === 'csr' ? p.kind === 'ca' : p.kind === 'end-entity')} />
        <div className="field">
          <label htmlFor="csr">Certificate request (PEM)</label>
          <textarea id="csr" className="mono" rows={6} spellCheck={false} value={csr} data-testid="csr"
            onChange={(e) => { setCsr(e.target.value); if (e.target.value.includes('END CERTIFICATE REQUEST')) void actions.readCsr(e.target.value); }}
            aria-invalid={showAll && !hasCsr ? true : undefined} aria-describedby="csr-hint" />
          <p id="csr-hint" className={showAll && !hasCsr ? 'field-error' : 'hint'}>
            Paste the request, or open its file:{' '}
            <input type="file" aria-label="Open a request file" accept=".csr,.pem,.der,.req" onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void readFileForInspection(f).then((d) => { const t = d.encoding === 'pem' ? d.data : ''; setCsr(t); if (t) void actions.readCsr(t); });
            }} />
          </p>
        </div>
        {profile?.family === 'hybrid' && (
          <p className="hint" data-testid="catalyst-csr-hint">
            A hybrid certificate holds two keys of the holder: the request’s own {algName(profile.algorithm)} key, and an {algName(profile.altAlgorithm)} key
            the request must carry as the requested extension subjectAltPublicKeyInfo (<span className="mono">2.5.29.72</span>), covered by the request’s signature.
          </p>
        )}
        {profile && <VariableForm defs={profile.variables} vars={vars} onChange={actions.setVar} showAll={showAll} />}
        {rootEndEntity && (
          <div className="notice" data-testid="root-ee-notice">
            <p>This CA is a root. A root does not sign end-entity certificates (CA/Browser Forum BR 6.1.7); issue them from a subordinate CA.</p>
            <label className="check"><input type="checkbox" checked={rootOverride} onChange={(e) => setRootOverride(e.target.checked)} data-testid="root-ee-override" /> Override for this certificate (the app asks again and records it).</label>
          </div>
        )}
        <Actions primary>
          <button type="button" className="secondary" onClick={() => actions.go('ca')}>Back</button>
          <button type="submit" disabled={rootEndEntity && !rootOverride} data-testid="review-issue">Review the certificate</button>
        </Actions>
      </form>
    </Screen>
  );
}
