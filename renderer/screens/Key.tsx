import { useEffect, useRef, useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Badge, Screen } from '../components/common';
import type { KeyAlgorithmT, KeyInfoT } from '../../shared/contract';
import { AltKeyPanel } from '../components/AltKey';
import { Hash } from '../components/Hash';
import { algorithmWithCode } from '../../shared/algorithm-words';

function AttributeBadges({ a }: { a: Record<string, boolean> }) {
  return (
    <span className="badges">
      <Badge ok={!!a.sensitive}>{a.sensitive ? 'Sensitive' : 'Not sensitive'}</Badge>
      <Badge ok={!a.extractable}>{a.extractable ? 'Extractable' : 'Not extractable'}</Badge>
      <Badge ok={!!a.neverExtractable}>{a.neverExtractable ? 'Never extractable' : 'Was extractable'}</Badge>
      <Badge ok={!!a.local}>{a.local ? 'Generated in token' : 'Imported'}</Badge>
    </span>
  );
}

function keyLine(k: KeyInfoT): string {
  return `${k.algorithm ?? k.type}${k.size ? `, ${k.size} bits` : ''}`;
}

// eslint-disable-next-line max-lines-per-function -- a React screen: markup; the rules are in main
export function Key() {
  const keys = useWizard((s) => s.keys);
  const algorithms = useWizard((s) => s.algorithms);
  const generated = useWizard((s) => s.generated);
  const proven = useWizard((s) => s.proven);
  const chosen = useWizard((s) => s.key);
  const busy = useWizard((s) => s.busy);
  const token = useWizard((s) => s.token);
  const planned = useWizard((s) => (s.planned?.type === 'key' ? s.planned : null));
  const [alg, setAlg] = useState<KeyAlgorithmT | ''>((planned?.algorithm as KeyAlgorithmT | null) ?? '');
  const [label, setLabel] = useState(planned?.label ?? 'ca-key');
  const [id, setId] = useState('');
  const algorithm = alg || (algorithms.includes('ec-p384') ? 'ec-p384' : algorithms[0]);
  const idOk = id === '' || /^([0-9a-fA-F]{2}){1,32}$/.test(id);
  // The Generate button is disabled while the token works, which drops its focus: the new key's
  // panel takes it, so its facts are read out and Tab goes on from there. Not on arriving at the step.
  const generatedHeading = useRef<HTMLHeadingElement>(null);
  const lastGenerated = useRef(generated);
  useEffect(() => {
    if (generated && generated !== lastGenerated.current) generatedHeading.current?.focus();
    lastGenerated.current = generated;
  }, [generated]);
  return (
    <Screen title="The CA key" intro={<p>Generate a new key inside “{token?.label}”, or choose a key already on it.</p>}>
      <form
        className="panel"
        onSubmit={(e) => {
          e.preventDefault();
          if (algorithm && label.trim() && idOk) void actions.generateKey(algorithm, label.trim(), id || undefined);
        }}
      >
        <h2>Generate a new key in the token</h2>
        <div className="field">
          <label htmlFor="key-alg">Algorithm (only those this token can generate)</label>
          <select id="key-alg" value={algorithm ?? ''} onChange={(e) => setAlg(e.target.value as KeyAlgorithmT)} data-testid="key-alg">
            {algorithms.map((a) => <option key={a} value={a}>{algorithmWithCode(a)}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="key-label">Key label</label>
          <input id="key-label" value={label} maxLength={32} spellCheck={false} onChange={(e) => setLabel(e.target.value)} data-testid="key-label" />
        </div>
        <div className="field">
          <label htmlFor="key-id">Key ID (optional, hexadecimal)</label>
          <input id="key-id" className="mono" value={id} spellCheck={false} onChange={(e) => setId(e.target.value)} aria-invalid={!idOk || undefined} aria-describedby="key-id-hint" />
          <p id="key-id-hint" className={idOk ? 'hint' : 'field-error'}>{idOk ? 'Leave empty to derive it from the public key.' : 'Use pairs of hexadecimal digits, e.g. 01a2.'}</p>
        </div>
        <Actions>
          <button type="submit" disabled={!algorithm || !label.trim() || !idOk || !!busy} data-testid="generate-key">Generate the key</button>
        </Actions>
      </form>

      {generated && (
        <div className="panel success" data-testid="generated">
          <h2 tabIndex={-1} ref={generatedHeading}>Key generated: “{generated.key.label}”</h2>
          <dl className="fields compact">
            <div className="field-row"><dt>Type</dt><dd>{keyLine(generated.key)}</dd></div>
            <div className="field-row"><dt>ID</dt><dd className="mono">{generated.key.id}</dd></div>
            <div className="field-row"><dt>Attributes read back</dt><dd><AttributeBadges a={generated.key.attributes} /></dd></div>
            <div className="field-row"><dt>Public key SHA-256</dt><dd>{generated.key.fingerprint ? <Hash value={generated.key.fingerprint} testId="generated-fingerprint" /> : 'not known'}</dd></div>
            <div className="field-row">
              <dt>Test signature</dt>
              <dd data-testid="test-signature">
                <Badge ok={generated.testSignature.verified}>{generated.testSignature.verified ? 'Verified' : 'FAILED'}</Badge> {generated.testSignature.algorithm}
              </dd>
            </div>
          </dl>
        </div>
      )}

      <div className="panel">
        <h2>Or choose an existing key</h2>
        {keys.length === 0 ? (
          <p>No private key on this token yet.</p>
        ) : (
          <table className="key-table">
            <caption className="sr-only">Keys on the token</caption>
            <thead>
              <tr><th scope="col">Label</th><th scope="col">ID</th><th scope="col">Type</th><th scope="col">Attributes</th><th scope="col">Made, and CAs it backs</th><th scope="col"><span className="sr-only">Choose</span></th></tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={`${k.label}/${k.id}`} className={chosen && chosen.id === k.id && chosen.label === k.label ? 'chosen' : ''}>
                  <td>{k.label}</td>
                  <td className="mono small">{k.id}</td>
                  <td>{keyLine(k)}</td>
                  <td><AttributeBadges a={k.attributes} /></td>
                  <td className="small" data-testid={`key-history-${k.label}`}>
                    {k.generated ? <>Made {k.generated.time.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} ({k.generated.where})</> : 'When it was made: no record at hand'}
                    <br />
                    {k.backs.length ? <Badge ok={false}>{`Backs ${k.backs.map((b) => b.subject).join('; ')}`}</Badge> : 'Backs no CA this app knows'}
                  </td>
                  <td>
                    {(() => {
                      const text = chosen && chosen.id === k.id && chosen.label === k.label ? 'Chosen' : 'Use';
                      return (
                        <button type="button" className="secondary" aria-label={`${text} key ${k.label}`} onClick={() => void actions.selectKey(k)}>
                          {text}
                        </button>
                      );
                    })()}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {chosen && proven && !generated && (
          <p role="status" data-testid="key-proof">
            <Badge ok={proven.verified}>{proven.verified ? 'Verified' : 'FAILED'}</Badge> Test signature by “{chosen.label}” ({proven.algorithm}) checked against its public key on the token.{' '}
            {proven.journal === 'matched' ? 'It is the key the ceremony record has from its generation.' : 'No record of its generation is at hand to compare with.'}
          </p>
        )}
      </div>
      <div className="panel" data-testid="pq-options">
        <h2>Post-quantum CAs</h2>
        {algorithms.some((a) => a.startsWith('ml-dsa-')) ? (
          <p>This token can generate ML-DSA keys: choose an ML-DSA algorithm above for a post-quantum CA key in the token.</p>
        ) : (
          <p>
            This token offers no ML-DSA key generation. A <strong>hybrid (Catalyst)</strong> CA keeps its classical key here and adds an
            ML-DSA key as an encrypted file, or in another token of this library that has ML-DSA (below): choose or generate
            the classical key above, then a hybrid profile. For an ML-DSA-only CA, go on to the profiles without a token key:
            the next step says what this token can and cannot do.
          </p>
        )}
        {!chosen && (
          <Actions>
            <button type="button" className="secondary" onClick={() => { void actions.loadProfiles(); actions.go('profile'); }} data-testid="key-next-pq">
              Continue to the post-quantum profiles without a token key
            </button>
          </Actions>
        )}
      </div>
      {chosen && <AltKeyPanel />}
      <Actions primary>
        <button type="button" className="secondary" onClick={() => actions.go('pin')}>Back</button>
        <button type="button" disabled={!chosen} onClick={() => { void actions.loadProfiles(); actions.go('profile'); }} data-testid="key-next">
          Continue with {chosen ? `“${chosen.label}”` : 'the chosen key'}
        </button>
      </Actions>
    </Screen>
  );
}
