import { useRef, useState } from 'react';
import { actions, useWizard, wizardStore } from '../store';
import { Actions, Badge, Screen } from '../components/common';
import { PinField, type PinHandle } from '../components/PinField';
import { TokenFacts } from './Token';

const RECOMMENDED = 12;

function strength(len: number): { ok: boolean; text: string } {
  if (len === 0) return { ok: false, text: '' };
  if (len < RECOMMENDED) return { ok: false, text: `${len} characters: shorter than the recommended ${RECOMMENDED}. A CA token deserves a longer PIN.` };
  return { ok: true, text: `${len} characters: meets the recommended length of ${RECOMMENDED}.` };
}

/**
 * Token initialization: uninitialized slot → label → SO PIN twice → user PIN twice → confirm.
 * PINs stay in the four PIN fields until the one submit that sends them. An initialized token
 * can be chosen for re-initialization: its current label is typed here, and main asks the
 * operator again in its own dialog before anything on it is destroyed.
 */
export function InitToken() {
  const slots = useWizard((s) => s.slots);
  const module = useWizard((s) => s.module);
  const devToken = useWizard((s) => s.devToken);
  const initialized = useWizard((s) => s.initialized);
  const busy = useWizard((s) => s.busy);
  const free = slots.filter((s) => s.tokenPresent && s.token && !s.token.flags.initialized);
  const used = slots.filter((s) => s.tokenPresent && s.token?.flags.initialized);
  const initSlotId = useWizard((s) => s.initSlotId);
  const [slotId, setSlotId] = useState<string>(initSlotId ?? '');
  const [typedLabel, setTypedLabel] = useState('');
  const [label, setLabel] = useState(devToken ? 'DEV NOT FOR PRODUCTION' : '');
  const [confirmed, setConfirmed] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [lens, setLens] = useState({ so: 0, user: 0 });
  const so1 = useRef<PinHandle>(null);
  const so2 = useRef<PinHandle>(null);
  const u1 = useRef<PinHandle>(null);
  const u2 = useRef<PinHandle>(null);
  const chosen = slotId || free[0]?.slotId || '';
  const reinit = used.find((s) => s.slotId === chosen) ?? null;

  if (initialized?.token) {
    const t = initialized.token;
    return (
      <Screen title="Token initialized" intro={<p>The token was found again by its label and serial (slot numbers can change after initialization).</p>}>
        <div className="panel success" data-testid="initialized">
          <h2>{t.label} <span className="small">slot {initialized.slotId}</span></h2>
          <TokenFacts slot={initialized} />
        </div>
        <Actions>
          <button type="button" className="secondary" onClick={() => void actions.endCeremony()}>Back to start</button>
          <button type="button" onClick={() => continueWithCeremony(t.serial, t.label)} data-testid="init-use-token">Use this token for a ceremony</button>
        </Actions>
      </Screen>
    );
  }

  const so = strength(lens.so);
  const user = strength(lens.user);
  return (
    <Screen title="Initialize a token" intro={module && <p>Library: <span className="mono">{module.path}</span>{devToken && <> · <strong className="warning-text">Development token, NOT FOR PRODUCTION</strong></>}</p>}>
      {free.length === 0 ? (
        <p className="notice" role="status">No uninitialized token is present. Insert a new token, or free a slot with the vendor tool, then refresh.</p>
      ) : null}
      <Actions>
        <button type="button" className="secondary" onClick={() => void actions.refreshSlots()}>Refresh the list</button>
      </Actions>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const a = so1.current?.take() ?? '';
          const b = so2.current?.take() ?? '';
          const c = u1.current?.take() ?? '';
          const d = u2.current?.take() ?? '';
          setLens({ so: 0, user: 0 });
          if (!chosen) return setProblem('Choose an uninitialized token.');
          if (reinit && typedLabel !== reinit.token?.label) return setProblem('Type the current label of the token to re-initialize, exactly. The fields were cleared.');
          if (!label.trim()) return setProblem('Give the token a label.');
          if (!a || !c) return setProblem('Type both PINs, twice each. The fields were cleared.');
          if (a !== b) return setProblem('The two SO PINs differ. Type them again; the fields were cleared.');
          if (c !== d) return setProblem('The two user PINs differ. Type them again; the fields were cleared.');
          if (a === c) return setProblem('The SO PIN and the user PIN must differ. The fields were cleared.');
          if (!confirmed) return setProblem('Tick the confirmation first. The fields were cleared.');
          setProblem(null);
          void actions.initToken(chosen, label.trim(), a, c, reinit ? { confirmLabel: typedLabel } : undefined);
        }}
      >
        <fieldset>
          <legend>Uninitialized token</legend>
          {free.map((s) => (
            <label className="check" key={s.slotId}>
              <input type="radio" name="slot" checked={chosen === s.slotId} onChange={() => setSlotId(s.slotId)} />
              Slot {s.slotId}: {s.description} ({s.token?.model}, serial {s.token?.serial || 'none yet'})
            </label>
          ))}
        </fieldset>
        {used.length > 0 && (
          <fieldset>
            <legend>Or re-initialize an initialized token (destroys every key on it)</legend>
            {used.map((s) => (
              <label className="check" key={s.slotId}>
                <input type="radio" name="slot" checked={chosen === s.slotId} onChange={() => setSlotId(s.slotId)} data-testid={`reinit-slot-${s.slotId}`} />
                Slot {s.slotId}: “{s.token?.label}” ({s.token?.model}, serial {s.token?.serial})
              </label>
            ))}
            {reinit && (
              <div className="field">
                <label htmlFor="reinit-label">Type the current label of this token to confirm: <strong>{reinit.token?.label}</strong></label>
                <input id="reinit-label" value={typedLabel} maxLength={32} spellCheck={false} autoComplete="off" onChange={(e) => setTypedLabel(e.target.value)} data-testid="reinit-confirm-label" />
                <p className="warning-inline" role="alert">Every key on this token, including any CA key, is destroyed for good. The app asks once more in its own dialog.</p>
                <p className="hint">The SO PIN below is this token’s current SO PIN: it is checked before anything is destroyed, and a re-initialization keeps it.</p>
              </div>
            )}
          </fieldset>
        )}
        <div className="field">
          <label htmlFor="token-label">Token label</label>
          <input id="token-label" value={label} maxLength={32} spellCheck={false} onChange={(e) => setLabel(e.target.value)} data-testid="token-label" />
          <p className="hint">Up to 32 characters. The token is found by this label afterwards, so make it unique.</p>
        </div>
        <div className="pin-group">
          <PinField ref={so1} label="Security officer (SO) PIN" testId="so-pin" onInput={(n) => setLens((l) => ({ ...l, so: n }))} />
          <PinField ref={so2} label="SO PIN again" testId="so-pin2" />
          {so.text && <p className={so.ok ? 'hint' : 'warning-inline'} role="status"><Badge ok={so.ok}>{so.ok ? 'Strong length' : 'Short'}</Badge> {so.text}</p>}
        </div>
        <div className="pin-group">
          <PinField ref={u1} label="User PIN" testId="user-pin" onInput={(n) => setLens((l) => ({ ...l, user: n }))} />
          <PinField ref={u2} label="User PIN again" testId="user-pin2" />
          {user.text && <p className={user.ok ? 'hint' : 'warning-inline'} role="status"><Badge ok={user.ok}>{user.ok ? 'Strong length' : 'Short'}</Badge> {user.text}</p>}
        </div>
        <p className="hint">Guidance: use {RECOMMENDED} or more characters for each PIN; keep the SO PIN with a different person than the user PIN; never write a PIN where the camera or witnesses’ notes can see it.</p>
        <label className="check">
          <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} data-testid="confirm-init" />
          I understand that initializing erases everything on this token.
        </label>
        {problem && <p className="field-error" role="alert" data-testid="init-problem">{problem}</p>}
        <Actions primary>
          <button type="button" className="secondary" onClick={() => actions.go('storage')}>Back</button>
          <button type="submit" className="sign" disabled={!!busy} data-testid="init-token">Initialize the token</button>
        </Actions>
      </form>
    </Screen>
  );
}

function continueWithCeremony(serial: string, label: string): void {
  // Initialized from the token step of an open ceremony: straight on to this token's PIN.
  const st = wizardStore.getState();
  if (st.ceremony && !st.closed && st.purpose !== 'init') {
    void actions.openToken(serial, label);
    return;
  }
  // After initialization alone the operator carries on with a ceremony on the new token: first the
  // ceremony step (people, purpose, preflight), then straight to this token's PIN.
  actions.begin('ceremony', { serial, label });
}
