/**
 * `qpki ca …`: the commands and their options; what each does is in caActions, loaded when it
 * runs. Flags follow QPKI's where the commands are shared (-d/--ca-dir, -P/--profile,
 * -p/--passphrase, --validity, --path-len, -b/-f/-o/-v on export), beside ours.
 */
import { Option, type Command } from 'commander';
import { addPassphraseOptions, addPqcTokenOptions, addTokenOptions, addVarOptions, lazyAction, profileOption } from './options';

const actions = () => import('./caActions');
const versionActions = () => import('./versionActions');
const viewActions = () => import('./caViewActions');

/** --dir, and QPKI's -d/--ca-dir, for commands on an existing CA directory. */
function caDirOptions(c: Command): Command {
  return c.option('-d, --ca-dir <dir>', 'CA directory (default: ./ca)').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp());
}

export function registerCaCommands(program: Command): void {
  const ca = program.command('ca').description('certificate authorities');

  const init = ca.command('init').description('create a CA: key in the token (or a file), CA certificate, CA directory').addOption(profileOption('CA profile, e.g. ec/root-ca'));
  init.option('--dir <dir>', 'CA directory to create').option('-d, --ca-dir <dir>', 'synonym of --dir');
  addTokenOptions(init);
  init
    .option('--pkcs11-key-label <label>', 'label of the CA key in the token')
    .addOption(new Option('--key-label <label>', 'synonym of --pkcs11-key-label').hideHelp())
    .option('--pkcs11-key-id <hex>', 'CKA_ID of the key (default: derived from the public key)')
    .addOption(new Option('--key-id <hex>', 'synonym of --pkcs11-key-id').hideHelp())
    .option('--use-existing-key', 'use a key already in the token instead of generating one')
    .option('--parent <ca-dir>', 'issue the CA certificate from this parent CA (subordinate CA)')
    .option('--validity <years>', "validity in years, overriding the profile's (a year is 365 days, as QPKI counts)")
    .option('--path-len <n>', "basicConstraints pathLenConstraint, overriding the profile's")
    .option('--unencrypted-key', 'write a software CA key without a passphrase (not recommended)');
  // A Catalyst CA's ML-DSA key in a token (PKCS#11 3.2): the classical key's, or its own with --pqc-pkcs11-lib/-token.
  init
    .option('--pqc-pkcs11-key-label <label>', 'Catalyst: generate (or with --use-existing-key, use) the ML-DSA key in a token under this label instead of a file')
    .option('--pqc-pkcs11-key-id <hex>', 'CKA_ID of the ML-DSA key (default: derived from its public key)');
  addPqcTokenOptions(init);
  addVarOptions(init);
  addPassphraseOptions(init, '', 'the new CA key file(s) (for a Catalyst CA whose classical key is in a token: its ML-DSA key file)');
  addPassphraseOptions(init, 'pqc', 'the post-quantum (ML-DSA) CA key file (default: the CA key passphrase)', false);
  addPassphraseOptions(init, 'parent', "the parent CA's key file");
  init.action(lazyAction(actions, (m) => m.caInit));

  const csr = ca.command('csr').description('generate a CA key and a CSR for an external parent; with --dir, a pending CA directory that `ca import-cert` completes').addOption(profileOption('CA profile the parent will apply'))
    .option('--dir <dir>', 'pending CA directory to create (key, CSR as ca.csr, metadata)').addOption(new Option('-d, --ca-dir <dir>', 'synonym of --dir').hideHelp())
    .option('-o, --out <file>', 'CSR file to write (with --dir: a copy of ca.csr)');
  addTokenOptions(csr);
  csr.option('--pkcs11-key-label <label>', 'label of the key in the token').option('--pkcs11-key-id <hex>', 'CKA_ID').option('--use-existing-key', 'use a key already in the token')
    .addOption(new Option('--key-label <label>', 'synonym of --pkcs11-key-label').hideHelp()).addOption(new Option('--key-id <hex>', 'synonym of --pkcs11-key-id').hideHelp())
    .option('--key-out <file>', 'where to write a software key without --dir (default: next to the CSR)').option('--unencrypted-key', 'write the software key without a passphrase');
  addVarOptions(csr);
  addPassphraseOptions(csr);
  csr.action(lazyAction(actions, (m) => m.caCsr));

  ca.command('import-cert').description('complete a pending CA (from `ca csr --dir`) with the certificate its external parent signed')
    .option('--dir <dir>', 'the pending CA directory').addOption(new Option('-d, --ca-dir <dir>', 'synonym of --dir').hideHelp())
    .requiredOption('--cert <file>', 'the CA certificate the parent issued (PEM or DER; PEM may carry the chain after it)')
    .option('--chain <file>', "the parent's chain, PEM, its issuing CA first: the certificate must verify under it")
    .action(lazyAction(actions, (m) => m.caImportCert));

  caDirOptions(ca.command('info').description('show a CA directory (ours or QPKI\'s)')).action(lazyAction(viewActions, (m) => m.caInfo));

  caDirOptions(ca.command('export').description('export the CA certificate, chain or root'))
    .option('-b, --bundle <kind>', 'ca | chain | root', 'ca')
    .option('-f, --format <format>', 'pem | der (der: one certificate only)', 'pem')
    .option('-v, --version <id>', 'the certificate of this CA version (v1, v2, …) instead of the active one')
    .option('--all', 'the certificates of every CA version, oldest first')
    .option('-o, --out <file>', 'output file (default: stdout)')
    .action(lazyAction(viewActions, (m) => m.caExport));

  caDirOptions(ca.command('check').description('check that index, serial, certificates and journal agree (also in a directory QPKI writes to)'))
    .option('--repair', 'after a crash, or after QPKI: set aside a torn last journal line, delete temporary files, record interrupted issuances and the certificates another tool issued, raise a low serial file (never re-signs, never removes an index line)')
    .action(lazyAction(actions, (m) => m.caCheck));

  // Key rollover, with QPKI's names: a new key version, pending until activated.
  const rotate = caDirOptions(ca.command('rotate').description('key rollover: a new CA key and certificate as a new, pending version (ca activate makes it the one that signs)'))
    .addOption(profileOption("profile of the new version (default: the active version's)", true))
    .option('--cross-sign', 'also cross-sign: the old key certifies the new one and the new key the old one (versions/<new>/cross-signed/)')
    .option('--dry-run', 'say what would be made, make nothing')
    .option('--pkcs11-key-label <label>', 'label of the new key in the token (default: the old label with the version appended)')
    .addOption(new Option('--key-label <label>', 'synonym of --pkcs11-key-label').hideHelp())
    .option('--unencrypted-key', 'write a software key without a passphrase (not recommended)');
  addTokenOptions(rotate);
  addVarOptions(rotate);
  addPassphraseOptions(rotate, '', 'the new CA key file(s)');
  addPassphraseOptions(rotate, 'ca', "the current CA key file(s) (for --cross-sign)");
  rotate.action(lazyAction(versionActions, (m) => m.caRotate));

  caDirOptions(ca.command('versions').description('list the CA key versions: active, pending, archived')).action(lazyAction(versionActions, (m) => m.caVersions));
  caDirOptions(ca.command('activate').description('make a pending (or archived) version the one that signs; the active one is archived'))
    .requiredOption('--version <id>', 'version to activate (v2, …)')
    .action(lazyAction(versionActions, (m) => m.caActivate));
}
