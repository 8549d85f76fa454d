/** `qpki ca …`: the commands and their options; what each does is in caActions, loaded when it runs. */
import { Option, type Command } from 'commander';
import { addPassphraseOptions, addPqcTokenOptions, addTokenOptions, addVarOptions, lazyAction } from './options';

const actions = () => import('./caActions');

export function registerCaCommands(program: Command): void {
  const ca = program.command('ca').description('certificate authorities');

  const init = ca.command('init').description('create a CA: key in the token (or a file), CA certificate, CA directory').requiredOption('--profile <name>', 'CA profile, e.g. ec/root-ca');
  init.option('--dir <dir>', 'CA directory to create').option('--ca-dir <dir>', 'synonym of --dir');
  addTokenOptions(init);
  init
    .option('--pkcs11-key-label <label>', 'label of the CA key in the token')
    .addOption(new Option('--key-label <label>', 'synonym of --pkcs11-key-label').hideHelp())
    .option('--pkcs11-key-id <hex>', 'CKA_ID of the key (default: derived from the public key)')
    .addOption(new Option('--key-id <hex>', 'synonym of --pkcs11-key-id').hideHelp())
    .option('--use-existing-key', 'use a key already in the token instead of generating one')
    .option('--parent <ca-dir>', 'issue the CA certificate from this parent CA (subordinate CA)')
    .option('--unencrypted-key', 'write a software CA key without a passphrase (not recommended)');
  // A Catalyst CA's ML-DSA key in a token (PKCS#11 3.2): the classical key's, or its own with --pqc-pkcs11-lib/-token.
  init
    .option('--pqc-pkcs11-key-label <label>', 'Catalyst: generate (or with --use-existing-key, use) the ML-DSA key in a token under this label instead of a file')
    .option('--pqc-pkcs11-key-id <hex>', 'CKA_ID of the ML-DSA key (default: derived from its public key)');
  addPqcTokenOptions(init);
  addVarOptions(init);
  addPassphraseOptions(init, '', 'the new CA key file (for a Catalyst CA whose classical key is in a token: its ML-DSA key file)');
  addPassphraseOptions(init, 'pqc', 'the post-quantum (ML-DSA) CA key file');
  addPassphraseOptions(init, 'parent', "the parent CA's key file");
  init.action(lazyAction(actions, (m) => m.caInit));

  const csr = ca.command('csr').description('generate a CA key and a CSR for an external parent; with --dir, a pending CA directory that `ca import-cert` completes').requiredOption('--profile <name>', 'CA profile the parent will apply')
    .option('--dir <dir>', 'pending CA directory to create (key, CSR as ca.csr, metadata)').addOption(new Option('--ca-dir <dir>', 'synonym of --dir').hideHelp())
    .option('--out <file>', 'CSR file to write (with --dir: a copy of ca.csr)');
  addTokenOptions(csr);
  csr.option('--pkcs11-key-label <label>', 'label of the key in the token').option('--pkcs11-key-id <hex>', 'CKA_ID').option('--use-existing-key', 'use a key already in the token')
    .option('--key-out <file>', 'where to write a software key without --dir (default: next to the CSR)').option('--unencrypted-key', 'write the software key without a passphrase');
  addVarOptions(csr);
  addPassphraseOptions(csr);
  csr.action(lazyAction(actions, (m) => m.caCsr));

  ca.command('import-cert').description('complete a pending CA (from `ca csr --dir`) with the certificate its external parent signed')
    .option('--dir <dir>', 'the pending CA directory').addOption(new Option('--ca-dir <dir>', 'synonym of --dir').hideHelp())
    .requiredOption('--cert <file>', 'the CA certificate the parent issued (PEM or DER; PEM may carry the chain after it)')
    .option('--chain <file>', "the parent's chain, PEM, its issuing CA first: the certificate must verify under it")
    .action(lazyAction(actions, (m) => m.caImportCert));

  ca.command('info').description('show a CA directory').option('--dir <dir>', 'CA directory (default: ./ca)').addOption(new Option('--ca-dir <dir>', 'synonym of --dir').hideHelp())
    .action(lazyAction(actions, (m) => m.caInfo));

  ca.command('export').description('export the CA certificate (or chain)').option('--dir <dir>', 'CA directory (default: ./ca)').addOption(new Option('--ca-dir <dir>', 'synonym of --dir').hideHelp()).option('--bundle <kind>', 'ca | chain', 'ca').option('--out <file>', 'output file (default: stdout)')
    .action(lazyAction(actions, (m) => m.caExport));

  ca.command('check').description('check that index, serial, certificates and journal agree')
    .option('--dir <dir>').option('--ca-dir <dir>')
    .option('--repair', 'after a crash: set aside a torn last journal line, delete temporary files, record interrupted issuances (never touches certificates or the index)')
    .action(lazyAction(actions, (m) => m.caCheck));
}
