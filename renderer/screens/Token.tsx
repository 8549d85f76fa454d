import { actions, useWizard } from '../store';
import { Actions, Badge, Screen } from '../components/common';
import type { SlotSummaryT } from '../../shared/contract';

function bytes(n: number | null): string {
  if (n === null) return 'not reported';
  return n > 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${n} bytes`;
}

export function TokenFacts({ slot }: { slot: SlotSummaryT }) {
  const t = slot.token;
  if (!t) return <p>No token in this slot.</p>;
  const f = t.flags;
  return (
    <dl className="fields compact">
      <div className="field-row"><dt>Manufacturer</dt><dd>{t.manufacturer}</dd></div>
      <div className="field-row"><dt>Model</dt><dd>{t.model}</dd></div>
      <div className="field-row"><dt>Serial</dt><dd className="mono">{t.serial}</dd></div>
      <div className="field-row"><dt>PIN length</dt><dd>{t.minPinLen} to {t.maxPinLen} characters</dd></div>
      <div className="field-row"><dt>Free private memory</dt><dd>{bytes(t.freePrivateMemory)}</dd></div>
      <div className="field-row">
        <dt>State</dt>
        <dd className="badges">
          <Badge ok={!!f.initialized}>{f.initialized ? 'Initialized' : 'Not initialized'}</Badge>
          {f.loginRequired && <Badge ok>Login required</Badge>}
          {f.protectedAuthPath && <Badge ok>PIN pad</Badge>}
          {f.writeProtected && <Badge ok={false}>Write-protected</Badge>}
          {f.userPinCountLow && <Badge ok={false}>PIN tries low</Badge>}
          {f.userPinFinalTry && <Badge ok={false}>Final PIN try</Badge>}
          {f.userPinLocked && <Badge ok={false}>PIN locked</Badge>}
          {f.userPinToBeChanged && <Badge ok={false}>PIN must be changed</Badge>}
        </dd>
      </div>
    </dl>
  );
}

export function Token() {
  const slots = useWizard((s) => s.slots);
  const module = useWizard((s) => s.module);
  const mechs = useWizard((s) => s.mechanisms);
  const withToken = slots.filter((s) => s.tokenPresent);
  return (
    <Screen title="Choose the token" intro={module && <p>Library: <span className="mono">{module.description}</span> ({module.manufacturer}, version {module.libraryVersion})</p>}>
      <Actions>
        <button type="button" className="secondary" onClick={() => void actions.refreshSlots()} data-testid="refresh-slots">Refresh the list</button>
      </Actions>
      {slots.length === 0 && <p className="notice" role="status">No slot was found. Connect the token, then refresh the list.</p>}
      {slots.length > 0 && withToken.length === 0 && <p className="notice" role="status">No token is present in any slot. Insert the token, then refresh the list.</p>}
      <ul className="slot-list">
        {withToken.map((s) => {
          const t = s.token!;
          const init = !!t.flags.initialized;
          return (
            <li key={s.slotId} className="slot" data-testid={`slot-${t.label || s.slotId}`}>
              {/* Use sits beside the token's name, not under its facts: on a laptop the facts fill the
                  window and the button would be below the fold. */}
              <div className="slot-head">
                <h2>{init ? t.label : '(uninitialized token)'} <span className="small">slot {s.slotId} · {s.description}</span></h2>
                <button type="button" disabled={!init} onClick={() => void actions.openToken(t.serial, t.label)} data-testid={`use-token-${t.label}`}>
                  Use this token
                </button>
              </div>
              <TokenFacts slot={s} />
              {!init && <p className="notice">This token is not initialized. Use “Initialize a token” from the start screen first.</p>}
              {mechs[s.slotId] && (
                <details open>
                  <summary>Mechanisms ({mechs[s.slotId].mechanisms.length}) · can generate: {mechs[s.slotId].keyAlgorithms.join(', ') || 'none'}</summary>
                  <p className="mono small">{mechs[s.slotId].mechanisms.join(' · ')}</p>
                </details>
              )}
              <Actions>
                <button type="button" className="secondary" onClick={() => void actions.loadMechanisms(s.slotId)}>Show mechanisms</button>
              </Actions>
            </li>
          );
        })}
      </ul>
      <Actions primary>
        <button type="button" className="secondary" onClick={() => actions.go('storage')}>Back</button>
      </Actions>
    </Screen>
  );
}
