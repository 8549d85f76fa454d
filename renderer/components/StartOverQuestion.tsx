/**
 * "Start over" during a witnessed ceremony ends it: its record gets its closing entry and cannot
 * be reopened. So the page asks first, says where the record is kept, and lets the operator keep
 * working (the button or Escape). Main closes the record either way it is ended; this question
 * only keeps a stray click from ending a ceremony in front of its witnesses.
 */
import { useEffect, useRef } from 'react';
import { actions, useWizard } from '../store';

export function StartOverQuestion() {
  const ask = useWizard((s) => s.askStartOver);
  const loggedIn = useWizard((s) => s.loggedIn);
  const purpose = useWizard((s) => s.journal?.ceremony?.purpose ?? '');
  const dir = useWizard((s) => s.journal?.dir || s.caDir || null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (ask) box.current?.focus();
  }, [ask]);
  if (!ask) return null;
  const keep = () => {
    actions.keepWorking();
    document.getElementById('home')?.focus();
  };
  return (
    <div
      className="panel start-over"
      role="alertdialog"
      aria-modal="false"
      aria-labelledby="start-over-title"
      aria-describedby="start-over-words"
      tabIndex={-1}
      ref={box}
      data-testid="start-over-question"
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          keep();
        }
      }}
    >
      <h2 id="start-over-title">End this witnessed ceremony?</h2>
      <div id="start-over-words">
        <p>
          Starting over ends the ceremony{purpose ? <> “{purpose}”</> : null}{loggedIn ? ' and logs out of the token' : ''}. Its record gets its closing entry
          and cannot be reopened: anything left to do needs a new ceremony with its witnesses.
        </p>
        <p data-testid="start-over-where">
          {dir
            ? <>The record is kept in <span className="mono">{dir}</span>; the next screen shows its final hash and offers the transcript.</>
            : <>No CA directory was made yet: the record of what was done goes to a folder of its own in the app’s data folder, which the next screen names.</>}
        </p>
      </div>
      <div className="actions">
        <button type="button" onClick={() => void actions.endCeremony()} data-testid="start-over-confirm">End the ceremony and start over</button>
        <button type="button" className="secondary" onClick={keep} data-testid="start-over-cancel">Keep working</button>
      </div>
    </div>
  );
}
