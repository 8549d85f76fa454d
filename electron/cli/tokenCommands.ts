/** `qpki token …` and `qpki key …`: commands and options; the work is in tokenActions. */
import { Option, type Command } from 'commander';
import { addTokenOptions, lazyAction } from './options';

const actions = () => import('./tokenActions');

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('PKCS#11 modules and tokens');
  token.command('list').description('list slots and tokens').requiredOption('--pkcs11-lib <path>', 'PKCS#11 module').action(lazyAction(actions, (m) => m.tokenList));

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
    .option('--journal-dir <dir>', 'record the initialization (or its refusal) in the ceremony journal of this directory (a CA directory, or a folder of its own)')
    .option('--reinitialize <current-label>', 'the token is already initialized: re-initialize it, DESTROYING every key and object on it; give its current label to confirm')
    .option('--force', "proceed on the SO PIN's final try (a wrong SO PIN then locks it)");
  init.action(lazyAction(actions, (m) => m.tokenInit));

  const key = program.command('key').description('keys in a token');
  const list = key.command('list').description('private keys in the token');
  addTokenOptions(list);
  list.action(lazyAction(actions, (m) => m.keyList));
  const gen = key.command('gen').description('generate a signing key pair in the token').requiredOption('--algorithm <alg>', 'ec-p256 | ec-p384 | ec-p521 | rsa-2048 | rsa-3072 | rsa-4096 | ed25519 | ml-dsa-44/65/87 (if the token has them)').requiredOption('--pkcs11-key-label <label>', 'key label').option('--pkcs11-key-id <hex>', 'CKA_ID (default: derived from the public key)');
  addTokenOptions(gen);
  gen.action(lazyAction(actions, (m) => m.keyGen));
}
