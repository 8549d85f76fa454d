/**
 * `qpki cert …`, `crl …`, `credential enroll`, `ocsp …`, `inspect`: commands and options; the
 * work is in certActions, credentialActions, listActions and ocspActions. Flags follow QPKI's
 * where the commands are shared (-d, -P, -o, -r, -c, -p, --gen-crl, --crl-days, --pubkey, --all).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { RevocationReason } from '../core/x509/crl';
import { addCaAccessOptions, addPassphraseOptions, addVarOptions, lazyAction, profileOption } from './options';

const actions = () => import('./certActions');
const listActions = () => import('./listActions');
const ocspActions = () => import('./ocspActions');

/**
 * The --reason choices, in REVOCATION_REASONS' order, named here so `--help` need not load the
 * CRL code; the types below fail to compile if the two lists ever differ.
 */
export const REVOCATION_REASON_NAMES = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'privilegeWithdrawn', 'aACompromise'] as const satisfies readonly RevocationReason[];
type Unlisted = Exclude<RevocationReason, (typeof REVOCATION_REASON_NAMES)[number]>;
const allListed: [Unlisted] extends [never] ? true : Unlisted = true;
void allListed;

/** QPKI's spellings of reasons (caCompromise, aaCompromise, key-compromise, …), matched as QPKI does: without case. */
const REASON_ALIASES: Record<string, RevocationReason> = {
  'key-compromise': 'keyCompromise', 'ca-compromise': 'cACompromise', 'affiliation-changed': 'affiliationChanged', cessation: 'cessationOfOperation', hold: 'certificateHold',
};

function reasonArg(v: string): RevocationReason {
  const hit = REVOCATION_REASON_NAMES.find((n) => n.toLowerCase() === v.toLowerCase()) ?? REASON_ALIASES[v.toLowerCase()];
  if (!hit) throw new InvalidArgumentError(`Allowed choices are ${REVOCATION_REASON_NAMES.join(', ')}.`);
  return hit;
}

/**
 * One registration per top-level command (main.ts's COMMAND_GROUPS): a run registers only the one
 * it names, and `crl gen` builds none of the cert, credential and ocsp options.
 */
export function registerCertCommand(program: Command): void {
  const cert = program.command('cert').description('certificates');

  const issue = cert.command('issue').description('issue a certificate from a CSR (or a bare public key); the profile, not the CSR, decides the extensions')
    .option('--csr <file>', 'PKCS#10 request (PEM or DER)')
    .option('--pubkey <file>', 'a public key (PEM or DER SubjectPublicKeyInfo) instead of a CSR: the subject then comes from --var only')
    .addOption(profileOption('profile'))
    .requiredOption('-o, --out <file>', 'where to write the certificate');
  addCaAccessOptions(issue);
  addVarOptions(issue);
  issue.action(lazyAction(actions, (m) => m.certIssue));

  const revoke = cert.command('revoke').description('revoke a certificate (listed in the next CRL)').argument('<serial>', 'serial number (hex, either case)')
    .addOption(new Option('-r, --reason <reason>', `revocation reason: ${REVOCATION_REASON_NAMES.join(', ')}`).argParser(reasonArg).default('unspecified'))
    .option('--gen-crl', 'sign a new CRL right after (needs the CA key)')
    .option('--crl-days <n>', 'validity of that CRL in days', '7');
  addCaAccessOptions(revoke);
  revoke.action(lazyAction(actions, (m) => m.certRevoke));

  cert.command('show').description('decode and verify a certificate, CSR or CRL (PEM or DER)').argument('<file>').option('--issuer <file>', 'issuer certificate to verify against').option('-d, --ca-dir <dir>', 'verify against this CA').option('--text', 'full text dump')
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
  cert.command('list').description("the certificates in a CA's index (ours or QPKI's)").option('-d, --ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>').hideHelp())
    .addOption(new Option('--status <status>', 'only these').choices(['valid', 'revoked', 'expired']))
    .option('-v, --verbose', 'with validity and file')
    .action(lazyAction(listActions, (m) => m.certList));
  cert.command('info').description('one issued certificate, by serial').argument('<serial>', 'serial number (hex, either case)').option('-d, --ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>').hideHelp())
    .action(lazyAction(listActions, (m) => m.certInfo));
}

