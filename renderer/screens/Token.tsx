import { actions, useWizard } from '../store';
import { Actions, Badge, Screen } from '../components/common';
import type { SlotSummaryT } from '../../shared/contract';

function bytes(n: number | null): string {
  if (n === null) return 'not reported';
  return n > 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${n} bytes`;
}

/**
 * A blank token has no PIN yet; the flags some tokens raise on one (SoftHSM2: SO PIN locked, to be
 * changed) describe nothing a witness should read as a locked PIN.
 */
const BLANK = <span>None yet (the token is blank)</span>;

export function TokenFacts({ slot }: { slot: SlotSummaryT }) {
  const t = slot.token;
  if (!t) return <p>No token in this slot.</p>;
  const f = t.flags;
  return (
    <dl className="fields compact">
      <div className="field-row"><dt>Manufacturer</dt><dd>{t.manufacturer}</dd></div>
      <div className="field-row"><dt>Model</dt><dd>{t.model}</dd></div>
      <div className="field-row"><dt>Serial</dt><dd className="mono">{t.serial || '(none yet)'}</dd></div>
      <div className="field-row"><dt>Hardware / firmware</dt><dd>version {t.hardwareVersion} / version {t.firmwareVersion}</dd></div>
      <div className="field-row"><dt>PIN length</dt><dd>{t.minPinLen} to {t.maxPinLen} characters</dd></div>
      <div className="field-row"><dt>Free private memory</dt><dd>{bytes(t.freePrivateMemory)}</dd></div>
      <div className="field-row">
        <dt>State</dt>
        <dd className="badges" data-testid="token-state">
          <Badge ok={!!f.initialized}>{f.initialized ? 'Initialized' : 'Not initialized'}</Badge>
          {/* A blank token has no user PIN to log in with: "login required" would read as a green light. */}
          {f.initialized && f.loginRequired && <Badge ok>Login required</Badge>}
          {f.initialized && !f.userPinInitialized && <Badge ok={false}>No user PIN set</Badge>}
          {f.protectedAuthPath && <Badge ok>PIN pad</Badge>}
          {f.writeProtected && <Badge ok={false}>Write-protected</Badge>}
        </dd>
      </div>
      <div className="field-row">
        <dt>User PIN</dt>
        <dd className="badges" data-testid="user-pin-state">
          {f.initialized ? <PinBadges who="user" countLow={f.userPinCountLow} finalTry={f.userPinFinalTry} locked={f.userPinLocked} toBeChanged={f.userPinToBeChanged} /> : BLANK}
        </dd>
      </div>
      <div className="field-row">
        <dt>Security officer PIN</dt>
        <dd className="badges" data-testid="so-pin-state">
          {f.initialized ? <PinBadges who="SO" countLow={f.soPinCountLow} finalTry={f.soPinFinalTry} locked={f.soPinLocked} toBeChanged={f.soPinToBeChanged} /> : BLANK}
        </dd>
      </div>
    </dl>
  );
}

/** A PIN's state flags, as the token reports them; no flag raised reads as "no failed tries reported". */
function PinBadges({ who, countLow, finalTry, locked, toBeChanged }: { who: string; countLow?: boolean; finalTry?: boolean; locked?: boolean; toBeChanged?: boolean }) {
  if (!countLow && !finalTry && !locked && !toBeChanged) return <span>No failed tries reported</span>;
  return (
    <>
      {locked && <Badge ok={false}>{who} PIN locked</Badge>}
      {finalTry && !locked && <Badge ok={false}>Final {who} PIN try</Badge>}
      {countLow && !finalTry && !locked && <Badge ok={false}>{who} PIN tries low</Badge>}
      {toBeChanged && <Badge ok={false}>{who} PIN must be changed</Badge>}
    </>
  );
}

/** Key sizes as the token gives them (0 to 0 means the mechanism takes no key size). */
function keySizes(min: number, max: number): string {
  if (!min && !max) return '—';
  return min === max ? String(min) : `${min} to ${max}`;
}

function Mechanisms({ slotId }: { slotId: string }) {
  const m = useWizard((s) => s.mechanisms[slotId]);
  if (!m) return null;
  return (
    <div className="token-details">
      <p>Can generate: {m.keyAlgorithms.join(', ') || 'none of the CA key algorithms'}</p>
      <div className="table-scroll">
        <table className="key-table mech-table" data-testid={`mechanisms-${slotId}`}>
          <caption>Mechanisms ({m.details.length})</caption>
          <thead><tr><th scope="col">Mechanism</th><th scope="col">Key sizes</th><th scope="col">Flags</th></tr></thead>
          <tbody>
            {m.details.map((d) => (
              <tr key={d.name}><td className="mono">{d.name}</td><td>{keySizes(d.minKeySize, d.maxKeySize)}</td><td className="small">{d.flags.join(', ')}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      {m.objects && (
        <div className="table-scroll">
          <table className="key-table" data-testid={`objects-${slotId}`}>
            <caption>Objects on the token ({m.objects.length}){m.objects.some((o) => o.private) ? '' : ': public ones; private keys are listed once logged in'}</caption>
            <thead><tr><th scope="col">Kind</th><th scope="col">Label</th><th scope="col">ID</th><th scope="col">Key type</th></tr></thead>
            <tbody>
              {m.objects.length === 0 && <tr><td colSpan={4}>No object is visible.</td></tr>}
              {m.objects.map((o, i) => (
                <tr key={`${o.kind}-${o.id}-${o.label}-${i}`}><td>{o.kind}{o.private ? ' (private)' : ''}</td><td>{o.label || '(no label)'}</td><td className="mono">{o.id || '—'}</td><td>{o.keyType ?? '—'}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
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
              {!init && (
                <div className="notice">
                  <p>This token is not initialized: it has no label, no security officer PIN and no user PIN yet.</p>
                  <Actions>
                    <button type="button" onClick={() => actions.initializeSlot(s.slotId)} data-testid={`init-slot-${s.slotId}`}>Initialize this token…</button>
                  </Actions>
                </div>
              )}
              <Mechanisms slotId={s.slotId} />
              <Actions>
                <button type="button" className="secondary" aria-expanded={!!mechs[s.slotId]} onClick={() => (mechs[s.slotId] ? actions.hideMechanisms(s.slotId) : void actions.loadMechanisms(s.slotId))} data-testid={`mechanisms-toggle-${s.slotId}`}>
                  {mechs[s.slotId] ? 'Hide mechanisms and objects' : 'Show mechanisms and objects'}
                </button>
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
