import { useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Badge, DescribedView, Screen } from '../components/common';
import { SignaturesPanel } from '../components/PostQuantum';

/** Read a dropped or opened file as PEM text when it is text, else as base64 DER. */
export async function readFileForInspection(file: File): Promise<{ data: string; encoding: 'pem' | 'base64' }> {
  const buf = new Uint8Array(await file.arrayBuffer());
  const head = new TextDecoder('utf-8', { fatal: false }).decode(buf.subarray(0, 4096));
  if (head.includes('-----BEGIN')) return { data: new TextDecoder().decode(buf), encoding: 'pem' };
  let bin = '';
  for (let i = 0; i < buf.length; i += 0x8000) bin += String.fromCharCode(...buf.subarray(i, i + 0x8000));
  return { data: btoa(bin), encoding: 'base64' };
}

export function Inspector() {
  const doc = useWizard((s) => s.inspected);
  const verification = useWizard((s) => s.verification);
  const [pem, setPem] = useState('');
  const [over, setOver] = useState(false);
  const [issuer, setIssuer] = useState<{ data: string; encoding: 'pem' | 'base64'; name: string } | null>(null);
  const openCa = useWizard((s) => (s.ca ? s.ca.dir : null));
  const [useOpenCa, setUseOpenCa] = useState(false);
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
          <textarea id="paste-pem" className="mono" rows={6} spellCheck={false} value={pem} onChange={(e) => setPem(e.target.value)} data-testid="paste-pem" />
        </div>
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go('start')}>Back</button>
          <button type="submit" disabled={!pem.trim()} data-testid="decode">Decode</button>
        </Actions>
      </form>
      {doc && (
        <>
          <DescribedView doc={doc} testId="inspected" />
          {doc.kind !== 'csr' && (
            <form className="panel" onSubmit={(e) => { e.preventDefault(); void actions.verifyInspected(issuer ? { data: issuer.data, encoding: issuer.encoding } : null, useOpenCa); }}>
              <h2>Verify against the issuer</h2>
              <div className="field">
                <label htmlFor="issuer-file">Issuer certificate file</label>
                <input id="issuer-file" type="file" accept=".pem,.crt,.cer,.der" data-testid="issuer-file" onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) void readFileForInspection(f).then((d) => setIssuer({ ...d, name: f.name }));
                }} />
              </div>
              {openCa && (
                <label className="check"><input type="checkbox" checked={useOpenCa} onChange={(e) => setUseOpenCa(e.target.checked)} data-testid="issuer-open-ca" /> or the CA open in this ceremony: <span className="mono">{openCa}</span></label>
              )}
              <Actions>
                <button type="submit" disabled={!issuer && !useOpenCa} data-testid="verify">Verify</button>
              </Actions>
              {verification && (
                <>
                  <p role="status" data-testid="verify-result">
                    <Badge ok={verification.ok}>{verification.ok ? 'Valid' : 'Not valid'}</Badge> {verification.message}
                  </p>
                  {verification.signatures && verification.signatures.length > 1 && <SignaturesPanel signatures={verification.signatures} testId="verify-signatures" title="Against the issuer, each signature on its own" />}
                </>
              )}
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
