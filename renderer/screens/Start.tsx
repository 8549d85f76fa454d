import { actions, useWizard } from '../store';
import { Screen } from '../components/common';

export function Start() {
  const info = useWizard((s) => s.appInfo);
  return (
    <Screen title="What do you want to do?" intro={<p>Each task walks you through one step at a time. Nothing is signed until you confirm on the review screen.</p>}>
      <div className="cards">
        <button type="button" className="card" onClick={() => actions.begin('ceremony')} data-testid="start-ceremony">
          <span className="card-title">Run a ceremony</span>
          <span className="card-text">Create a CA: generate or choose its key in a token, fill in the profile, review and sign.</span>
        </button>
        <button type="button" className="card" onClick={() => actions.begin('init')} data-testid="start-init">
          <span className="card-title">Initialize a token</span>
          <span className="card-text">Give a new token its label, security officer PIN and user PIN.</span>
        </button>
        <button type="button" className="card" onClick={() => actions.begin('ca')} data-testid="start-open-ca">
          <span className="card-title">Open an existing CA directory</span>
          <span className="card-text">Issue a subordinate CA or an end-entity certificate, or generate a CRL.</span>
        </button>
        <button type="button" className="card" onClick={() => actions.go('plan')} data-testid="start-plan">
          <span className="card-title">Open a ceremony plan…</span>
          <span className="card-text">Walk a reviewed plan step by step: the witnesses see every step and its hash first, and acknowledge each one.</span>
        </button>
        <button type="button" className="card" onClick={() => actions.go('inspect')} data-testid="start-inspect">
          <span className="card-title">Inspect a file</span>
          <span className="card-text">Decode a certificate, request or CRL and verify it against its issuer.</span>
        </button>
      </div>
      {info?.softhsmPath && (
        <div className="dev-box">
          <h2>Development token</h2>
          <p>
            <strong className="warning-text">NOT FOR PRODUCTION.</strong> SoftHSM2 is installed on this computer. You can create a software token in
            the app’s data folder to rehearse a ceremony. Its keys are ordinary files on this disk.
          </p>
          <button type="button" className="secondary" onClick={() => actions.beginDevToken()} data-testid="dev-token">
            Create a development token (NOT FOR PRODUCTION)
          </button>
        </div>
      )}
    </Screen>
  );
}
