import { actions, useWizard } from '../store';
import { Actions, Badge, DescribedView, Screen } from '../components/common';
import { CaKeysPanel } from '../components/PostQuantum';

export function Result() {
  const issued = useWizard((s) => s.issued);
  const exported = useWizard((s) => s.exported);
  const keystore = useWizard((s) => s.keystore);
  // The CA that signed stays open after any issuance: an end-entity certificate leads on to the
  // same choices as a CA certificate does.
  const caOpen = useWizard((s) => !!s.caDirId);
  if (!issued) return null;
  const hybrid = issued.certificate.signatures.some((x) => x.which === 'alternative');
  const isCa = issued.certificate.fields.some((f) => f.label === 'Basic constraints' && /CA: ?true/i.test(f.value)) ||
    issued.certificate.extensions.some((e) => /basic constraints/i.test(e.name) && /CA: ?true/i.test(e.value));
  return (
    <Screen title="Certificate signed" intro={<p>The certificate was signed{keystore === 'pkcs11' ? ' by the token' : ''}{hybrid ? ' and by the ML-DSA key file' : ''}, verified and saved.</p>}>
      <div className="panel" data-testid="result">
        <p data-testid="verification">
          <Badge ok={issued.verification.ok}>{issued.verification.ok ? (hybrid ? 'Both signatures verified' : 'Signature verified') : 'NOT VERIFIED'}</Badge> {issued.verification.message}
        </p>
        <p>Saved to <span className="mono" data-testid="saved-to">{issued.savedTo}</span></p>
        <Actions>
          <button type="button" className="secondary" onClick={() => void actions.exportCertificate('pem')} data-testid="export-pem">Export PEM…</button>
          <button type="button" className="secondary" onClick={() => void actions.exportCertificate('der')} data-testid="export-der">Export DER…</button>
        </Actions>
        {exported && <p role="status" data-testid="exported">Exported to <span className="mono">{exported}</span></p>}
      </div>
      {issued.keys && (issued.keys.length > 1 || issued.keys.some((k) => k.algorithm.startsWith('ml-dsa'))) && <CaKeysPanel keys={issued.keys} />}
      <DescribedView doc={issued.certificate} testId="certificate" />
      {/* The next steps are the screen's action bar, at the foot of the window: the certificate
          above them runs to several screens on a laptop. */}
      <Actions primary label="Next steps">
        {(isCa || caOpen) && (
          <>
            <button type="button" onClick={() => void actions.startIssue('csr')} data-testid="next-sub-ca">Issue a subordinate CA from a CSR</button>
            <button type="button" onClick={() => void actions.startIssue('end-entity')} data-testid="next-ee">{isCa ? 'Issue an end-entity certificate' : 'Issue another end-entity certificate'}</button>
            <button type="button" onClick={() => void actions.startRevoke()} data-testid="next-revoke">Revoke a certificate</button>
            <button type="button" onClick={() => void actions.startIssue('crl')} data-testid="next-crl">Generate a CRL</button>
          </>
        )}
        <button type="button" className="secondary" onClick={() => void actions.closeCeremony()} data-testid="end-ceremony">Close the ceremony and log out…</button>
      </Actions>
    </Screen>
  );
}
