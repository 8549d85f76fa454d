/**
 * Where a hybrid (Catalyst) CA's ML-DSA key lives, chosen on the key step: an encrypted file (the
 * default), the ceremony's own token when it has PKCS#11 3.2 ML-DSA, or a second token of the same
 * library with its own PIN. Main decides and records; this only asks.
 */
import { useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions } from './common';
import { algName } from './PostQuantum';
import type { KeyAlgorithmT } from '../../shared/contract';
import { Hash } from './Hash';

type Where = 'file' | 'same' | 'other';

function MlDsaForm({ algorithms, where }: { algorithms: KeyAlgorithmT[]; where: string }) {
  const busy = useWizard((s) => s.busy);
  const ml = algorithms.filter((a) => a.startsWith('ml-dsa-'));
  const [alg, setAlg] = useState<KeyAlgorithmT | ''>('');
  const [label, setLabel] = useState('ca-key-ml-dsa');
  const algorithm = alg || (ml.includes('ml-dsa-87') ? 'ml-dsa-87' : ml[0]);
  if (!ml.length) return <p className="notice">{where} offers no ML-DSA key generation (PKCS#11 3.2 CKM_ML_DSA_KEY_PAIR_GEN).</p>;
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (algorithm && label.trim()) void actions.generateAltKey(algorithm, label.trim()); }}>
      <div className="field">
        <label htmlFor="alt-alg">ML-DSA parameter set (the profile says which one it needs)</label>
        <select id="alt-alg" value={algorithm ?? ''} onChange={(e) => setAlg(e.target.value as KeyAlgorithmT)} data-testid="alt-alg">
          {ml.map((a) => <option key={a} value={a}>{algName(a)}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor="alt-label">Key label</label>
        <input id="alt-label" value={label} maxLength={32} spellCheck={false} onChange={(e) => setLabel(e.target.value)} data-testid="alt-label" />
      </div>
      <Actions>
        <button type="submit" disabled={!algorithm || !label.trim() || !!busy} data-testid="alt-generate">Generate the ML-DSA key in {where}</button>
      </Actions>
    </form>
  );
}

export function AltKeyPanel() {
  const token = useWizard((s) => s.token);
  const algorithms = useWizard((s) => s.algorithms);
  const slots = useWizard((s) => s.slots);
  const altKey = useWizard((s) => s.altKey);
  const altToken = useWizard((s) => s.altToken);
  const altLoggedIn = useWizard((s) => s.altLoggedIn);
  const altAlgorithms = useWizard((s) => s.altAlgorithms);
  const busy = useWizard((s) => s.busy);
  const [where, setWhere] = useState<Where>(altToken ? 'other' : altKey ? 'same' : 'file');
  const [serial, setSerial] = useState('');
  const [pin, setPin] = useState('');
  const sameHasMlDsa = algorithms.some((a) => a.startsWith('ml-dsa-'));
  const others = slots.filter((s) => s.token?.flags.initialized && s.token.serial !== token?.serial);
  const pick = (w: Where) => {
    setWhere(w);
    // Leaving a token choice undoes it in main: the review then makes the ML-DSA key a file again.
    if ((altKey || altToken) && w !== (altToken ? 'other' : 'same')) void actions.altKeyAsFile();
    if (w === 'other' && !slots.length) void actions.refreshSlots();
  };
  return (
    <section className="panel" aria-labelledby="alt-key-title" data-testid="alt-key">
      <h2 id="alt-key-title">The ML-DSA key of a hybrid (Catalyst) CA</h2>
      <p>Only for a hybrid profile, which signs with two keys: the key above, and an ML-DSA key. Choose where that second key lives.</p>
      <fieldset>
        <legend className="sr-only">Where the ML-DSA key lives</legend>
        <label className="check">
          <input type="radio" name="alt-where" checked={where === 'file'} onChange={() => pick('file')} data-testid="alt-where-file" />
          An encrypted file in the CA directory, made when you sign (the default; you give its passphrase then)
        </label>
        <label className="check">
          <input type="radio" name="alt-where" checked={where === 'same'} disabled={!sameHasMlDsa} onChange={() => pick('same')} data-testid="alt-where-same" />
          In this token, “{token?.label}”{sameHasMlDsa ? '' : ' (it has no ML-DSA)'}
        </label>
        <label className="check">
          <input type="radio" name="alt-where" checked={where === 'other'} onChange={() => pick('other')} data-testid="alt-where-other" />
          In another token of this library, with its own PIN
        </label>
      </fieldset>

      {where === 'same' && !altKey && <MlDsaForm algorithms={algorithms} where="this token" />}

      {where === 'other' && !altToken && (
        others.length === 0 ? <p className="notice">This library has no other initialized token.</p> : (
          <form onSubmit={(e) => { e.preventDefault(); if (serial) void actions.openAltToken(serial); }}>
            <div className="field">
              <label htmlFor="alt-token">Second token</label>
              <select id="alt-token" value={serial} onChange={(e) => setSerial(e.target.value)} data-testid="alt-token">
                <option value="">Choose a token</option>
                {others.map((s) => <option key={s.token!.serial} value={s.token!.serial}>{s.token!.label} (serial {s.token!.serial})</option>)}
              </select>
            </div>
            <Actions><button type="submit" disabled={!serial || !!busy} data-testid="alt-open">Open this token</button></Actions>
          </form>
        )
      )}

      {where === 'other' && altToken && !altLoggedIn && (
        <form onSubmit={(e) => { e.preventDefault(); const p = pin; setPin(''); void actions.loginAlt(p); }}>
          <div className="field">
            <label htmlFor="alt-pin">User PIN of “{altToken.label}” (serial {altToken.serial})</label>
            <input id="alt-pin" type="password" autoComplete="off" value={pin} onChange={(e) => setPin(e.target.value)} data-testid="alt-pin" />
            <p className="hint">This token&apos;s own PIN, not the first token&apos;s: a PIN tried on the wrong token spends one of its tries.</p>
          </div>
          <Actions><button type="submit" disabled={!pin || !!busy} data-testid="alt-login">Log in to “{altToken.label}”</button></Actions>
        </form>
      )}

      {where === 'other' && altToken && altLoggedIn && !altKey && <MlDsaForm algorithms={altAlgorithms} where={`“${altToken.label}”`} />}

      {busy === 'Generating the ML-DSA key inside the token' && <p role="status" className="progress"><span className="spinner" aria-hidden="true" /> Generating the ML-DSA key inside the token.</p>}

      {altKey && (
        <div className="success" data-testid="alt-chosen">
          <p role="status">
            ML-DSA key “{altKey.label}” ({algName(altKey.algorithm)}{altKey.parameterSet ? `, ${altKey.parameterSet}` : ''}) in{' '}
            {altToken ? <>the second token “{altToken.label}” (serial <span className="mono">{altToken.serial}</span>)</> : <>this token, “{token?.label}”</>}.
            The private key never leaves the token.
          </p>
          <dl className="fields compact">
            <div className="field-row"><dt>Public key SHA-256</dt><dd>{altKey.fingerprint ? <Hash value={altKey.fingerprint} /> : 'not known'}</dd></div>
          </dl>
        </div>
      )}
    </section>
  );
}
