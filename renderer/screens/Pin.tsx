import { actions, useWizard } from '../store';
import { Screen } from '../components/common';
import { PinLogin } from '../components/PinLogin';

export function Pin() {
  const token = useWizard((s) => s.token);
  const busy = useWizard((s) => s.busy);
  const serial = token?.serial;
  // Counted from the ceremony's record (main writes each failed login there), not by this page.
  const wrongTries = useWizard((s) => [...(s.journal?.entries ?? []), ...(s.journal?.pending ?? [])]
    .filter((e) => e.kind === 'login.failed' && e.facts.serial === serial && e.facts.code === 'PIN_INCORRECT').length);
  if (!token) return null;
  return (
    <Screen title={`Log in to “${token.label}”`} intro={<p>Type the user PIN. It goes once to the token and is not kept anywhere by this app.</p>}>
      <PinLogin
        token={token}
        busy={!!busy}
        ids=""
        submitLabel="Log in"
        onLogin={(pin) => actions.login(pin)}
        wrongTries={wrongTries}
        before={<button type="button" className="secondary" onClick={() => actions.go('token')}>Back</button>}
      />
    </Screen>
  );
}
