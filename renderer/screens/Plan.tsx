/**
 * A ceremony plan in the app: the whole plan and its SHA-256 before anything starts, then
 * "Step n of N" with the witness acknowledgement and deviations. Main holds the plan and enforces
 * every step; this screen only shows main's plan state and asks main to act.
 */
import { useEffect, useState } from 'react';
import type { PlanStateT, PlanViewT } from '../../shared/contract';
import { call, toPayload } from '../api';
import { actions } from '../store';
import { Actions, Screen } from '../components/common';
import { Hash } from '../components/Hash';
import { PreflightConfirm } from '../components/PreflightConfirm';
import { ERROR_WORDS } from '../error-words';
import { algorithmWithCode } from '../../shared/algorithm-words';

const STATUS_WORDS = { pending: 'to do', done: 'done', skipped: 'skipped' } as const;
const KINDS = [
  { kind: 'changed', words: 'A value differs from the plan (say which and why)' },
  { kind: 'skipped', words: 'This step is skipped' },
  { kind: 'error', words: 'An error happened' },
  { kind: 'retry', words: 'The step is tried again after an error' },
] as const;

const TOKEN_WORDS = { ca: 'CA token', backup: 'backup token' } as const;

/**
 * The current step is on the plan's other token: main refuses it with this one open. The words say
 * which token is open and which the step needs; the button logs out (the ceremony stays open) and
 * goes through the token and PIN screens back here.
 */
function SwitchToken({ to }: { to: NonNullable<PlanStateT['tokenSwitch']> }) {
  const open = to.open.role ? `the ${TOKEN_WORDS[to.open.role]}` : `token “${to.open.label}”`;
  return (
    <div className="panel" role="status" data-testid="plan-switch">
      <p><strong>This step is on the {TOKEN_WORDS[to.to]}.</strong> Log out of {open} and open the {TOKEN_WORDS[to.to]}.</p>
      <p className="hint">The ceremony stays open: only the token session ends. The app opens one token at a time.</p>
    </div>
  );
}

/** The switch itself, in the step's action bar where "Do this step" would be: in view at any zoom. */
function SwitchTokenButton({ to }: { to: NonNullable<PlanStateT['tokenSwitch']> }) {
  const open = to.open.role ? `the ${TOKEN_WORDS[to.open.role]}` : `token “${to.open.label}”`;
  return <button type="button" onClick={() => void actions.switchPlanToken()} data-testid="plan-switch-token">Log out of {open} and open the {TOKEN_WORDS[to.to]}</button>;
}

/** The dates a plan fixes, as the operator and witnesses read them against the review. */
function datesWords(d: NonNullable<PlanViewT['steps'][number]['dates']>): string {
  return `Dates fixed by the plan: valid from ${d.notBefore} ${d.notAfter ? `to ${d.notAfter}` : 'for the profile’s validity'}`;
}

function Steps({ plan, state }: { plan: PlanViewT; state: PlanStateT | null }) {
  return (
    <ol className="plan-steps" data-testid="plan-steps">
      {plan.steps.map((s, i) => (
        <li key={s.id} data-testid={`plan-step-${s.n}`} aria-current={state?.active && state.current === i ? 'step' : undefined}>
          <strong>Step {s.n} of {s.of}</strong> ({s.id}): {s.words}
          {state?.active && <span className="plan-status"> · {STATUS_WORDS[state.status[i] ?? 'pending']}</span>}
          {s.notInApp && <div className="warning-text">Not in the app: {s.notInApp}.</div>}
          {s.dates && <div className="plan-vars" data-testid={`plan-step-dates-${s.n}`}>{datesWords(s.dates)}</div>}
          {Object.keys(s.variables).length > 0 && (
            <div className="plan-vars">{Object.entries(s.variables).map(([k, v]) => `${k} = ${v}`).join(' · ')}</div>
          )}
        </li>
      ))}
    </ol>
  );
}

