import { useEffect } from 'react';
import { actions, useWizard } from './store';
import { Busy, ErrorBox, StepIndicator } from './components/common';
import { JournalPanel } from './components/JournalPanel';
import { TokenLost } from './components/TokenLost';
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
} as const;

export function App() {
  const screen = useWizard((s) => s.screen);
  const error = useWizard((s) => s.error);
  const busy = useWizard((s) => s.busy);
  const token = useWizard((s) => s.token);
  const loggedIn = useWizard((s) => s.loggedIn);
  const devToken = useWizard((s) => s.devToken);
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
        {screen !== 'start' && (
          <button type="button" className="secondary" onClick={() => void actions.endCeremony()} data-testid="home">
            {loggedIn ? 'Log out and start over' : 'Start over'}
          </button>
        )}
      </header>
      <StepIndicator screen={screen} />
      <div className="layout">
        <main>
          <TokenLost />
          <ErrorBox error={error} onDismiss={actions.clearError} />
          <Current />
          <Busy busy={busy} />
        </main>
        <JournalPanel />
      </div>
    </div>
  );
}
