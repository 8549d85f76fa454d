/**
 * `qpki ca` commands that only read a CA directory (`ca info`): kept apart from caActions.ts,
 * which signs, so that they load the directory readers (core/ca/view.ts) and not the signing
 * code, the profiles, the lints and the token library beside them.
 */
import { QpkiError } from '../core/errors';
import { describeKeyStorage } from '../core/ca/keyStorage';
import { versionKeys } from '../core/ca/meta';
import { describeCaDir, readPendingCa } from '../core/ca/view';
import { groupHex } from '../core/journal/format';
import { emit } from './output';

/** The CA directory a command works on: --dir, else QPKI's -d/--ca-dir, else `fallback`. */
export function caDirOf(o: { dir?: string; caDir?: string }, fallback?: string): string {
  const d = o.dir ?? o.caDir ?? fallback;
  if (!d) throw new QpkiError('INPUT_INVALID', 'Give the CA directory with --dir (or --ca-dir).');
  return d;
}

/** `ca info` */
export function caInfo(o: { dir?: string; caDir?: string }): void {
  const p = readPendingCa(caDirOf(o, './ca'));
  if (p) {
    emit({ dir: p.dir, meta: p.meta, status: 'pending', subject: p.subject, profile: p.profile, publicKeySha256: p.spkiSha256, csr: p.csrPath }, () => [
      `CA ${p.dir} (PENDING: no certificate yet)`,
      `  subject:   ${p.subject} (requested)`,
      `  profile:   ${p.profile}`,
      `  algorithm: ${p.algorithm}`,
      ...p.keys.map((k) => `  key (${k.id}): ${describeKeyStorage(p.dir, k.storage)}`),
      `  public key SHA-256: ${groupHex(p.spkiSha256)}`,
      `  CSR:       ${p.csrPath}`,
      `  next:      have the parent CA sign the CSR, then \`qpki ca import-cert --dir ${p.dir} --cert FILE --chain PARENT-CHAIN\``,
    ]);
    return;
  }
  const d = describeCaDir(caDirOf(o, './ca'));
  const v = d.meta.versions[d.meta.active];
  emit({ dir: d.dir, meta: d.meta, subject: d.subject, notAfter: d.notAfter, issued: d.issued.length, revoked: d.issued.filter((e) => e.status === 'R').length }, () => [
    `CA ${d.dir}`,
    `  subject:   ${d.subject}`,
    `  expires:   ${d.notAfter.toISOString()}`,
    `  profiles:  ${v.profiles.join(', ')}`,
    `  algorithm: ${v.algos.join(' + ')}`,
    ...versionKeys(d.meta, d.meta.active).map((k) => `  key (${k.id}): ${describeKeyStorage(d.dir, k.storage)}`),
    `  issued:    ${d.issued.length} certificate(s), ${d.issued.filter((e) => e.status === 'R').length} revoked`,
  ]);
}
