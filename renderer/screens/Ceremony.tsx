import { useEffect, useRef, useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Badge, Screen } from '../components/common';
import { PreflightConfirm } from '../components/PreflightConfirm';
import { Hash } from '../components/Hash';

function bytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : `${(n / 1024 ** 2).toFixed(0)} MB`;
}

/** The ceremony's first step: who acts, who watches, why — then what this computer looks like. */
// eslint-disable-next-line max-lines-per-function -- a React screen (names, then the preflight): markup; the rules are in main
export function Ceremony() {
  const opened = useWizard((s) => s.ceremony);
  const confirmed = useWizard((s) => s.preflightConfirmed);
  const busy = useWizard((s) => s.busy);
  const [operator, setOperator] = useState('');
  const [witnesses, setWitnesses] = useState<string[]>(['']);
  const [purpose, setPurpose] = useState('');
  const [tried, setTried] = useState(false);
  // A witness row added or removed by keyboard: focus goes to the new row, or to the row before the
  // removed one, instead of staying on a moved button or falling to <body>.
  const rows = useRef<Array<HTMLInputElement | null>>([]);
  const [focusRow, setFocusRow] = useState<number | null>(null);
  useEffect(() => {
    if (focusRow === null) return;
    rows.current[focusRow]?.focus();
    setFocusRow(null);
  }, [focusRow]);
  const named = witnesses.map((w) => w.trim()).filter(Boolean);
  const problem = !operator.trim() ? 'Type the operator’s name.' : !named.length ? 'Name at least one witness.' : !purpose.trim() ? 'Say what this ceremony is for.' : null;

  if (opened) {
    const p = opened.preflight;
    const net = p.networkInterfacesUp;
    // The network row already says which interfaces are up; the list carries the other warnings.
    const others = p.warnings.filter((w) => !/^Network interface /.test(w));
    return (
      <Screen title="Before you start: this computer" intro={<p>Read these checks aloud. They open the ceremony journal, with the names and purpose you gave.</p>}>
        <dl className="fields preflight" data-testid="preflight">
          <div className={`field-row${net.length ? ' check-warn' : ''}`} data-testid="preflight-network">
            <dt>Network</dt>
            <dd>
              {net.length ? (
                <>
                  <Badge ok={false}>WARNING</Badge> {net.length === 1 ? 'A network interface is' : `${net.length} network interfaces are`} up:{' '}
                  {net.map((i) => `${i.name}${i.addresses.length ? ` (${i.addresses.join(', ')})` : ''}`).join('; ')}. An air-gapped computer should have none:
                  unplug the cable and switch off Wi-Fi, or record why it is acceptable.
                </>
              ) : (
                <><Badge ok>OK</Badge> No network interface is up other than loopback.</>
              )}
            </dd>
          </div>
          <div className="field-row" data-testid="preflight-clock">
            <dt>Clock</dt>
            <dd>{p.clock.iso} ({p.clock.tz}) — compare it with a trusted watch: it dates every certificate.</dd>
          </div>
          <div className="field-row" data-testid="preflight-disk">
            <dt>Free disk space</dt>
            <dd>{bytes(p.freeDiskBytes)}</dd>
          </div>
          <div className="field-row">
            <dt>App</dt>
            <dd>
              Version {opened.version}, {opened.appFiles} files, SHA-256 <Hash value={opened.appSha256} testId="app-sha256" />
            </dd>
          </div>
        </dl>
        {others.length > 0 && (
          <ul className="warning-list" data-testid="preflight-warnings">
            {others.map((w, i) => <li key={i} className="warning-inline">{w}</li>)}
          </ul>
        )}
        <PreflightConfirm witnesses={named} warnings={p.warnings} />
        {/* Until a witness confirms, the confirmation's own button holds the action bar. */}
        {confirmed && (
          <Actions primary>
            <button type="button" onClick={() => void actions.continueCeremony()} data-testid="ceremony-continue">Continue</button>
          </Actions>
        )}
      </Screen>
    );
  }

  return (
    <Screen title="Open the ceremony" intro={<p>Name the people present and the purpose. They are written at the head of the ceremony journal and on every entry.</p>}>
      <form
        className="panel"
        onSubmit={(e) => {
          e.preventDefault();
          setTried(true);
          if (problem) return;
          void actions.openCeremony(operator.trim(), named, purpose.trim());
        }}
      >
        <div className="field">
          <label htmlFor="operator">Operator</label>
          <input id="operator" value={operator} autoComplete="off" spellCheck={false} maxLength={200} onChange={(e) => setOperator(e.target.value)} data-testid="operator" />
          <p className="hint">The person at the keyboard.</p>
        </div>
        <fieldset className="field list-field">
          <legend>Witnesses</legend>
          {witnesses.map((w, i) => (
            <div className="list-row" key={i}>
              <input
                ref={(el) => { rows.current[i] = el; }}
                aria-label={`Witness ${i + 1}`}
                value={w}
                autoComplete="off"
                spellCheck={false}
                maxLength={200}
                onChange={(e) => setWitnesses(witnesses.map((x, j) => (j === i ? e.target.value : x)))}
                data-testid={`witness-${i}`}
              />
              {witnesses.length > 1 && (
                <button type="button" className="secondary" onClick={() => { setWitnesses(witnesses.filter((_, j) => j !== i)); setFocusRow(Math.max(0, i - 1)); }} aria-label={`Remove witness ${i + 1}`}>Remove</button>
              )}
            </div>
          ))}
          {witnesses.length < 20 && (
            <button type="button" className="secondary" onClick={() => { setWitnesses([...witnesses, '']); setFocusRow(witnesses.length); }} data-testid="add-witness">Add a witness</button>
          )}
        </fieldset>
        <div className="field">
          <label htmlFor="purpose">Purpose</label>
          <textarea id="purpose" value={purpose} rows={2} maxLength={500} onChange={(e) => setPurpose(e.target.value)} data-testid="purpose" />
          <p className="hint">For example: “Create the offline root CA of Example Corp”.</p>
        </div>
        {tried && problem && <p className="field-error" role="alert" data-testid="ceremony-problem">{problem}</p>}
        <Actions primary>
          <button type="submit" disabled={!!busy} data-testid="open-ceremony">Open the ceremony</button>
        </Actions>
      </form>
    </Screen>
  );
}

