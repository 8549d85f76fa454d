/** `qpki cert …`, `crl gen`, `credential enroll`: commands and options; the work is in certActions and credentialActions. */
import { Option, type Command } from 'commander';
import type { RevocationReason } from '../core/x509/crl';
import { addCaAccessOptions, addPassphraseOptions, addVarOptions, lazyAction } from './options';

const actions = () => import('./certActions');

/**
 * The --reason choices, in REVOCATION_REASONS' order, named here so `--help` need not load the
 * CRL code; the types below fail to compile if the two lists ever differ.
 */
export const REVOCATION_REASON_NAMES = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'] as const satisfies readonly RevocationReason[];
type Unlisted = Exclude<RevocationReason, (typeof REVOCATION_REASON_NAMES)[number]>;
const allListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allListed;

export function registerCertCommands(program: Command): void {
  const cert = program.command('cert').description('certificates');

  const issue = cert.command('issue').description('issue a certificate from a CSR; the profile, not the CSR, decides the extensions').requiredOption('--csr <file>', 'PKCS#10 request (PEM or DER)').requiredOption('--profile <name>', 'profile').requiredOption('--out <file>', 'where to write the certificate');
  addCaAccessOptions(issue);
  addVarOptions(issue);
  issue.action(lazyAction(actions, (m) => m.certIssue));

  const revoke = cert.command('revoke').description('revoke a certificate (listed in the next CRL)').argument('<serial>', 'serial number (hex)').addOption(new Option('--reason <reason>', 'revocation reason').choices(REVOCATION_REASON_NAMES).default('unspecified'));
  revoke.option('--ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>').hideHelp());
  revoke.action(lazyAction(actions, (m) => m.certRevoke));

  cert.command('show').description('decode and verify a certificate, CSR or CRL (PEM or DER)').argument('<file>').option('--issuer <file>', 'issuer certificate to verify against').option('--ca-dir <dir>', 'verify against this CA').option('--text', 'full text dump')
    .action(lazyAction(actions, (m) => m.certShow));

  const collect = (v: string, prev: string[] = []) => [...prev, v];
  cert.command('verify').description('validate a certificate path to a trusted root (RFC 5280 §6.1): exit 1 with the reason when invalid').argument('<cert>', 'the certificate (PEM or DER)')
    .requiredOption('--ca <file>', 'trusted root certificate(s) (PEM bundle or DER); repeatable', collect)
    .option('--untrusted <file>', 'intermediate certificates that may complete the path (PEM bundle); repeatable', collect)
    .option('--crl <file>', 'a CRL to check revocation against (PEM or DER); repeatable', collect)
    .option('--at <time>', 'validation time (ISO 8601, e.g. 2027-01-31T12:00:00Z); now by default')
    .option('--purpose <eku>', 'the extended key usage it is used for: serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning or an OID')
    .option('--host <name>', 'a DNS name or IP address the certificate must name in its subjectAltName')
    .addOption(new Option('--rules <rules>', 'rfc5280, or webpki for the stricter rules browsers apply to publicly trusted TLS').choices(['rfc5280', 'webpki']).default('rfc5280'))
    .action(lazyAction(actions, (m) => m.certVerify));

  const crl = program.command('crl').description('certificate revocation lists');
  const gen = crl.command('gen').description('sign a new CRL with the CA key').option('--days <n>', 'days until next update', '7');
  addCaAccessOptions(gen);
  gen.action(lazyAction(actions, (m) => m.crlGen));

  const credential = program.command('credential').description('end-entity credentials (key + certificate)');
  const enroll = credential.command('enroll').description('generate a key and issue its certificate').requiredOption('--profile <name>', 'profile, e.g. ec/tls-server').option('--cred-dir <dir>', 'where credentials are written', './credentials')
    .option('--key-in-token', 'generate the subject key in the token instead of a file').option('--key-label <label>', 'label of the subject key in the token').option('--unencrypted-key', 'write the key without a passphrase');
  addCaAccessOptions(enroll);
  addVarOptions(enroll);
  addPassphraseOptions(enroll, '', 'the credential key file');
  enroll.action(lazyAction(() => import('./credentialActions'), (m) => m.credentialEnroll));
}
