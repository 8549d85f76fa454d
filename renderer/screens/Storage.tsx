import { useEffect, useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Screen } from '../components/common';
import { KEY_ALGORITHMS, type KeyAlgorithmT } from '../../shared/contract';
import { Hash } from '../components/Hash';
import { algorithmWithCode } from '../../shared/algorithm-words';

export function Storage() {
  const known = useWizard((s) => s.knownModules);
  const purpose = useWizard((s) => s.purpose);
  const module = useWizard((s) => s.module);
  const present = known.filter((m) => m.present);
  const [picked, setModuleId] = useState<string | null>(null);
  useEffect(() => {
    void actions.refreshModules();
  }, []);
  // Ids come from main's latest list: the one picked, else the library open now, else the first.
  const moduleId = (picked && known.some((m) => m.id === picked) ? picked : null) ?? present.find((m) => m.path === module?.path)?.id ?? present[0]?.id ?? '';
  const [kind, setKind] = useState<'pkcs11' | 'software'>('pkcs11');
  const [alg, setAlg] = useState<KeyAlgorithmT>('ec-p384');
  return (
    <Screen
      title={purpose === 'init' ? 'Which library reaches the token?' : 'Where will the CA key live?'}
      intro={purpose === 'init'
        ? <p>A token is initialized through its vendor’s PKCS#11 library. Choose it here; the app shows its SHA-256 and asks you to confirm before loading it.</p>
        : <p>A PKCS#11 token (an HSM or smart card) keeps the key inside the hardware. The software keystore keeps it in a file in the CA directory on this computer.</p>}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (kind === 'pkcs11') void actions.loadModule(moduleId);
          else void actions.useSoftware(alg);
        }}
      >
        <fieldset>
          <legend>Key storage</legend>
          <label className="check">
            <input type="radio" name="kind" checked={kind === 'pkcs11'} onChange={() => setKind('pkcs11')} /> PKCS#11 token (recommended)
          </label>
          {purpose !== 'init' && (
            <label className="check">
              <input type="radio" name="kind" checked={kind === 'software'} onChange={() => setKind('software')} data-testid="kind-software" /> Software keystore (embedded default)
            </label>
          )}
        </fieldset>
        {kind === 'pkcs11' ? (
          <>
            <fieldset data-testid="module-list">
              <legend>PKCS#11 libraries</legend>
              {present.length === 0 && <p>No well-known library was found on this computer. Choose your vendor’s library with “Browse…”.</p>}
              {present.map((m) => (
                <label className="check" key={m.id}>
                  <input type="radio" name="module" checked={moduleId === m.id} onChange={() => setModuleId(m.id)} data-testid="module-option" data-path={m.path} />
                  <span>
                    {m.vendor} <span className="mono small">{m.path}</span>
                    <br /><span className="small">SHA-256 {m.sha256 ? <Hash value={m.sha256} testId="module-sha256" /> : <span data-testid="module-sha256">(unreadable)</span>}</span>
                  </span>
                </label>
              ))}
            </fieldset>
            <div className="field">
              <button type="button" className="secondary" onClick={() => void actions.chooseModuleFile().then((id) => id && setModuleId(id))} data-testid="module-browse">Browse…</button>
              <p className="hint">The vendor’s PKCS#11 library file (.so on Linux, .dylib on macOS, .dll on Windows), picked in the app’s own dialog. Before it is loaded, the app shows its path and SHA-256 and asks you to confirm.</p>
            </div>
          </>
        ) : (
          <div className="field">
            <label htmlFor="sw-alg">Key algorithm</label>
            <select id="sw-alg" value={alg} onChange={(e) => setAlg(e.target.value as KeyAlgorithmT)}>
              {KEY_ALGORITHMS.map((a) => (
                <option key={a} value={a}>{algorithmWithCode(a)}</option>
              ))}
            </select>
            <p className="hint">The key is generated when the CA is created and saved in the CA directory.</p>
          </div>
        )}
        <Actions primary>
          <button type="button" className="secondary" onClick={() => actions.go('start')}>Back</button>
          <button type="submit" disabled={kind === 'pkcs11' && !moduleId} data-testid="storage-next">
            Continue
          </button>
        </Actions>
      </form>
    </Screen>
  );
}
