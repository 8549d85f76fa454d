/**
 * A plan's certificate request for an external parent, signed by the token and written by main:
 * where it is and its SHA-256 (of the DER, as the journal records it, and of the file), read out to
 * the witnesses before they acknowledge the step on the plan screen.
 */
import { actions, useWizard } from '../store';
import { Actions, Badge, DescribedView, Screen } from '../components/common';
import { Hash } from '../components/Hash';

export function RequestWritten() {
  const w = useWizard((s) => s.requestWritten);
  if (!w) return null;
  const valid = w.csr.signatures.every((x) => x.valid === true);
  return (
    <Screen title="Certificate request written" intro={<p>The token signed the request; the app checked its signature against the key it carries and wrote it as a new file (no file was replaced). Send the file to the parent CA.</p>}>
      <div className="panel" data-testid="csr-result">
        <p data-testid="csr-verification"><Badge ok={valid}>{valid ? 'Signature verified' : 'NOT VERIFIED'}</Badge> The request is signed by the key it carries.</p>
        <p>Written to <span className="mono" data-testid="csr-saved-to">{w.savedTo}</span></p>
        <p>SHA-256 of the request (DER, as the journal records it): <Hash value={w.sha256} testId="csr-sha256" /></p>
        <p>SHA-256 of the file as written (PEM): <Hash value={w.fileSha256} testId="csr-file-sha256" /></p>
      </div>
      <DescribedView doc={w.csr} testId="csr" />
      <Actions primary label="Next steps">
        <button type="button" onClick={() => actions.go('plan')} data-testid="csr-to-plan">Continue with the plan: a witness acknowledges this step</button>
      </Actions>
    </Screen>
  );
}
