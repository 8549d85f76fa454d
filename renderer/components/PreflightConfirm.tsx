/**
 * The witness's confirmation of the preflight: the laptop clock read against a reference clock
 * (its UTC time typed in), and, when the checks warned, the witnesses' reason for going on. Main
 * records both and signs nothing in the ceremony before.
 */
import { useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions } from './common';

/** Now in UTC to the minute, the shape the field takes (the witness corrects it from the reference clock). */
function utcMinute(d = new Date()): string {
  return `${d.toISOString().slice(0, 16)}Z`;
}

export function PreflightConfirm({ witnesses, warnings }: { witnesses: string[]; warnings: string[] }) {
  const done = useWizard((s) => s.preflightConfirmed);
  const busy = useWizard((s) => s.busy);
  const [witness, setWitness] = useState(witnesses.length === 1 ? witnesses[0] : '');
  const [reference, setReference] = useState(utcMinute());
  const [reason, setReason] = useState('');
  const timeOk = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/.test(reference.trim());
  const reasonOk = !warnings.length || reason.trim().length >= 10;
  if (done) {
    return (
      <p role="status" className="success" data-testid="preflight-confirmed">
        Confirmed by the witness: the laptop clock differs from the reference by {done.differenceSeconds} s
        {done.warnings.length ? `, and the reason for going on despite ${done.warnings.length === 1 ? 'the warning' : `${done.warnings.length} warnings`} is on the record` : ''}.
      </p>
    );
  }
  return (
    <form
      className="panel"
      aria-labelledby="preflight-confirm-title"
      onSubmit={(e) => { e.preventDefault(); if (witness && timeOk && reasonOk) void actions.confirmPreflight(witness, reference.trim(), reason); }}
      data-testid="preflight-confirm"
    >
      <h2 id="preflight-confirm-title">A witness confirms this computer</h2>
      <p>Nothing is signed in this ceremony until a witness has read the laptop clock against a reference clock{warnings.length ? ' and the witnesses have said why the ceremony goes on despite the warnings' : ''}.</p>
      <div className="field">
        <label htmlFor="preflight-witness">Witness</label>
        <select id="preflight-witness" value={witness} onChange={(e) => setWitness(e.target.value)} data-testid="preflight-witness">
          <option value="">Choose the witness…</option>
          {witnesses.map((w) => <option key={w} value={w}>{w}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor="preflight-reference">Reference time, in UTC, as the reference clock shows it</label>
        <input id="preflight-reference" className="mono" value={reference} spellCheck={false} onChange={(e) => setReference(e.target.value)} aria-invalid={!timeOk || undefined} aria-describedby="preflight-reference-hint" data-testid="preflight-reference" />
        <p id="preflight-reference-hint" className={timeOk ? 'hint' : 'field-error'}>Year-month-day, T, hours:minutes, Z: for example 2027-01-15T09:30Z. More than 5 minutes off stops the ceremony.</p>
      </div>
      {warnings.length > 0 && (
        <div className="field">
          <label htmlFor="preflight-reason">Why the ceremony goes on despite the warnings (at least 10 characters)</label>
          <textarea id="preflight-reason" rows={3} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="preflight-reason" />
        </div>
      )}
      {/* The screen's next step until it is done: in the sticky bar, in view on a laptop however long the form. */}
      <Actions primary>
        <button type="submit" disabled={!witness || !timeOk || !reasonOk || !!busy} data-testid="preflight-confirm-button">Record the witness’s confirmation</button>
      </Actions>
    </form>
  );
}
