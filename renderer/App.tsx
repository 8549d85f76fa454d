import { useEffect, useState } from 'react';
import { actions, useWizard } from './store';
import { Busy, ErrorBox, StepIndicator } from './components/common';
import { JournalPanel } from './components/JournalPanel';
import { TokenLost } from './components/TokenLost';
import { StartOverQuestion } from './components/StartOverQuestion';
import { Start } from './screens/Start';
import { Ceremony, Closed } from './screens/Ceremony';
import { Storage } from './screens/Storage';
import { Token } from './screens/Token';
import { Pin } from './screens/Pin';
import { Key } from './screens/Key';
import { Profile } from './screens/Profile';
import { Review } from './screens/Review';
import { Result } from './screens/Result';
import { InitToken } from './screens/InitToken';
import { Inspector } from './screens/Inspector';
import { Ca, Issue } from './screens/Ca';
import { Plan } from './screens/Plan';
import { RequestWritten } from './screens/RequestWritten';

const SCREENS = {
  start: Start,
  ceremony: Ceremony,
  closed: Closed,
  storage: Storage,
  token: Token,
  pin: Pin,
  key: Key,
  profile: Profile,
  review: Review,
  result: Result,
  init: InitToken,
  inspect: Inspector,
  ca: Ca,
  issue: Issue,
  plan: Plan,
  'request-written': RequestWritten,
} as const;

export function App() {
  const screen = useWizard((s) => s.screen);
  const planned = useWizard((s) => s.planned);
  const error = useWizard((s) => s.error);
  const busy = useWizard((s) => s.busy);
  const token = useWizard((s) => s.token);
  const loggedIn = useWizard((s) => s.loggedIn);
  // The development banner shows however the token was opened: by the development card, or its library chosen from the list.
  const devToken = useWizard((s) => s.devToken || !!s.module?.development);
  const journalCount = useWizard((s) => (s.journal?.entries.length ?? 0) + (s.journal?.pending?.length ?? 0));
  const hasJournal = useWizard((s) => Boolean(s.caDir || s.journal || s.ceremony));
  // Under 1100 px the journal is a drawer; wide screens show it beside the step (CSS decides).
  const [journalOpen, setJournalOpen] = useState(false);
  useEffect(() => {
    void actions.boot();
  }, []);
  const Current = SCREENS[screen];
  return (
    <div className="app" data-screen={screen}>
      <header className="top">
        <span className="brand">QPKI Ceremony</span>
        <span className="session" data-testid="session-state">
          {token ? `${loggedIn ? 'Logged in to' : 'Token'} “${token.label}”` : 'No token open'}
          {devToken && <strong className="warning-text"> · DEVELOPMENT TOKEN, NOT FOR PRODUCTION</strong>}
        </span>
        {hasJournal && (
          <button
            type="button"
            id="journal-toggle"
            className="secondary journal-toggle"
            aria-expanded={journalOpen}
            aria-controls="journal-drawer"
            onClick={() => setJournalOpen(!journalOpen)}
            data-testid="journal-toggle"
          >
            Journal ({journalCount})
          </button>
        )}
        {screen !== 'start' && (
          <button type="button" className="secondary" id="home" onClick={() => actions.startOver()} data-testid="home">
            {loggedIn ? 'Log out and start over' : 'Start over'}
          </button>
        )}
      </header>
      <StepIndicator screen={screen} />
      {planned && screen !== 'plan' && (
        <section className="plan-bar" aria-label="Ceremony plan step" data-testid="plan-bar">
          <span>Plan step {planned.n} of {planned.of}: {planned.words}</span>
          <button type="button" className="secondary" onClick={() => actions.go('plan')} data-testid="plan-back">Back to the plan</button>
        </section>
      )}
      <div className="layout">
        <main>
          <TokenLost />
          <StartOverQuestion />
          <ErrorBox error={error} onDismiss={actions.clearError} />
          <Current />
          <Busy busy={busy} />
        </main>
        <JournalPanel open={journalOpen} onClose={() => setJournalOpen(false)} />
      </div>
    </div>
  );
}
