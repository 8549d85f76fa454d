/** Small shared pieces: the error box, the progress line, the step indicator, the certificate view. */
import { useEffect, useRef, type ReactNode } from 'react';
import type { ErrorPayload } from '../../shared/error-codes';
import type { DescribedT } from '../../shared/contract';
import { errorWords } from '../error-words';
import { CEREMONY_STEPS, useWizard, type Purpose, type Screen } from '../store';
import { SignaturesPanel } from './PostQuantum';
import { Hash } from './Hash';

export function ErrorBox({ error, onDismiss }: { error: ErrorPayload | null; onDismiss?: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  // The same error reads differently on another path (the CA screen has no PIN step).
  const purpose = useWizard((s) => s.purpose);
  const screen = useWizard((s) => s.screen);
  const flow = purpose ? { purpose, screen } : null;
  useEffect(() => {
    if (error) box.current?.focus();
  }, [error]);
  const dismiss = () => {
    const active = document.activeElement;
    const focusWasHere = !active || active === document.body || !!box.current?.contains(active);
    onDismiss?.();
    // The box and its button go away: focus they held returns to the step's heading, not to
    // <body>; focus in a field (the PIN typed again) stays where it is.
    if (focusWasHere) document.getElementById('screen-title')?.focus();
  };
  // Escape dismisses the error wherever the focus is, unless something in front (the journal
  // drawer) has already taken that key press.
  useEffect(() => {
    if (!error || !onDismiss) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) dismiss();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });
  if (!error) return null;
  const words = errorWords(error.code, flow);
  return (
    <div className="error" role="alert" tabIndex={-1} ref={box} data-testid="error" data-code={error.code}>
      <p className="error-title">{words.title}</p>
      <p>{words.next}</p>
      <p className="error-detail">
        Details ({error.code}): {error.message}
      </p>
      {onDismiss && (
        <button
          type="button"
          className="secondary"
          onClick={dismiss}
          aria-keyshortcuts="Escape"
        >
          Dismiss (Esc)
        </button>
      )}
    </div>
  );
}

export function Busy({ busy }: { busy: string | null }) {
  return (
    <div className="busy" role="status" aria-live="polite">
      {busy ? (
        <>
          <span className="spinner" aria-hidden="true" /> {busy}…
        </>
      ) : null}
    </div>
  );
}

interface FlowStep { screens: Screen[]; label: string }

/**
 * The steps of the flow the operator is in. The ceremony's own list lives in the store; the
 * token-initialization and CA-directory flows are presentation only, so they live here.
 */
function flowSteps(purpose: Purpose, keystore: 'pkcs11' | 'software'): FlowStep[] {
  if (purpose === 'init') {
    return [
      { screens: ['start'], label: 'Start' },
      { screens: ['ceremony'], label: 'Ceremony' },
      { screens: ['storage'], label: 'Library' },
      { screens: ['init'], label: 'Initialize the token' },
      { screens: ['closed'], label: 'Transcript' },
    ];
  }
  if (purpose === 'ca') {
    return [
      { screens: ['start'], label: 'Start' },
      { screens: ['ceremony'], label: 'Ceremony' },
      { screens: ['ca', 'pin'], label: 'CA directory' },
      { screens: ['issue'], label: 'Issue' },
      { screens: ['review'], label: 'Review' },
      { screens: ['result'], label: 'Result' },
      { screens: ['closed'], label: 'Transcript' },
    ];
  }
  // A software key has no token, PIN or key step: they are left out of the count, not shown as done.
  const skipped: Screen[] = keystore === 'software' ? ['token', 'pin', 'key'] : [];
  return CEREMONY_STEPS.filter((s) => !skipped.includes(s.screen)).map((s) => ({ screens: [s.screen], label: s.label }));
}