export function registerCrlCommand(program: Command): void {
  const crl = program.command('crl').description('certificate revocation lists');
  const gen = crl.command('gen').description('sign a new CRL with the CA key').option('--days <n>', 'days until next update', '7')
    .option('--all', "QPKI's every-algorithm CRLs: one CRL here (a Catalyst CA's carries both signatures)")
    .addOption(new Option('--algo <family>', "QPKI's per-algorithm CRL (ours signs one CRL for the CA)").hideHelp());
  addCaAccessOptions(gen);
  gen.action(lazyAction(actions, (m) => m.crlGen));
  crl.command('info').description('decode a CRL').argument('<crl-file>').action(lazyAction(listActions, (m) => m.crlInfo));
  crl.command('verify').description("verify a CRL's signature(s) against the CA certificate").argument('<crl-file>').requiredOption('--ca <file>', 'CA certificate (PEM or DER)').option('--check-expiry', 'also fail when its next update has passed')
    .action(lazyAction(listActions, (m) => m.crlVerify));
  crl.command('list').description("the CRLs in a CA directory").option('-d, --ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>').hideHelp())
    .action(lazyAction(listActions, (m) => m.crlList));
}

export function registerCredentialCommand(program: Command): void {
  const credential = program.command('credential').description('end-entity credentials (key + certificate)');
  const enroll = credential.command('enroll').description('generate a key and issue its certificate').addOption(profileOption('profile, e.g. ec/tls-server')).option('-c, --cred-dir <dir>', 'where credentials are written', './credentials')
    .option('--key-in-token', 'generate the subject key in the token instead of a file').option('--key-label <label>', 'label of the subject key in the token').option('--unencrypted-key', 'write the key without a passphrase');
  addCaAccessOptions(enroll);
  addVarOptions(enroll);
  addPassphraseOptions(enroll, '', 'the credential key file');
  enroll.action(lazyAction(() => import('./credentialActions'), (m) => m.credentialEnroll));
}

export function registerOcspCommand(program: Command): void {
  const ocsp = program.command('ocsp').description('OCSP responses (RFC 6960), signed offline by the CA key or a delegated responder');
  const sign = ocsp.command('sign').description('sign an OCSP response for one certificate of this CA (status from its index unless --status)')
    .requiredOption('--serial <hex>', 'certificate serial number (hex)')
    .addOption(new Option('--status <status>', 'good | revoked | unknown (default: from the index)').choices(['good', 'revoked', 'unknown']))
    .option('--revocation-reason <reason>', 'with --status revoked')
    .option('--revocation-time <time>', 'with --status revoked (RFC 3339)')
    .option('--validity <duration>', 'nextUpdate after thisUpdate (e.g. 1h, 7d)', '1h')
    .option('--cert <file>', 'a delegated OCSP responder certificate (issued by this CA, id-kp-OCSPSigning) instead of the CA key')
    .option('--key <file>', 'its key file')
    .option('--responder-key-label <label>', 'its key in the token (label)')
    .option('--nonce <hex>', 'echo this nonce (from the request)')
    .requiredOption('-o, --out <file>', 'the DER response');
  addCaAccessOptions(sign);
  sign.action(lazyAction(ocspActions, (m) => m.ocspSign));
  ocsp.command('verify').description('verify an OCSP response (signature, responder authorization) and show its status').argument('<response-file>').requiredOption('--ca <file>', 'the issuing CA certificate').option('--cert <file>', 'the certificate it answers for (its serial must match)')
    .action(lazyAction(ocspActions, (m) => m.ocspVerify));
}

export function registerInspectCommand(program: Command): void {
  program.command('inspect').description('detect and describe a file: certificate, CSR, CRL, key, OCSP response, CA directory').argument('<file>')
    .action(lazyAction(listActions, (m) => m.inspect));
}
