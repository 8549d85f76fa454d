/**
 * Options shared by several commands, and the lazy action wrapper. Registering the commands must
 * stay cheap (`--version` and `--help` load nothing else), so this module imports only commander;
 * what a command does lives in its *Actions module, loaded when that command runs.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';

export interface VarOptions {
  var?: string[];
  varFile?: string;
}

export interface PassphraseOptions {
  /** QPKI's -p/--passphrase: the passphrase itself (visible to other processes) or env:VAR. */
  passphrase?: string;
  passphraseEnv?: string;
  passphraseFile?: string;
}

/**
 * The sources of a secret from its flags. `env:NAME` is QPKI's form for "from this variable";
 * anything else given to the bare flag is the secret itself (readSecret warns that it shows).
 */
export function secretSources(value: string | undefined, env: string | undefined, file: string | undefined): { value?: string; env?: string; file?: string } {
  if (value !== undefined && value.startsWith('env:')) return { env: value.slice(4), file };
  return { value, env, file };
}

/** An option given once only: QPKI repeats --profile for multi-profile CAs, which ours does not make; the last one silently winning would sign with a profile the operator may not have meant. */
export function once(flag: string): (value: string, previous: unknown) => string {
  return (value, previous) => {
    if (previous !== undefined) throw new InvalidArgumentError(`${flag} is given more than once ("${String(previous)}", "${value}"); give one (multi-profile CAs are not supported).`);
    return value;
  };
}

/** -P/--profile, as QPKI spells it; required unless `optional`. */
export function profileOption(description: string, optional = false): Option {
  const o = new Option('-P, --profile <name>', description).argParser(once('--profile'));
  return optional ? o : o.makeOptionMandatory();
}

export interface TokenOptions {
  pkcs11Lib?: string;
  pkcs11Token?: string;
  pkcs11TokenSerial?: string;
  pkcs11Slot?: string;
  pkcs11Pin?: string;
  pkcs11PinEnv?: string;
  pkcs11PinFile?: string;
  hsmConfig?: string;
  force?: boolean;
}

/**
 * The token of a Catalyst CA's ML-DSA key when it is not the classical key's token: the same
 * options as the classical key's, prefixed --pqc- (PKCS#11 3.2 ML-DSA, e.g. a second HSM).
 */
export interface PqcTokenOptions {
  pqcPkcs11Lib?: string;
  pqcPkcs11Token?: string;
  pqcPkcs11TokenSerial?: string;
  pqcPkcs11Pin?: string;
  pqcPkcs11PinEnv?: string;
  pqcPkcs11PinFile?: string;
  pqcHsmConfig?: string;
}

export type CaOpts = TokenOptions & PqcTokenOptions & { caDir?: string; dir?: string; caPassphrase?: string; caPassphraseEnv?: string; caPassphraseFile?: string; pqcPassphraseEnv?: string; pqcPassphraseFile?: string };

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

export function addVarOptions(c: Command): Command {
  return c.option('--var <key=value>', 'profile variable (repeatable)', collect, []).option('--var-file <file>', 'YAML file of profile variables');
}

export function addPassphraseOptions(c: Command, prefix = '', what = 'the new key file', literal = true): Command {
  const p = prefix ? `${prefix}-` : '';
  // QPKI's form: -p/--passphrase VALUE or env:VAR (and --ca-passphrase, --parent-passphrase).
  if (literal) c.option(`${prefix ? '' : '-p, '}--${p}passphrase <value>`, `passphrase for ${what}: env:VAR reads it from VAR; a value here is visible to other processes (prefer --${p}passphrase-env, --${p}passphrase-file or the prompt)`);
  return c
    .option(`--${p}passphrase-env <var>`, `passphrase for ${what}, from this environment variable`)
    .option(`--${p}passphrase-file <file>`, `passphrase for ${what}, from the first line of this file`);
}

/** The PKCS#11 options shared by every command that reaches a token. */
export function addTokenOptions(c: Command): Command {
  return c
    .option('--pkcs11-lib <path>', 'PKCS#11 module (vendor library)')
    .option('--pkcs11-token <label>', 'token label')
    .option('--pkcs11-token-serial <serial>', 'token serial number')
    .addOption(new Option('--pkcs11-slot <id>', 'slot id (only where a label or serial cannot be used)').hideHelp())
    .option('--pkcs11-pin <pin>', 'user PIN (visible to other processes: prefer --pkcs11-pin-env, --pkcs11-pin-file or the prompt)')
    .option('--pkcs11-pin-env <var>', 'read the user PIN from this environment variable')
    .option('--pkcs11-pin-file <file>', 'read the user PIN from the first line of this file (- for stdin)')
    .option('--hsm-config <file>', "QPKI hsm.yaml (type: pkcs11, pkcs11: {lib, token | token_serial | slot, pin_env})")
    .option('--force', 'proceed on the token\'s final PIN try (a wrong PIN then locks it)');
}

/** How to reach the token of a Catalyst CA's ML-DSA key (`pinOnly`: the CA records which token; only its PIN is asked). */
export function addPqcTokenOptions(c: Command, pinOnly = false): Command {
  if (pinOnly) c.option('--pqc-pkcs11-lib <path>', "PKCS#11 module of the ML-DSA key's token, when it is not the classical key's (the library the CA names is loaded only if named here or installed where its vendor installs it)");
  else {
    c.option('--pqc-pkcs11-lib <path>', 'PKCS#11 module of the token holding the ML-DSA key (default: --pkcs11-lib)')
      .option('--pqc-pkcs11-token <label>', 'label of the token holding the ML-DSA key (default: the classical key\'s token)')
      .option('--pqc-pkcs11-token-serial <serial>', 'serial of the token holding the ML-DSA key')
      .option('--pqc-hsm-config <file>', 'QPKI hsm.yaml of the token holding the ML-DSA key');
  }
  return c
    .option('--pqc-pkcs11-pin <pin>', 'user PIN of the ML-DSA key\'s token, when it is not the classical key\'s (prefer -env, -file or the prompt)')
    .option('--pqc-pkcs11-pin-env <var>', 'read that PIN from this environment variable')
    .option('--pqc-pkcs11-pin-file <file>', 'read that PIN from the first line of this file');
}

/** --ca-dir and the ways to reach an existing CA's key (token, key-file passphrases). */
export function addCaAccessOptions(c: Command): Command {
  c.option('-d, --ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp());
  addTokenOptions(c);
  addPassphraseOptions(c, 'ca', "the CA's key file(s)");
  addPassphraseOptions(c, 'pqc', "the CA's post-quantum key file (default: the CA passphrase, as QPKI uses one for both)", false);
  addPqcTokenOptions(c, true);
  return c;
}

/**
 * A command action that loads its module when the command runs: `await import()` of a bundled
 * module becomes a lazily initialized module in the CJS bundle, so its dependencies (ASN.1,
 * PKCS#11, zod, YAML…) cost nothing to the commands that do not use them.
 */
export function lazyAction<M, A extends any[]>(load: () => Promise<M>, pick: (m: M) => (...args: A) => unknown): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await pick(await load())(...args);
  };
}
