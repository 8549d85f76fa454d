import { useWizard, actions } from '../store';

/** The ceremony journal as it grows: what witnesses compare with their paper record. */
export function JournalPanel() {
  const journal = useWizard((s) => s.journal);
  const caDir = useWizard((s) => s.caDir);
  if (!caDir && !journal) return null;
  return (
    <aside className="journal" aria-labelledby="journal-title">
      <h2 id="journal-title">Ceremony journal</h2>
      {journal ? (
        <>
          <p className={journal.intact ? 'hint' : 'field-error'} data-testid="journal-state">
            {journal.intact ? `${journal.entries.length} entries, hash chain intact.` : 'The hash chain does NOT verify.'}
          </p>
          <ol className="journal-list" tabIndex={0} aria-label="Journal entries">
            {journal.entries.map((e) => (
              <li key={e.seq}>
                <span className="small">{e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</span> <strong>{e.kind}</strong>
                <span className="mono small"> {e.hash.slice(0, 16)}…</span>
              </li>
            ))}
          </ol>
        </>
      ) : (
        <p className="hint">No journal yet: it starts when the CA directory is created.</p>
      )}
      <button type="button" className="secondary" onClick={() => void actions.refreshJournal()}>Refresh</button>
    </aside>
  );
}
