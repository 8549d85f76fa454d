import { useState } from 'react';
import { actions, useWizard } from '../store';
import { Actions, Screen } from '../components/common';
import { VariableForm, validateAll } from '../components/VariableForm';

export function ProfilePicker({ filter }: { filter?: (kind: string, algorithm: string) => boolean }) {
  const profiles = useWizard((s) => s.profiles);
  const profile = useWizard((s) => s.profile);
  const shown = filter ? profiles.filter((p) => filter(p.kind, p.algorithm)) : profiles;
  return (
    <div className="field">
      <label htmlFor="profile">Profile</label>
      <select id="profile" value={profile?.name ?? ''} onChange={(e) => e.target.value && void actions.chooseProfile(e.target.value)} data-testid="profile">
        <option value="">— choose a profile —</option>
        {shown.map((p) => (
          <option key={p.name} value={p.name}>
            {p.name} — {p.description}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Profile() {
  const profile = useWizard((s) => s.profile);
  const vars = useWizard((s) => s.vars);
  const caDir = useWizard((s) => s.caDir);
  const keystore = useWizard((s) => s.keystore);
  const keyAlg = useWizard((s) => (s.keystore === 'software' ? s.softwareAlgorithm : s.key?.algorithm ?? null));
  const [showAll, setShowAll] = useState(false);
  const errors = profile ? validateAll(profile.variables, vars) : {};
  const ok = !!profile && Object.keys(errors).length === 0 && caDir.trim() !== '';
  return (
    <Screen title="Profile and details" intro={<p>The profile fixes the certificate’s shape; you fill in the names and values it asks for.</p>}>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          setShowAll(true);
          if (ok) void actions.preview();
        }}
      >
        <ProfilePicker filter={(k, alg) => k === 'root-ca' && (!keyAlg || alg === keyAlg)} />
        <p className="hint">Root CA profiles for a {keyAlg ?? 'matching'} key are listed.</p>
        {profile && (
          <>
            <p className="hint">{profile.description}</p>
            <VariableForm defs={profile.variables} vars={vars} onChange={actions.setVar} showAll={showAll} />
          </>
        )}
        <div className="field">
          <label htmlFor="ca-dir">New CA directory</label>
          <div className="pin-row">
            <input id="ca-dir" className="mono" spellCheck={false} value={caDir} onChange={(e) => actions.setCaDir(e.target.value)} data-testid="ca-dir"
              aria-invalid={showAll && !caDir.trim() ? true : undefined} aria-describedby="ca-dir-hint" />
            <button type="button" className="secondary" onClick={() => void actions.chooseDirectory('new-ca')}>Choose…</button>
          </div>
          <p id="ca-dir-hint" className={showAll && !caDir.trim() ? 'field-error' : 'hint'}>
            {showAll && !caDir.trim() ? 'Choose where to create the CA directory.' : 'An empty or new folder. An existing CA is never overwritten.'}
          </p>
        </div>
        {showAll && !ok && <p className="field-error" role="alert" data-testid="form-invalid">Some fields need attention before the review.</p>}
        <Actions>
          <button type="button" className="secondary" onClick={() => actions.go(keystore === 'software' ? 'storage' : 'key')}>Back</button>
          <button type="submit" data-testid="to-review">Review</button>
        </Actions>
      </form>
    </Screen>
  );
}