/** One line, "Step 6 of 10: Key": short enough for a laptop at 200% and read aloud as it stands. */
export function StepIndicator({ screen }: { screen: Screen }) {
  const purpose = useWizard((s) => s.purpose);
  const keystore = useWizard((s) => s.keystore);
  const mode = useWizard((s) => s.issueMode);
  const steps = flowSteps(purpose, keystore);
  const idx = steps.findIndex((s) => s.screens.includes(screen));
  if (idx < 0) return null;
  const pinInCa = purpose === 'ca' && screen === 'pin';
  // The CA directory's Issue step is also where a certificate is revoked: said as such.
  const label = screen === 'issue' && mode === 'revoke' ? 'Revoke' : steps[idx]?.label;
  return (
    <nav aria-label="Ceremony steps">
      <p className="steps" data-testid="step-indicator">
        <span className="step-count">Step {idx + 1} of {steps.length}:</span> {label}
        {pinInCa ? ' (the CA token’s PIN)' : ''}
      </p>
    </nav>
  );
}

export function Screen({ title, intro, children }: { title: string; intro?: ReactNode; children: ReactNode }) {
  const h = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    h.current?.focus();
  }, [title]);
  return (
    <section className="screen" aria-labelledby="screen-title">
      <h1 id="screen-title" tabIndex={-1} ref={h}>
        {title}
      </h1>
      {intro && <div className="intro">{intro}</div>}
      {children}
    </section>
  );
}

export function Badge({ ok, children }: { ok: boolean; children: ReactNode }) {
  return <span className={ok ? 'badge ok' : 'badge bad'}>{children}</span>;
}

/** A certificate, CSR or CRL laid out like a browser's certificate viewer. */
export function DescribedView({ doc, testId, signatures, verdict }: { doc: DescribedT; testId?: string; signatures?: DescribedT['signatures']; verdict?: ReactNode }) {
  // The signatures have their own block, each checked on its own; they are not repeated as fields.
  const fields = doc.signatures.length ? doc.fields.filter((f) => f.label !== 'Signature' && f.label !== 'Alternative signature') : doc.fields;
  const shown = signatures ?? doc.signatures;
  return (
    <div className="described" data-testid={testId}>
      <h2>{doc.title}</h2>
      {verdict}
      <SignaturesPanel signatures={shown} testId={testId ? `${testId}-signatures` : 'signatures'} title={signatures && shown.length > 1 ? 'Against the issuer, each signature on its own' : undefined} />
      <dl className="fields">
        {fields.map((f, i) => (
          <div key={i} className="field-row">
            <dt>{f.label}</dt>
            <dd>{f.value}</dd>
          </div>
        ))}
        <div className="field-row">
          <dt>SHA-256 fingerprint</dt>
          <dd>
            <Hash value={doc.sha256} testId="fingerprint" />
          </dd>
        </div>
      </dl>
      {doc.extensions.length > 0 && (
        <>
          <h3>Extensions</h3>
          <dl className="fields">
            {doc.extensions.map((e, i) => (
              <div key={i} className="field-row">
                <dt>
                  {e.name}
                  {e.critical ? ' (critical)' : ''}
                  <span className="oid">{e.oid}</span>
                </dt>
                <dd>{e.value}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </div>
  );
}

/**
 * A row of buttons. `primary` marks the screen's main row: it sticks to the bottom of the
 * viewport so the next step is in view on a laptop without scrolling past long tables.
 */
export function Actions({ children, primary, label }: { children: ReactNode; primary?: boolean; label?: string }) {
  // A label names the row for screen readers where no heading above it does.
  return (
    <div className={primary ? 'actions action-bar' : 'actions'} data-testid={primary ? 'action-bar' : undefined} role={label ? 'group' : undefined} aria-label={label}>
      {children}
    </div>
  );
}

/**
 * After a refused submit: the first field marked invalid takes the focus (and scrolls into view),
 * so a keyboard or screen-reader user lands on what needs fixing instead of on the button. Runs on
 * the next frame, once React has drawn the error marks that the submit turned on.
 */
export function focusFirstInvalid(form: HTMLFormElement): void {
  requestAnimationFrame(() => {
    const first = form.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (!first) return;
    first.focus();
    first.scrollIntoView({ block: 'center' });
  });
}
