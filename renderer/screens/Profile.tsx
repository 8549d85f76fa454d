import { validityWords } from '../variable-words';
import { useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Screen, focusFirstInvalid } from '../components/common';
import { VariableForm, validateAll } from '../components/VariableForm';
import { FamilyBadge, algName, familyWords } from '../components/PostQuantum';
import type { ProfileSummaryT } from '../../shared/contract';

export function ProfilePicker({ filter }: { filter?: (p: ProfileSummaryT) => boolean }) {
  const profiles = useWizard((s) => s.profiles);
  const profile = useWizard((s) => s.profile);
  const shown = filter ? profiles.filter(filter) : profiles;
  return (
    <div className="field">
      <label htmlFor="profile">Profile</label>
      <select id="profile" value={profile?.name ?? ''} onChange={(e) => e.target.value && void actions.chooseProfile(e.target.value)} data-testid="profile"
        aria-describedby={profile && profile.family !== 'classical' ? 'profile-family' : undefined}>
        <option value="">— choose a profile —</option>
        {shown.map((p) => (
          <option key={p.name} value={p.name}>
            {familyWords(p.family)}{p.name} — {p.description}
          </option>
        ))}
      </select>
      {profile && profile.family !== 'classical' && (
        <p className="hint" id="profile-family">
          <FamilyBadge family={profile.family} algorithm={profile.algorithm} altAlgorithm={profile.altAlgorithm} />{' '}
          {profile.family === 'hybrid'
            ? `Two keys: the ${algName(profile.algorithm)} key makes the primary signature, an ${algName(profile.altAlgorithm)} key makes the alternative one.`
            : `One ${algName(profile.algorithm)} key, which makes the only signature.`}
        </p>
      )}
    </div>
  );
}

/**
 * An ML-DSA profile with a token that lists no CKM_ML_DSA: said plainly, with the one way on the
 * operator may choose. Nothing switches by itself.
 */
