import { useEffect, useRef } from 'react';
import { useWizard, actions } from '../store';
import { hashGroups } from './Hash';

function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/**
 * The ceremony journal as it grows: what witnesses compare with their paper record. Events
 * before the CA directory exists are shown as held: they open its journal when it is created.
 */
export function JournalPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  const journal = useWizard((s) => s.journal);
  const caDir = useWizard((s) => s.caDir);
  const ceremony = useWizard((s) => s.ceremony);
  const list = useRef<HTMLOListElement>(null);
  const count = (journal?.entries.length ?? 0) + (journal?.pending?.length ?? 0);
  // Witnesses compare the newest entry with their paper: keep it in view as the list grows.
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, open]);
  const closeButton = useRef<HTMLButtonElement>(null);
  // Opened as a drawer, it takes focus so Escape and Tab act in it; closed, focus goes back to its button.
  useEffect(() => {
    if (open) closeButton.current?.focus();
  }, [open]);
  const close = () => {
    onClose();
    document.getElementById('journal-toggle')?.focus();
  };
  if (!caDir && !journal && !ceremony) return null;
  const pending = journal?.pending ?? [];
  return (
    <aside
      id="journal-drawer"
      className={open ? 'journal open' : 'journal'}
      aria-labelledby="journal-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          // The drawer takes this Escape: an error box behind it stays until its own.
          e.preventDefault();
          close();
        }
      }}
    >
      <div className="journal-head">
        <h2 id="journal-title">Ceremony journal</h2>
        <button type="button" className="secondary journal-close" ref={closeButton} onClick={close}>
          Close
        </button>
      </div>
      {journal?.ceremony && (
        <p className="small" data-testid="journal-people">
          Operator {journal.ceremony.operator}; witnesses {journal.ceremony.witnesses.join(', ')}
          {journal.ceremony.closed ? ' · closed' : ''}
        </p>
      )}
      {journal && (journal.entries.length > 0 || pending.length > 0) ? (
        <>
          {journal.entries.length > 0 && (
            <p className={journal.intact ? 'hint' : 'field-error'} data-testid="journal-state">
              {journal.intact ? `${journal.entries.length} entries, hash chain intact.` : 'The hash chain does NOT verify.'}
            </p>
          )}
          <ol className="journal-list" ref={list} tabIndex={0} aria-label="Journal entries" data-testid="journal-entries">
            {journal.entries.map((e) => (
              <li key={`j${e.seq}`} data-kind={e.kind}>
                <span className="small">{shortTime(happenedAt(e))}</span> <strong>{e.kind}</strong>
                <span className="mono small hash-value" title={hashGroups(e.hash)}> {hashGroups(e.hash.slice(0, 16))} …</span>
              </li>
            ))}
            {pending.map((e, i) => (
              <li key={`p${i}`} data-kind={e.kind} className="pending">
                <span className="small">{shortTime(e.time)}</span> <strong>{e.kind}</strong> <span className="small">(held)</span>
              </li>
            ))}
          </ol>
          {pending.length > 0 && (
            <p className="hint" data-testid="journal-pending">{pending.length} held: written at the head of the journal when the CA directory is created or opened.</p>
          )}
        </>
      ) : (
        <p className="hint">No journal yet: it starts when the CA directory is created.</p>
      )}
      <button type="button" className="secondary" onClick={() => void actions.refreshJournal()}>Refresh</button>
    </aside>
  );
}

/**
 * When the event happened: an event held until the journal existed carries its own time
 * (observedAt), as the transcript shows it; the entry's time is when it was written.
 */
function happenedAt(e: { time: string; facts?: Record<string, unknown> }): string {
  const at = e.facts?.observedAt;
  return typeof at === 'string' ? at : e.time;
}
