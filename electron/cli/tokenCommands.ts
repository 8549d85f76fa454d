/** `qpki token …` and `qpki key …`: commands and options; the work is in tokenActions. */
import { Option, type Command } from 'commander';
import { addPassphraseOptions, addTokenOptions, lazyAction } from './options';

const actions = () => import('./tokenActions');
const keyActions = () => import('./keyActions');

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('PKCS#11 modules and tokens');
  token.command('list').description('list slots and tokens').option('--pkcs11-lib <path>', 'PKCS#11 module').option('--hsm-config <file>', "QPKI hsm.yaml (its lib)").action(lazyAction(actions, (m) => m.tokenList));

  const info = token.command('info').description('a token: information, PIN state and mechanisms');
  addTokenOptions(info);
  info.action(lazyAction(actions, (m) => m.tokenInfo));

  const init = token
    .command('init')
    .description('initialize a token: label, SO PIN, user PIN')
    .requiredOption('--pkcs11-lib <path>', 'PKCS#11 module')
    .requiredOption('--slot <id>', 'slot id of the token (see token list); an initialized one only with --reinitialize')
    .requiredOption('--label <label>', 'token label (up to 32 bytes)')
    .option('--so-pin-env <var>', 'security officer PIN from this environment variable')
    .option('--so-pin-file <file>', 'security officer PIN from this file')
    .option('--pin-env <var>', 'user PIN from this environment variable')
    .option('--pin-file <file>', 'user PIN from this file')
    .addOption(new Option('--so-pin <pin>', 'SO PIN (visible to other processes)').hideHelp())
    .addOption(new Option('--pin <pin>', 'user PIN (visible to other processes)').hideHelp())
    .option('--journal-dir <dir>', '(required) record the initialization, or its refusal, in the ceremony journal of this directory (a CA directory, or a folder of its own), with --operator and --witness')
    .option('--reinitialize <current-label>', 'the token is already initialized: re-initialize it, DESTROYING every key and object on it; give its current label to confirm')
    .option('--force', "proceed on the SO PIN's final try (a wrong SO PIN then locks it)");
  init.action(lazyAction(actions, (m) => m.tokenInit));

  const key = program.command('key').description('keys in a token');
  const list = key.command('list').description('private keys in the token');
  addTokenOptions(list);
  list.action(lazyAction(actions, (m) => m.keyList));
  const gen = key.command('gen').alias('generate').description('generate a key pair: in the token (--key-label), or a key file (-o/--out)')
    .requiredOption('-a, --algorithm <alg>', "ec-p256 | ec-p384 | ec-p521 | rsa-2048 | rsa-3072 | rsa-4096 | ed25519 | ml-dsa-44/65/87, or QPKI's names (ecdsa-p256, …)")
    .option('--pkcs11-key-label <label>', 'key label in the token').addOption(new Option('--key-label <label>', 'synonym of --pkcs11-key-label'))
    .option('--pkcs11-key-id <hex>', 'CKA_ID (default: derived from the public key)').addOption(new Option('--key-id <hex>', 'synonym of --pkcs11-key-id'))
    .option('-o, --out <file>', 'write a software key file instead (PKCS#8, encrypted with a passphrase unless --unencrypted-key)')
    .option('--unencrypted-key', 'with --out: no passphrase (not recommended)');
  addTokenOptions(gen);
  addPassphraseOptions(gen, '', 'the key file');
  gen.action(lazyAction(keyActions, (m) => m.keyGenerate));

  key.command('convert').description("convert a software key file: to QPKI's forms (--to qpki: legacy PEM encryption, ML-DSA as \"ML-DSA-xx PRIVATE KEY\") or back to ours (--to pkcs8: PKCS#8, scrypt-encrypted)")
    .argument('<input>', 'key file (ours or QPKI\'s)')
    .requiredOption('-o, --out <file>', 'the converted key file (never overwritten)')
    .addOption(new Option('--to <form>', 'qpki | pkcs8').choices(['qpki', 'pkcs8']).default('pkcs8'))
    .option('-p, --passphrase <value>', "passphrase of the input (env:VAR reads it from VAR; a value here is visible to other processes)")
    .option('--passphrase-env <var>', 'passphrase of the input, from this environment variable')
    .option('--passphrase-file <file>', 'passphrase of the input, from this file')
    .option('--new-passphrase <value>', 'passphrase of the output (env:VAR, or a visible value)')
    .option('--new-passphrase-env <var>', 'passphrase of the output, from this environment variable')
    .option('--new-passphrase-file <file>', 'passphrase of the output, from this file')
    .option('--unencrypted-key', 'write the output without a passphrase')
    .action(lazyAction(keyActions, (m) => m.keyConvert));

  // QPKI's names for the token commands, with --hsm-config as QPKI takes it.
  const hsm = program.command('hsm').description("HSM diagnostics with QPKI's names (token list/info, key list)");
  const hsmCmd = (name: string, what: string) => addTokenOptions(hsm.command(name).description(what));
  hsmCmd('list', 'slots and tokens of the module').action(lazyAction(actions, (m) => m.tokenList));
  hsmCmd('info', 'the token: information and PIN state').action(lazyAction(actions, (m) => m.tokenInfo));
  hsmCmd('mechanisms', "the token's mechanisms").option('--filter <text>', 'only mechanisms whose name contains this (any case)').action(lazyAction(keyActions, (m) => m.hsmMechanisms));
  hsmCmd('test', 'load the module, find the token, read the PIN, log in and list keys; then a test signature if --key-label names a key').option('--key-label <label>', 'also sign and verify with this key').action(lazyAction(keyActions, (m) => m.hsmTest));
}
