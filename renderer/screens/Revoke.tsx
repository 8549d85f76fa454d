import { useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Screen } from '../components/common';

/**
 * Revoke a certificate of the open CA: pick it from the index main lists, then a reason main
 * offers for its kind (BR 7.2.2), then main's own confirmation; then generate the CRL. Main checks
 * the reason again and refuses a second revocation: this screen only shows.
 */
export function Revoke() {
  const list = useWizard((s) => s.issuedList);
  const revoked = useWizard((s) => s.revoked);
  const caDir = useWizard((s) => s.caDir);
  const [serial, setSerial] = useState<string | null>(null);
  const [reason, setReason] = useState<string | null>(null);
  const picked = list?.find((c) => c.serial === serial && c.status !== 'revoked') ?? null;
  const kindWords = (k: string) => (k === 'ca' ? 'CA' : k === 'subscriber' ? 'End entity' : 'Unknown (file missing)');
  return (
    <Screen title="Revoke a certificate" intro={<p>CA directory: <span className="mono">{caDir}</span>. A revocation cannot be undone; the next CRL lists it.</p>}>
      {list && list.length === 0 && <p>This CA has issued no certificates.</p>}
      {list && list.length > 0 && (
        <table className="revoke-list" data-testid="revoke-list">
          <thead><tr><th scope="col">Pick</th><th scope="col">Serial</th><th scope="col">Subject</th><th scope="col">Kind</th><th scope="col">Valid</th><th scope="col">Status</th></tr></thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.serial} data-testid={`revoke-row-${c.serial}`}>
                <td>{c.status === 'revoked' ? '' : (
                  <input type="radio" name="revoke-serial" aria-label={`Pick ${c.serial}`} checked={serial === c.serial}
                    onChange={() => { setSerial(c.serial); setReason(null); }} data-testid={`revoke-pick-${c.serial}`} />
                )}</td>
                <td className="mono">{c.serial}</td>
                <td>{c.subject}</td>
                <td>{kindWords(c.kind)}</td>
                <td>{c.notBefore ? `${c.notBefore.slice(0, 10)} to ` : 'until '}{c.notAfter.slice(0, 10)}</td>
                <td data-testid={`revoke-status-${c.serial}`}>{c.revoked ? `Revoked ${c.revoked.date.slice(0, 10)}: ${c.revoked.words.split(':')[0]} (${c.revoked.reason})` : c.status === 'expired' ? 'Expired' : 'Valid'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {picked && (
        <form onSubmit={(e) => { e.preventDefault(); if (reason) void actions.revokeCertificate(picked.serial, reason).then((done) => { if (done) { setSerial(null); setReason(null); } }); }}>
          <fieldset className="field" data-testid="revoke-reasons">
            <legend>Reason for {picked.serial} — {picked.kind === 'ca' ? 'a CA certificate must give one of these' : 'an end-entity certificate takes one of these'} (CA/Browser Forum BR 7.2.2)</legend>
            {picked.reasons.map((r) => (
              <label key={r.reason} className="check">
                <input type="radio" name="revoke-reason" value={r.reason} checked={reason === r.reason} onChange={() => setReason(r.reason)} data-testid={`revoke-reason-${r.reason}`} /> {r.words}
              </label>
            ))}
          </fieldset>
          <p className="hint">The app asks you to confirm in its own dialog, and records the answer.</p>
          {/* A certificate picked: Revoke is the next step, so it holds the sticky bar (in view below a long list). */}
          <Actions primary>
            <button type="button" className="secondary" onClick={() => { setSerial(null); setReason(null); }} data-testid="revoke-cancel">Cancel</button>
            <button type="submit" disabled={!reason} data-testid="revoke-button">Revoke…</button>
          </Actions>
        </form>
      )}
      {revoked && <p role="status" data-testid="revoke-done">Certificate <span className="mono">{revoked.serial}</span> was revoked ({revoked.reason}) at {revoked.date}. Generate the CRL to publish it.</p>}
      <Actions primary={!picked}>
        <button type="button" className="secondary" onClick={() => actions.go('ca')}>Back</button>
        <button type="button" onClick={() => void actions.startIssue('crl')} data-testid="revoke-gen-crl">Generate the CRL</button>
      </Actions>
    </Screen>
  );
}
