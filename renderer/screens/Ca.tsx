import { useEffect, useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, DescribedView, Screen } from '../components/common';
import { VariableForm, validateAll } from '../components/VariableForm';
import { ProfilePicker } from './Profile';
import { readFileForInspection } from './Inspector';
import { useRef } from 'react';
import { PinField, type PinHandle } from '../components/PinField';
import { CaKeysPanel, algName } from '../components/PostQuantum';

/** Open an existing CA directory; once open (and logged in), choose what to sign. */
export function Ca() {
  const ca = useWizard((s) => s.ca);
  const caDir = useWizard((s) => s.caDir);
  const loggedIn = useWizard((s) => s.loggedIn);
  const token = useWizard((s) => s.token);
  const [dir, setDir] = useState(caDir);
  return (
    <Screen title={ca ? 'CA directory' : 'Open a CA directory'}>
      <form onSubmit={(e) => { e.preventDefault(); if (dir.trim()) void actions.openCa(dir.trim()); }}>
        <div className="field">
          <label htmlFor="open-dir">CA directory</label>
          <div className="pin-row">
            <input id="open-dir" className="mono" spellCheck={false} value={dir} onChange={(e) => setDir(e.target.value)} data-testid="open-dir" />
            <button type="button" className="secondary" onClick={() => void actions.chooseDirectory('open-ca').then((p) => p && setDir(p))}>Choose…</button>
          </div>
        </div>
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go('start')}>Back</button>
          <button type="submit" disabled={!dir.trim()} data-testid="open-ca">Open</button>
        </Actions>
      </form>
      {ca && (
        <>
          {ca.keys.length > 1 ? <CaKeysPanel keys={ca.keys} /> : <p>Key storage: {ca.keyStorage}</p>}
          {ca.token && !loggedIn && (
            <p className="notice">To sign with this CA, log in to its token: <button type="button" onClick={() => void actions.loginForCa()} data-testid="ca-login">Log in to “{ca.token?.label}”</button></p>
          )}
          {loggedIn && token && <p role="status">Logged in to “{token.label}”.</p>}
          <Actions>
            <button type="button" onClick={() => void actions.startIssue('csr')} data-testid="ca-sub-ca">Issue a subordinate CA from a CSR</button>
            <button type="button" onClick={() => void actions.startIssue('end-entity')} data-testid="ca-ee">Issue an end-entity certificate</button>
            <button type="button" onClick={() => void actions.startIssue('crl')} data-testid="ca-crl">Generate a CRL</button>
            <button type="button" className="secondary" onClick={() => void actions.closeCeremony()} data-testid="ca-close-ceremony">Close the ceremony…</button>
          </Actions>
          <DescribedView doc={ca.certificate} />
        </>
      )}
    </Screen>
  );
}

