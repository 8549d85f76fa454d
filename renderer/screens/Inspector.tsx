import { useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Badge, DescribedView, Screen } from '../components/common';

/**
 * Read a dropped or opened file as PEM text when it is PEM, as base64 DER when it is binary, and
 * as 'text' when it is text with no PEM block (a README, a key list): that is not a document,
 * and is said so in words rather than as a DER parsing error.
 */
export async function readFileForInspection(file: File): Promise<{ data: string; encoding: 'pem' | 'base64' | 'text' }> {
  const buf = new Uint8Array(await file.arrayBuffer());
  const head = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(0, 4096));
  if (head.includes('-----BEGIN')) return { data: new TextDecoder().decode(buf), encoding: 'pem' };
  // DER starts with a SEQUENCE (0x30); text is printable bytes, tabs and line ends.
  const sample = buf.subarray(0, 4096);
  const printable = sample.filter((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128).length;
  if (sample.length > 0 && sample[0] !== 0x30 && printable / sample.length > 0.95) return { data: '', encoding: 'text' };
  let bin = '';
  for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000));
  return { data: btoa(bin), encoding: 'base64' };
}

/** A file of several objects: which one is shown, each named by its kind and subject. */
function ObjectPicker() {
  const all = useWizard((s) => s.inspectedAll);
  const index = useWizard((s) => s.inspectedIndex);
  if (all.length < 2) return null;
  return (
    <nav className="panel" aria-label="Objects in this file" data-testid="inspect-objects">
      <p data-testid="inspect-count">This file holds {all.length} objects. Each is decoded and verified on its own:</p>
      <ul className="object-list">
        {all.map((o, i) => (
          <li key={i}>
            <button type="button" className={i === index ? '' : 'secondary'} aria-current={i === index ? 'true' : undefined} onClick={() => actions.showInspected(i)} data-testid={`inspect-object-${i + 1}`}>
              {i + 1}. {o.doc ? o.doc.title : `not readable (${o.problem?.code ?? 'error'})`}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

// eslint-disable-next-line max-lines-per-function -- a React screen: markup; decoding and checks are in main
export function Inspector() {
  const doc = useWizard((s) => s.inspected);
  const verification = useWizard((s) => s.verification);
  const problem = useWizard((s) => s.inspectProblem);
  const chosen = useWizard((s) => s.inspectedAll[s.inspectedIndex]);
  const [pem, setPem] = useState('');
  const [over, setOver] = useState(false);
  const [issuer, setIssuer] = useState<{ data: string; encoding: 'pem' | 'base64'; name: string } | null>(null);
  const openCa = useWizard((s) => (s.ca ? s.ca.dir : null));
  const [useOpenCa, setUseOpenCa] = useState(false);
  const [issuerProblem, setIssuerProblem] = useState<string | null>(null);
  return (
    <Screen title="Inspect a file" intro={<p>Open or drop a certificate, certificate request or CRL (PEM or DER), or paste PEM text.</p>}>
      <div
        className={over ? 'drop over' : 'drop'}
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          const f = e.dataTransfer.files[0];
          if (f) void readFileForInspection(f).then((d) => actions.inspect(d.data, d.encoding));
        }}
        data-testid="drop"
      >
        <label htmlFor="inspect-file">Open a file</label>{' '}
        <input id="inspect-file" type="file" accept=".pem,.crt,.cer,.der,.csr,.req,.crl" data-testid="inspect-file" onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void readFileForInspection(f).then((d) => actions.inspect(d.data, d.encoding));
        }} />
        <p className="hint">or drop it here</p>
      </div>
      <form onSubmit={(e) => { e.preventDefault(); if (pem.trim()) void actions.inspect(pem.trim(), 'pem'); }}>
        <div className="field">
          <label htmlFor="paste-pem">Paste PEM</label>
          <textarea id="paste-pem" className="mono" rows={6} spellCheck={false} value={pem} onChange={(e) => { setPem(e.target.value); if (doc || problem) actions.clearInspected(); }} data-testid="paste-pem" />
        </div>
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go('start')}>Back</button>
          <button type="submit" disabled={!pem.trim()} data-testid="decode">Decode</button>
        </Actions>
      </form>
      {problem && <p className="error-inline" role="alert" data-testid="inspect-not-document">{problem}</p>}
      <ObjectPicker />
      {!doc && chosen?.problem && (
        <p className="error-inline" role="alert" data-testid="inspect-object-problem">This object could not be read ({chosen.problem.code}): {chosen.problem.message}</p>
      )}
      {doc && (
        <>
          {/* The verdict lives in one place: once checked against an issuer, the document's own
              signature block shows that check (and the chain's), never "Not checked" above "Valid". */}
          <DescribedView
            doc={doc}
            testId="inspected"
            signatures={verification?.signatures}
            verdict={verification ? (
              <p role="status" data-testid="verify-result">
                <Badge ok={verification.ok}>{verification.ok ? 'Valid' : 'Not valid'}</Badge> {verification.message}
              </p>
            ) : null}
          />
          {doc.kind !== 'csr' && (
            <form className="panel" onSubmit={(e) => { e.preventDefault(); void actions.verifyInspected(issuer ? { data: issuer.data, encoding: issuer.encoding } : null, useOpenCa); }}>
              <h2>Verify against the issuer</h2>
              <div className="field">
                <label htmlFor="issuer-file">Issuer certificate file</label>
                <input id="issuer-file" type="file" accept=".pem,.crt,.cer,.der" data-testid="issuer-file" onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) void readFileForInspection(f).then((d) => {
                    if (d.encoding === 'text') { setIssuer(null); setIssuerProblem(`${f.name} is text with no PEM block: it is not a certificate.`); return; }
                    setIssuerProblem(null);
                    setIssuer({ data: d.data, encoding: d.encoding, name: f.name });
                  });
                }} />
                {issuerProblem && <p className="error-inline" role="alert" data-testid="issuer-not-certificate">{issuerProblem}</p>}
              </div>
              {openCa && (
                <label className="check"><input type="checkbox" checked={useOpenCa} onChange={(e) => setUseOpenCa(e.target.checked)} data-testid="issuer-open-ca" /> or the CA open in this ceremony: <span className="mono">{openCa}</span></label>
              )}
              <Actions>
                <button type="submit" disabled={!issuer && !useOpenCa} data-testid="verify">Verify</button>
              </Actions>
              {verification && <p className="hint" data-testid="verify-done">Checked: the verdict is at the top of the document.</p>}
            </form>
          )}
          {doc.kind === 'csr' && (
            <p className="hint">A certificate request is signed by its own key; its self-signature was checked when it was decoded.</p>
          )}
        </>
      )}
    </Screen>
  );
}