/** The ceremony is closed: the final hash to copy on paper, and the transcript to print and sign. */
export function Closed() {
  const closed = useWizard((s) => s.closed);
  const transcript = useWizard((s) => s.transcript);
  const journal = useWizard((s) => s.journal);
  if (!closed) return null;
  return (
    <Screen title="Ceremony closed" intro={<p>The token session is logged out. Print the transcript; the operator and the witnesses check the final hash against the screen and sign it.</p>}>
      <div className="panel" data-testid="closed">
        {closed.dir ? (
          <>
            <p>
              <Badge ok={closed.intact}>{closed.intact ? 'Journal verified' : 'JOURNAL BROKEN'}</Badge> {closed.entries} entries in <span className="mono">{closed.dir}</span>
            </p>
            <p>Final journal hash (write it down):</p>
            <p><Hash value={closed.finalHash ?? ''} testId="final-hash" big /></p>
            <Actions>
              <button type="button" onClick={() => void actions.exportTranscript()} data-testid="export-transcript">Save the transcript as PDF…</button>
            </Actions>
            {transcript && <p role="status" data-testid="transcript-saved">Transcript saved to <span className="mono">{transcript}</span></p>}
          </>
        ) : (
          <p data-testid="closed-no-ca">No CA directory was created or opened, so there is no journal to print.</p>
        )}
        {journal?.ceremony && <p className="hint">Operator {journal.ceremony.operator}; witnesses {journal.ceremony.witnesses.join(', ')}.</p>}
      </div>
      <Actions primary>
        <button type="button" className="secondary" onClick={() => void actions.endCeremony()} data-testid="back-to-start">Back to start</button>
      </Actions>
    </Screen>
  );
}