function TokenLacksMlDsa({ algorithm }: { algorithm: string }) {
  const token = useWizard((s) => s.token);
  const busy = useWizard((s) => s.busy);
  return (
    <div className="panel warn" role="alert" data-testid="token-lacks-ml-dsa">
      <h2>This token cannot hold an ML-DSA key</h2>
      <p>
        Token “{token?.label}” has no ML-DSA: its mechanism list has no <span className="mono">CKM_ML_DSA</span> (PKCS#11 3.2).
        The {algName(algorithm)} key this profile needs can neither be generated nor used in it.
      </p>
      <p>
        You can keep the {algName(algorithm)} key in the software keystore instead: an encrypted file in the new CA directory, protected by a
        passphrase you type when signing. This logs out of the token, and the switch is written in the ceremony journal.
        Or choose a hybrid profile, which keeps a classical key in the token and only the ML-DSA key in a file.
      </p>
      <Actions>
        <button type="button" onClick={() => void actions.useSoftwareForMlDsa()} disabled={!!busy} data-testid="use-software-ml-dsa">
          Use the software keystore for the ML-DSA key
        </button>
      </Actions>
    </div>
  );
}

export function Profile() {
  const profile = useWizard((s) => s.profile);
  const vars = useWizard((s) => s.vars);
  const caDir = useWizard((s) => s.caDir);
  const keystore = useWizard((s) => s.keystore);
  const keyAlg = useWizard((s) => (s.keystore === 'software' ? s.softwareAlgorithm : s.key?.algorithm ?? null));
  const key = useWizard((s) => s.key);
  const tokenHasMlDsa = useWizard((s) => s.tokenHasMlDsa);
  // A plan's subordinate CA made from a key of the plan: a CA profile, certified by the CA an earlier step made (main picks it).
  const subordinate = useWizard((s) => s.planned?.type === 'subordinate' && !!s.planned.key);
  const issuer = useWizard((s) => s.ca?.subject ?? null);
  const [showAll, setShowAll] = useState(false);
  const errors = profile ? validateAll(profile.variables, vars) : {};
  const lacksMlDsa = !!profile && profile.family === 'post-quantum' && keystore === 'pkcs11' && tokenHasMlDsa === false;
  // A token ceremony without a key chosen yet may still look at ML-DSA profiles; the others need the key first.
  const needsTokenKey = !!profile && keystore === 'pkcs11' && !lacksMlDsa && (!key || key.algorithm !== profile.algorithm);
  const ok = !!profile && Object.keys(errors).length === 0 && caDir.trim() !== '' && !lacksMlDsa && !needsTokenKey;
  // Root profiles for the chosen key (classical or a Catalyst hybrid whose primary key it is); with a
  // token, the ML-DSA ones too, so a token without ML-DSA can be said to be one.
  const fits = (p: ProfileSummaryT) => p.kind === (subordinate ? 'ca' : 'root-ca') && (!keyAlg || p.algorithm === keyAlg || (keystore === 'pkcs11' && p.family === 'post-quantum'));
  return (
    <Screen title="Profile and details" intro={<p>The profile fixes the certificate’s shape; you fill in the names and values it asks for.</p>}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setShowAll(true);
          if (ok) void actions.preview();
          else focusFirstInvalid(e.currentTarget);
        }}
      >
        <ProfilePicker filter={fits} />
        {subordinate && (
          <p className="hint" data-testid="subordinate-of">
            A subordinate CA with the key chosen in this token, certified by {issuer ? `the CA this ceremony made, ${issuer}` : 'the CA the plan names'}. Subordinate CA profiles are listed.
          </p>
        )}
        <p className="hint" hidden={subordinate}>
          {!keyAlg
            ? 'All root CA profiles are listed. Without a key chosen in the token, only a post-quantum (ML-DSA) profile can go on from here.'
            : `Root CA profiles for the ${algName(keyAlg)} key are listed${keystore === 'pkcs11' ? ', with the hybrid ones that keep it as their classical key, and the post-quantum (ML-DSA) ones.' : ', with the hybrid ones that keep it as their classical key.'}`}
        </p>
        {lacksMlDsa && profile && <TokenLacksMlDsa algorithm={profile.algorithm} />}
        {needsTokenKey && profile && (
          <p className="warning-inline" role="status" data-testid="needs-token-key">
            This profile needs {key ? 'a' : 'an'} {algName(profile.algorithm)} key in the token{key ? `, but “${key.label}” is ${algName(key.algorithm)}` : ', and none is chosen yet'}. Go back to the key step.
          </p>
        )}
        {profile && (
          <>
            <p className="hint">{profile.description}</p>
            <VariableForm defs={profile.variables} vars={vars} onChange={actions.setVar} showAll={showAll} />
            <p className="hint" data-testid="profile-validity">{validityWords(profile, vars)}</p>
          </>
        )}
        <div className="field">
          <span className="label" id="ca-dir-label">New CA directory</span>
          <div className="pin-row">
            <output className="mono" aria-labelledby="ca-dir-label" aria-describedby="ca-dir-hint" data-testid="ca-dir">{caDir || 'No folder chosen yet'}</output>
            <button type="button" className="secondary" onClick={() => void actions.chooseDirectory('new-ca')} data-testid="choose-ca-dir"
              aria-invalid={showAll && !caDir.trim() ? true : undefined}>Choose…</button>
          </div>
          <p id="ca-dir-hint" className={showAll && !caDir.trim() ? 'field-error' : 'hint'}>
            {showAll && !caDir.trim() ? 'Choose where to create the CA directory.' : 'An empty or new folder, picked in the app’s own dialog. An existing CA is never overwritten.'}
          </p>
        </div>
        {showAll && !ok && <p className="field-error" role="alert" data-testid="form-invalid">Some fields need attention before the review.</p>}
        <Actions primary>
          <button type="button" className="secondary" onClick={() => actions.go(keystore === 'software' ? 'storage' : 'key')}>Back</button>
          <button type="submit" data-testid="to-review" disabled={lacksMlDsa}>Review</button>
        </Actions>
      </form>
    </Screen>
  );
}