// eslint-disable-next-line max-lines-per-function -- a React screen (the plan, then its running step): markup; the plan is enforced in main
export function Plan() {
  const [plan, setPlan] = useState<PlanViewT | null>(null);
  const [state, setState] = useState<PlanStateT | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [witness, setWitness] = useState('');
  const [kind, setKind] = useState<(typeof KINDS)[number]['kind']>('changed');
  const [note, setNote] = useState('');
  const [deviating, setDeviating] = useState(false);

  const run = async (f: () => Promise<void>) => {
    setProblem(null);
    try {
      await f();
    } catch (e) {
      const p = toPayload(e);
      setProblem(`${ERROR_WORDS[p.code]?.title ?? ''} ${p.message}`);
    }
  };
  const refresh = () => run(async () => {
    const s = await call('planState', {});
    setState(s);
    setPlan(s.plan);
  });
  useEffect(() => {
    void refresh();
  }, []);

  const open = () => run(async () => {
    const r = await call('openPlan', {});
    if (r.plan) setPlan(r.plan);
  });
  const start = () => run(async () => {
    actions.preflightReset();
    setState(await call('startPlan', { sha256: plan!.sha256 }));
    actions.planStarted();
  });
  const acknowledge = () => run(async () => {
    setState(await call('acknowledgeStep', { witness }));
    setWitness('');
  });
  const deviate = () => run(async () => {
    setState(await call('recordDeviation', { kind, note }));
    setNote('');
    setDeviating(false);
  });

  if (!plan) {
    return (
      <Screen title="Ceremony plan" intro={<p>Open the reviewed plan file. The app shows every step and the plan’s SHA-256 before anything starts.</p>}>
        <button type="button" onClick={() => void open()} data-testid="plan-open">Open a ceremony plan…</button>
        {problem && <p className="error-text" role="alert" data-testid="plan-problem">{problem}</p>}
      </Screen>
    );
  }
  const active = !!state?.active;
  const current = active ? plan.steps[state!.current] : undefined;
  const awaiting = active && state!.awaiting !== null ? plan.steps[state!.awaiting] : undefined;
  // A 'changed' deviation recorded for the step lets it be done on the token open now (main journals it).
  const switchTo = active && state!.tokenSwitch && !state!.changed.includes(state!.current) ? state!.tokenSwitch : null;
  const fingerprint = (
    <section aria-label="Plan fingerprint">
      <p>Plan file <code>{plan.file}</code>, SHA-256 (compare it with the reviewed copy):</p>
      <p><Hash value={plan.sha256} testId="plan-sha256" big /></p>
    </section>
  );
  return (
    <Screen title={`Ceremony plan ${plan.ceremony.id}`} intro={<p>{plan.ceremony.purpose} · {plan.ceremony.location}</p>}>
      {/* Before the start the plan's hash comes first; running, what to do now does (the clock, an acknowledgement, the current step), then the hash and the whole plan. */}
      {!active && fingerprint}
      {active && !state!.preflight.confirmed && (
        <PreflightConfirm witnesses={state!.witnesses} warnings={state!.preflight.warnings} />
      )}
      {active && awaiting && (
        <section aria-label="Witness acknowledgement" data-testid="plan-ack">
          <h2>Step {awaiting.n} of {awaiting.of} is {state!.status[awaiting.n - 1]}: a witness acknowledges it</h2>
          <label>
            Witness
            <select value={witness} onChange={(e) => setWitness(e.target.value)} data-testid="plan-witness">
              <option value="">Choose the witness…</option>
              {state!.witnesses.map((w) => <option key={w} value={w}>{w}</option>)}
            </select>
          </label>
          <button type="button" disabled={!witness} onClick={() => void acknowledge()} data-testid="plan-acknowledge">I witnessed this step</button>
        </section>
      )}
      {active && !awaiting && current && (<>
        <section aria-label="Current step" data-testid="plan-current">
          <h2>Step {current.n} of {current.of}: {current.words}</h2>
          {switchTo && <SwitchToken to={switchTo} />}
          {switchTo ? null : current.notInApp
            ? <p className="warning-text">{current.notInApp}.</p>
            : <p>Do this step in the wizard: {current.type === 'key' ? `open the token, log in, and generate key “${current.label}”, ${algorithmWithCode(current.algorithm ?? '')}.` : current.type === 'root' ? `choose profile ${current.profile} with the plan’s variables, review${current.dates ? ' (the app signs with the plan’s dates, shown in the review)' : ''} and sign.` : current.type === 'crl' ? `in the CA, make the CRL with its next update in ${current.nextUpdateDays} days${current.revoke.length ? `; the app first revokes ${current.revoke.map((v) => `${v.what} (${v.reason})`).join(', ')}, each asked in its own dialog` : ''}, review and sign.` : current.type === 'token-init' ? 'initialize the token.' : current.type === 'csr' ? `choose the ceremony’s output folder in the app’s dialog (the request is written to ${current.out ?? ''} under it, never over a file; the folder of the plan’s earlier CA directories, if any), then review the request main makes with the plan’s key and profile ${current.profile ?? ''}, and sign with the token.` : `review and sign the request the plan names${current.dates ? ' (the app signs with the plan’s dates, shown in the review)' : ''}.`} The app refuses anything else unless a deviation is recorded.</p>}
          <div className="actions">
            {switchTo && <SwitchTokenButton to={switchTo} />}
            {!current.notInApp && !switchTo && (
              <button type="button" onClick={() => void actions.doPlanStep(current)} data-testid="plan-do-step">Do this step</button>
            )}
            <button type="button" className="secondary" onClick={() => setDeviating(true)} data-testid="plan-deviation">Record a deviation…</button>
          </div>
        </section>
        {deviating && (
          // A form beside the step's section, not in it: its sticky bar then sticks within the whole screen at any zoom (styles.css).
          <form className="plan-deviation" onSubmit={(e) => { e.preventDefault(); if (note.trim().length >= 10) void deviate(); }} data-testid="plan-deviation-form">
            <div className="field">
              <label htmlFor="plan-deviation-kind">What happened</label>
              <select id="plan-deviation-kind" value={kind} onChange={(e) => setKind(e.target.value as typeof kind)} data-testid="plan-deviation-kind">
                {KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.words}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor="plan-deviation-note">Note for the record (at least 10 characters: what and why)</label>
              <textarea id="plan-deviation-note" value={note} onChange={(e) => setNote(e.target.value)} rows={3} data-testid="plan-deviation-note" />
            </div>
            {/* In the sticky bar: the form's end may lie below a laptop's fold; Cancel leaves the step as it was. */}
            <Actions primary>
              <button type="button" className="secondary" onClick={() => { setDeviating(false); setNote(''); }} data-testid="plan-deviation-cancel">Cancel</button>
              <button type="submit" disabled={note.trim().length < 10} data-testid="plan-deviation-record">Record the deviation</button>
            </Actions>
          </form>
        )}
      </>)}
      {active && !awaiting && !current && <p data-testid="plan-finished">Every step of the plan is finished. Close the ceremony and print its transcript.</p>}
      {active && state!.deviations.length > 0 && (
        <section aria-label="Deviations">
          <h2>Deviations</h2>
          <ul data-testid="plan-deviations">{state!.deviations.map((d, i) => <li key={i}>Step {d.step + 1}: {d.kind}: “{d.note}”</li>)}</ul>
        </section>
      )}
      {active && problem && <p className="error-text" role="alert" data-testid="plan-problem">{problem}</p>}
      {active && (
        <p><button type="button" className="secondary" onClick={() => void refresh()} data-testid="plan-refresh">Show where the plan stands</button></p>
      )}
      {active && fingerprint}
      <section aria-label="Participants">
        <h2>Participants</h2>
        <ul data-testid="plan-participants">{plan.participants.map((p) => <li key={p.name}>{p.name}: {p.role}</li>)}</ul>
      </section>
      <section aria-label="Steps">
        <h2>Steps</h2>
        <Steps plan={plan} state={state} />
      </section>
      {!active && problem && <p className="error-text" role="alert" data-testid="plan-problem">{problem}</p>}
      {!active && (
        <Actions primary>
          <button type="button" className="secondary" onClick={() => void open()} data-testid="plan-open">Open another plan…</button>
          <button type="button" onClick={() => void start()} data-testid="plan-start">Start this ceremony</button>
        </Actions>
      )}
    </Screen>
  );
}
