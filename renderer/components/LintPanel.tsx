import type { SigningRequestT } from '../../shared/contract';

type Finding = SigningRequestT['lint']['findings'][number];

const SEVERITY_WORDS: Record<Finding['severity'], string> = { error: 'Error', warning: 'Warning', notice: 'Notice' };

function FindingList({ items, testId }: { items: (Finding & { reason?: string })[]; testId: string }) {
  return (
    <ul className="lint-findings" data-testid={testId}>
      {items.map((f) => (
        <li key={`${f.lint}-${f.severity}`}>
          <strong>{SEVERITY_WORDS[f.severity]}</strong>: {f.message} <span className="mono small">{f.lint}</span> <span className="small">({f.source})</span>
          {f.reason && <div className="small">Accepted by the profile: {f.reason}</div>}
        </li>
      ))}
    </ul>
  );
}

/**
 * The lint gate's verdict on exactly what will be signed (main signed the same bytes with a
 * throwaway key and linted them). An error the profile does not accept stops signing in main;
 * this panel says so before anyone presses Sign.
 */
export function LintPanel({ lint }: { lint: SigningRequestT['lint'] }) {
  const acceptedNames = new Set(lint.accepted.map((a) => a.lint));
  const others = lint.findings.filter((f) => f.severity !== 'error' && !acceptedNames.has(f.lint));
  const rules = lint.pki === 'public-tls' ? 'public TLS (CA/Browser Forum Baseline Requirements and RFC 5280)' : 'private PKI (RFC 5280)';
  const external = (name: string, v: Finding[] | null) =>
    v === null ? `${name}: not installed on this machine` : v.length === 0 ? `${name}: no finding` : `${name}: ${v.map((f) => `${SEVERITY_WORDS[f.severity]} ${f.lint}`).join(', ')}`;
  return (
    <section aria-labelledby="lint-title" data-testid="review-lint">
      <h2 id="lint-title">Lint check before signing</h2>
      <p>Checked against the {rules} rules.</p>
      {lint.blocking.length > 0 ? (
        <div className="error" role="note" data-testid="lint-blocking">
          <p>
            This cannot be signed: {lint.blocking.length} error{lint.blocking.length > 1 ? 's' : ''} below. Go back and change the profile or its values, or
            use a profile that accepts the lint by name with a written reason.
          </p>
          <FindingList items={lint.blocking} testId="lint-blocking-list" />
        </div>
      ) : (
        <p data-testid="lint-verdict">No error: signing is allowed.</p>
      )}
      {lint.accepted.length > 0 && <FindingList items={lint.accepted} testId="lint-accepted" />}
      {others.length > 0 && <FindingList items={others} testId="lint-others" />}
      <p className="small" data-testid="lint-external">{external('zlint', lint.zlint)}. {external('pkilint', lint.pkilint)}.</p>
    </section>
  );
}
