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
 * Token initialization: the confirmation, the slot, the label (checked as typed), the security
 * officer's PIN twice, the user PIN twice, each pair with a live "matches" line. PINs stay in the
 * four PIN fields until the one submit that sends them; a refusal clears only the pair at fault. An initialized token
 * can be chosen for re-initialization: its current label is typed here, and main asks the
 * operator again in its own dialog before anything on it is destroyed.
 */
// eslint-disable-next-line max-lines-per-function -- a React screen: markup; the rules are in main
export function InitToken() {
  const slots = useWizard((s) => s.slots);
  const module = useWizard((s) => s.module);
  // The development banner shows however the token was opened: by the development card, or its library chosen from the list.
  const devToken = useWizard((s) => s.devToken || !!s.module?.development);
  const initialized = useWizard((s) => s.initialized);
  const busy = useWizard((s) => s.busy);
  const free = slots.filter((s) => s.tokenPresent && s.token && !s.token.flags.initialized);
  const used = slots.filter((s) => s.tokenPresent && s.token?.flags.initialized);
  const initSlotId = useWizard((s) => s.initSlotId);
  const planCeremony = useWizard((s) => s.planCeremony && !s.closed);
  const [slotId, setSlotId] = useState<string>(initSlotId ?? '');
  const [typedLabel, setTypedLabel] = useState('');
  const [label, setLabel] = useState(devToken ? 'DEV NOT FOR PRODUCTION' : '');
  const [confirmed, setConfirmed] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [lens, setLens] = useState({ so: 0, so2: 0, user: 0, user2: 0 });
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
          <button type="button" className="secondary" onClick={() => void actions.closeCeremony()} data-testid="init-close-ceremony">Close the ceremony</button>
          <button type="button" onClick={() => continueWithCeremony(t.serial, t.label)} data-testid="init-use-token">{planCeremony ? 'Back to the plan' : 'Use this token for a ceremony'}</button>
        </Actions>
      </Screen>
    );
  }

  const so = strength(lens.so);
  const user = strength(lens.user);
  // The label is checked as it is typed, before any PIN: unique among the tokens here (the token
  // is found by it afterwards), at most 32 characters (CK_TOKEN_INFO's label field).
  const taken = used.filter((s) => s.slotId !== reinit?.slotId).map((s) => s.token?.label ?? '');
  const labelProblem = !label.trim() ? 'Give the token a label.' : taken.includes(label.trim()) ? `Another token here is already labelled “${label.trim()}”: choose a unique label.` : null;
  const soMatch = lens.so2 > 0 ? !!so2.current?.matches(so1.current) : null;
  const userMatch = lens.user2 > 0 ? !!u2.current?.matches(u1.current) : null;
  // Any change to what caused a refusal takes its message away.
  const changed = () => setProblem(null);
  const typed = (k: keyof typeof lens) => (n: number) => { setLens((l) => ({ ...l, [k]: n })); changed(); };
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
          // What is wrong outside the PINs is said first, and no PIN is cleared for it.
          if (!confirmed) return setProblem('Tick the confirmation first: initializing erases everything on this token.');
          if (!chosen) return setProblem('Choose an uninitialized token.');
          if (reinit && typedLabel !== reinit.token?.label) return setProblem('Type the current label of the token to re-initialize, exactly.');
          if (labelProblem) return setProblem(labelProblem);
          // A mistake in one person's PIN clears that person's two fields only.
          const clearSo = () => { so1.current?.clear(); so2.current?.clear(); setLens((l) => ({ ...l, so: 0, so2: 0 })); };
          const clearUser = () => { u1.current?.clear(); u2.current?.clear(); setLens((l) => ({ ...l, user: 0, user2: 0 })); };
          if (!so1.current?.peek()) return setProblem('The security officer types the SO PIN, twice.');
          if (!so2.current?.matches(so1.current)) { clearSo(); return setProblem('The two SO PINs differ. The security officer types them again; the user PIN fields were kept.'); }
          if (!u1.current?.peek()) return setProblem('Type the user PIN, twice.');
          if (!u2.current?.matches(u1.current)) { clearUser(); return setProblem('The two user PINs differ. Type them again; the SO PIN fields were kept.'); }
          if (u1.current.matches(so1.current)) { clearUser(); return setProblem('The user PIN must differ from the SO PIN. Type another user PIN; the SO PIN fields were kept.'); }
          const soPin = so1.current.take();
          so2.current.take();
          const userPin = u1.current.take();
          u2.current.take();
          setLens({ so: 0, so2: 0, user: 0, user2: 0 });
          setProblem(null);
          void actions.initToken(chosen, label.trim(), soPin, userPin, reinit ? { confirmLabel: typedLabel } : undefined);
        }}
      >
        <label className="check">
          <input type="checkbox" checked={confirmed} onChange={(e) => { setConfirmed(e.target.checked); changed(); }} data-testid="confirm-init" />
          I understand that initializing erases everything on this token.
        </label>
        <fieldset>
          <legend>Uninitialized token</legend>
          {free.map((s) => (
            <label className="check" key={s.slotId}>
              <input type="radio" name="slot" checked={chosen === s.slotId} onChange={() => { setSlotId(s.slotId); changed(); }} />
              Slot {s.slotId}: {s.description} ({s.token?.model}, serial {s.token?.serial || 'none yet'})
            </label>
          ))}
        </fieldset>
        {used.length > 0 && (
          <fieldset>
            <legend>Or re-initialize an initialized token (destroys every key on it)</legend>
            {used.map((s) => (
              <label className="check" key={s.slotId}>
                <input type="radio" name="slot" checked={chosen === s.slotId} onChange={() => { setSlotId(s.slotId); changed(); }} data-testid={`reinit-slot-${s.slotId}`} />
                Slot {s.slotId}: “{s.token?.label}” ({s.token?.model}, serial {s.token?.serial})
              </label>
            ))}
            {reinit && (
              <div className="field">
                <label htmlFor="reinit-label">Type the current label of this token to confirm: <strong>{reinit.token?.label}</strong></label>
                <input id="reinit-label" value={typedLabel} maxLength={32} spellCheck={false} autoComplete="off" onChange={(e) => { setTypedLabel(e.target.value); changed(); }} data-testid="reinit-confirm-label" />
                <p className="warning-inline" role="alert">Every key on this token, including any CA key, is destroyed for good. The app asks once more in its own dialog.</p>
                <p className="hint">The SO PIN below is this token’s current SO PIN: it is checked before anything is destroyed, and a re-initialization keeps it.</p>
              </div>
            )}
          </fieldset>
        )}
        <div className="field">
          <label htmlFor="token-label">Token label</label>
          <input id="token-label" value={label} maxLength={32} spellCheck={false} aria-invalid={label && labelProblem ? true : undefined} aria-describedby="token-label-hint" onChange={(e) => { setLabel(e.target.value); changed(); }} data-testid="token-label" />
          <p id="token-label-hint" className={label && labelProblem ? 'field-error' : 'hint'} data-testid="token-label-check">
            {label && labelProblem ? labelProblem : label ? `“${label.trim()}” is free on this library's tokens (up to 32 characters).` : 'Up to 32 characters. The token is found by this label afterwards, so make it unique.'}
          </p>
        </div>
        <fieldset className="pin-group">
          <legend>Security officer’s PIN (typed by the security officer)</legend>
          <PinField ref={so1} label="Security officer (SO) PIN" testId="so-pin" onInput={typed('so')} />
          <PinField ref={so2} label="SO PIN again" testId="so-pin2" onInput={typed('so2')} />
          <MatchLine match={soMatch} testId="so-pin-match" />
          {so.text && <p className={so.ok ? 'hint' : 'warning-inline'} role="status"><Badge ok={so.ok}>{so.ok ? 'Strong length' : 'Short'}</Badge> {so.text}</p>}
        </fieldset>
        <fieldset className="pin-group">
          <legend>User PIN (typed by the operator)</legend>
          <PinField ref={u1} label="User PIN" testId="user-pin" onInput={typed('user')} />
          <PinField ref={u2} label="User PIN again" testId="user-pin2" onInput={typed('user2')} />
          <MatchLine match={userMatch} testId="user-pin-match" />
          {user.text && <p className={user.ok ? 'hint' : 'warning-inline'} role="status"><Badge ok={user.ok}>{user.ok ? 'Strong length' : 'Short'}</Badge> {user.text}</p>}
        </fieldset>
        <p className="hint">Guidance: use {RECOMMENDED} or more characters for each PIN; keep the SO PIN with a different person than the user PIN; never write a PIN where the camera or witnesses’ notes can see it.</p>
        {problem && <p className="field-error" role="alert" data-testid="init-problem">{problem}</p>}
        <Actions primary>
          <button type="button" className="secondary" onClick={() => actions.go('storage')}>Back</button>
          <button type="submit" className="sign" disabled={!!busy} data-testid="init-token">Initialize the token</button>
        </Actions>
      </form>
    </Screen>
  );
}

/** Whether the second field of a PIN typed twice matches the first, said as it is typed. */
function MatchLine({ match, testId }: { match: boolean | null; testId: string }) {
  return (
    <p className="hint" role="status" aria-live="polite" data-testid={testId}>
      {match === null ? '' : match ? <Badge ok>Matches</Badge> : <Badge ok={false}>Does not match yet</Badge>}
    </p>
  );
}

function continueWithCeremony(serial: string, label: string): void {
  // The ceremony that initialized the token goes on with it: straight on to this token's PIN, as a
  // ceremony that makes a CA (same people, same record).
  const st = wizardStore.getState();
  // A plan's token-init step: back to the plan, which says which token its next step is on.
  if (st.planCeremony && !st.closed) {
    actions.go('plan');
    return;
  }
  if (st.ceremony && !st.closed) {
    if (st.purpose === 'init') wizardStore.setState({ purpose: 'ceremony' });
    void actions.openToken(serial, label);
    return;
  }
  // No ceremony is open any more (it was closed, or the app started over): name the people first.
  actions.begin('ceremony', { serial, label });
}