/** Issue from a CSR (subordinate CA or end entity), or sign a CRL, with the CA that is open. */
export function Issue() {
  const mode = useWizard((s) => s.issueMode);
  const profile = useWizard((s) => s.profile);
  const vars = useWizard((s) => s.vars);
  const caDir = useWizard((s) => s.caDir);
  const crl = useWizard((s) => s.crl);
  // The Sign button is disabled while the CA key works, which drops its focus: the outcome takes it.
  const crlDone = useRef<HTMLParagraphElement>(null);
  const lastCrl = useRef(crl);
  useEffect(() => {
    if (crl && crl !== lastCrl.current) crlDone.current?.focus();
    lastCrl.current = crl;
  }, [crl]);
  const busy = useWizard((s) => s.busy);
  const [csr, setCsr] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [showAll, setShowAll] = useState(false);
  const [days, setDays] = useState(30);
  const softwareCa = useWizard((s) => !!s.ca && s.ca.token === null);
  // A Catalyst CA signs with its ML-DSA key file too: its passphrase is asked where the PIN is, every time.
  const altKey = useWizard((s) => s.ca?.keys.find((k) => k.role === 'alternative' && k.file) ?? null);
  const pass = useRef<PinHandle>(null);
  const alt = useRef<PinHandle>(null);
  const takePass = () => (softwareCa ? pass.current?.take() || undefined : undefined);
  const takeAlt = () => (altKey ? alt.current?.take() || undefined : undefined);
  const passField = (
    <>
      {softwareCa && <PinField ref={pass} label={altKey ? 'Classical CA key file passphrase' : 'CA key file passphrase'} testId="ca-passphrase" />}
      {altKey && (
        <PinField ref={alt} label={`${algName(altKey.algorithm)} key file passphrase`} testId="ca-alt-passphrase"
          hint={`The CA’s alternative (Catalyst) signature is made by ${altKey.file!.path}; it is used for this one signature and not kept.`} />
      )}
    </>
  );
  const signWords = altKey ? (softwareCa ? 'Sign with both key files' : 'Sign with token and ML-DSA key file') : softwareCa ? 'Sign with the key file' : 'Sign with token';
  const errors = profile ? validateAll(profile.variables, vars) : {};
  const title = mode === 'csr' ? 'Issue a subordinate CA from a CSR' : mode === 'end-entity' ? 'Issue an end-entity certificate' : 'Generate a CRL';
  if (mode === 'crl') {
    return (
      <Screen title={title} intro={<p>CA directory: <span className="mono">{caDir}</span></p>}>
        <form onSubmit={(e) => { e.preventDefault(); if (confirmed) void actions.generateCrl(days, takePass(), takeAlt()); }}>
          <div className="field">
            <label htmlFor="crl-days">Valid for (days)</label>
            <input id="crl-days" type="number" min={1} max={3650} value={days} onChange={(e) => setDays(Number(e.target.value))} />
          </div>
          {passField}
          <label className="check"><input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} data-testid="confirm-crl" /> Sign the CRL with the CA key.</label>
          <Actions>
            <button type="button" className="secondary" onClick={() => actions.go('ca')}>Back</button>
            <button type="submit" className="sign" disabled={!confirmed || !!busy} data-testid="sign-crl">{signWords}</button>
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
  const needsCsr = mode === 'csr' || mode === 'end-entity';
  const ready = !!profile && Object.keys(errors).length === 0 && (!needsCsr || csr.includes('CERTIFICATE REQUEST')) && confirmed;
  return (
    <Screen title={title} intro={<p>CA directory: <span className="mono">{caDir}</span></p>}>
      <form noValidate onSubmit={(e) => {
        e.preventDefault();
        setShowAll(true);
        if (!ready) return;
        if (mode === 'csr') void actions.issueFromCsr(csr, takePass(), takeAlt());
        else void actions.issueCertificate(csr, takePass(), takeAlt());
      }}>
        <ProfilePicker filter={(p) => (mode === 'csr' ? p.kind === 'ca' : p.kind === 'end-entity')} />
        <div className="field">
          <label htmlFor="csr">Certificate request (PEM)</label>
          <textarea id="csr" className="mono" rows={6} spellCheck={false} value={csr} onChange={(e) => setCsr(e.target.value)} data-testid="csr"
            aria-invalid={showAll && !csr.includes('CERTIFICATE REQUEST') ? true : undefined} aria-describedby="csr-hint" />
          <p id="csr-hint" className={showAll && !csr.includes('CERTIFICATE REQUEST') ? 'field-error' : 'hint'}>
            Paste the request, or open its file:{' '}
            <input type="file" aria-label="Open a request file" accept=".csr,.pem,.der,.req" onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void readFileForInspection(f).then((d) => setCsr(d.encoding === 'pem' ? d.data : ''));
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
        {passField}
        <label className="check"><input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} data-testid="confirm-issue" /> The witnesses have checked the request and the details.</label>
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go('ca')}>Back</button>
          <button type="submit" className="sign" disabled={!!busy} data-testid="sign-issue">{signWords}</button>
        </Actions>
      </form>
    </Screen>
  );
}

