/**
 * Post-quantum and hybrid pieces shared by the wizard, the CA screen and the inspector: the
 * profile family badge, the keys of a CA (where each one lives) and each signature on its own.
 */
import type { CaKeyViewT, ProfileFamilyT, SignatureViewT } from '../../shared/contract';
import { Badge } from './common';
import { algorithmWords } from '../../shared/algorithm-words';
import { Hash } from './Hash';

/** A key algorithm as people say it ("ECDSA P-384"), or the name as given when unknown. */
export function algName(a: string | null | undefined): string {
  return algorithmWords(a);
}

/** The algorithm in words with its code name small beside it, as every screen shows one. */
export function AlgName({ code }: { code: string | null | undefined }) {
  if (!code) return null;
  const words = algorithmWords(code);
  return words === code ? <>{code}</> : <>{words} <span className="code-name">{code}</span></>;
}

export function FamilyBadge({ family, algorithm, altAlgorithm }: { family: ProfileFamilyT; algorithm?: string; altAlgorithm?: string | null }) {
  if (family === 'classical') return null;
  const text = family === 'hybrid'
    ? `Hybrid (Catalyst)${algorithm && altAlgorithm ? `: ${algName(algorithm)} + ${algName(altAlgorithm)}` : ''}`
    : `Post-quantum${algorithm ? `: ${algName(algorithm)}` : ''}`;
  return <span className={`badge family ${family === 'hybrid' ? 'hybrid' : 'pq'}`} data-testid="family-badge">{text}</span>;
}

/** The words an option of a <select> can carry (no markup there). */
export function familyWords(family: ProfileFamilyT): string {
  return family === 'hybrid' ? '[Hybrid] ' : family === 'post-quantum' ? '[Post-quantum] ' : '';
}

function KeyWhere({ k }: { k: CaKeyViewT }) {
  if (k.token) {
    return (
      <>
        In PKCS#11 token “{k.token.label}” (serial <span className="mono">{k.token.serial}</span>), key “{k.token.keyLabel}”
        {k.token.keyId && <> (id <span className="mono">{k.token.keyId}</span>)</>}. The private key never leaves the token.
      </>
    );
  }
  if (k.file) {
    return (
      <>
        File in the CA directory, {k.file.encrypted ? 'encrypted' : <strong>NOT encrypted</strong>}: <span className="mono">{k.file.path}</span>
      </>
    );
  }
  return <>{k.storage}</>;
}

/** "Keys of this CA": each key, its algorithm, where it lives and its public key fingerprint. */
export function CaKeysPanel({ keys, title = 'Keys of this CA', testId = 'ca-keys' }: { keys: CaKeyViewT[]; title?: string; testId?: string }) {
  return (
    <section className="panel keys" aria-labelledby={`${testId}-title`} data-testid={testId}>
      <h2 id={`${testId}-title`}>{title}</h2>
      {keys.map((k, i) => (
        <div key={i} className={`key-card ${k.role}`} data-testid={`${testId}-${k.role}`}>
          <h3>
            {k.role === 'primary' ? (keys.length > 1 ? 'Classical key: makes the primary signature' : 'CA key') : 'Post-quantum key: makes the alternative (Catalyst) signature'}
          </h3>
          <dl className="fields compact">
            <div className="field-row"><dt>Algorithm</dt><dd>{algName(k.algorithm)}</dd></div>
            <div className="field-row"><dt>Where it lives</dt><dd data-testid={`${testId}-${k.role}-where`}><KeyWhere k={k} /></dd></div>
            <div className="field-row">
              <dt>Public key SHA-256</dt>
              <dd>{k.fingerprint ? <Hash value={k.fingerprint} testId={`${testId}-${k.role}-fingerprint`} /> : <span data-testid={`${testId}-${k.role}-fingerprint`}>{k.note ?? 'not known yet'}</span>}</dd>
            </div>
            {k.fingerprint && k.note && <div className="field-row"><dt>Note</dt><dd>{k.note}</dd></div>}
          </dl>
        </div>
      ))}
    </section>
  );
}

function SignatureBadge({ valid }: { valid: boolean | null }) {
  // Not checked is neither good nor bad: it says an issuer is needed, in its own neutral colour.
  if (valid === null) return <span className="badge neutral">Not checked</span>;
  return <Badge ok={valid}>{valid ? 'Valid' : 'INVALID'}</Badge>;
}

/** Each signature of a document on its own line, the Catalyst alternative as prominent as the primary. */
export function SignaturesPanel({ signatures, testId = 'signatures', title }: { signatures: SignatureViewT[]; testId?: string; title?: string }) {
  if (!signatures.length) return null;
  return (
    <div className="signatures" data-testid={testId}>
      {(title || signatures.length > 1) && <h3>{title ?? 'Signatures, each checked on its own'}</h3>}
      <ul>
        {signatures.map((s) => {
          return (
            <li key={s.which} data-testid={`${testId}-${s.which}`} data-valid={s.valid === null ? 'unchecked' : String(s.valid)}>
              <span className="sig-name">{s.which === 'alternative' ? 'Alternative signature (Catalyst)' : signatures.length > 1 ? 'Primary signature' : 'Signature'}</span>
              <span>
                <SignatureBadge valid={s.valid} /> <span className="sig-alg">{algName(s.algorithm)}</span>
                <span className="small sig-against">against {s.against}{s.reason ? ` · ${s.reason}` : ''}</span>
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
