/**
 * `qpki`: the command line over the ceremony engine, following the reference design's usage
 * (`ca init --profile … --pkcs11-lib … --dir …`, `credential enroll --ca-dir …`).
 *
 * Start-up time matters to scripted ceremonies, so this module and the command registrations load
 * only commander: each command's work, and what it needs (ASN.1, PKCS#11, zod, YAML…), is loaded
 * when that command runs. `--version` and `--help` load nothing more.
 */
import { Command, CommanderError } from 'commander';
import { QpkiError, toErrorPayload } from '../core/errors';
import { finalizeAllModules } from '../core/pkcs11/registry';
import { registerCaCommands } from './caCommands';
import { registerCertCommand, registerCredentialCommand, registerCrlCommand, registerInspectCommand, registerOcspCommand } from './certCommands';
import { collect } from './options';
import { registerJournalCommands } from './journalCommands';
import { registerCeremonyPlanCommands } from './ceremonyPlanCommands';
import { registerTokenCommands } from './tokenCommands';
import { couldBeTerminal, exitAfterOutput, setJson, useDirectOutput, writeErr, writeOut } from './output';
import { disableCoreDumps } from '../core/coredump';

declare const QPKI_VERSION: string | undefined;

const ceremony = () => import('./ceremony');

/** Each registration and the top-level commands it adds (`test/cli` checks the list against them). */
export const COMMAND_GROUPS: ReadonlyArray<readonly [(program: Command) => void, readonly string[]]> = [
  [registerCaCommands, ['ca']],
  [registerCertCommand, ['cert']],
  [registerCrlCommand, ['crl']],
  [registerCredentialCommand, ['credential']],
  [registerOcspCommand, ['ocsp']],
  [registerInspectCommand, ['inspect']],
  [registerTokenCommands, ['token', 'key', 'hsm']],
  [registerJournalCommands, ['journal', 'profile']],
  [registerCeremonyPlanCommands, ['ceremony']],
];

const GLOBAL_WITH_VALUE = new Set(['--operator', '--witness', '--purpose']);

/**
 * The top-level command a run names, past the program's own options; undefined when it names none
 * or something else comes first (help, an unknown option): then every command is registered.
 */
export function commandNamed(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json' || (a.includes('=') && GLOBAL_WITH_VALUE.has(a.slice(0, a.indexOf('='))))) continue;
    if (GLOBAL_WITH_VALUE.has(a)) { i++; continue; }
    if (a.startsWith('-')) return undefined;
    return COMMAND_GROUPS.some(([, names]) => names.includes(a)) ? a : undefined;
  }
  return undefined;
}

/**
 * The program. Given the run's arguments, only the group of the command they name is registered:
 * commander checks each new option against all before it, and building all fifty-odd commands
 * took about a twentieth of a short command's time. Help and unknown commands get them all.
 */
export function buildProgram(argv?: readonly string[]): Command {
  const program = new Command('qpki')
    .description('Offline CA key ceremonies with the CA key in a PKCS#11 token')
    // Not commander's .version(): program options are matched after the subcommand too, and
    // QPKI's `ca activate --version v2` and `ca export --version v1` must reach their command.
    .addHelpText('after', '\n  -V, --version  (first argument) output the version number')
    .option('--json', 'machine-readable output')
    .option('--operator <name>', 'ceremony operator, recorded in the CA journal')
    .option('--witness <name>', 'ceremony witness, recorded in the CA journal (repeatable)', collect, [])
    .option('--purpose <text>', 'purpose of the ceremony, recorded when it opens')
    .exitOverride();
  program.hook('preAction', async (cmd) => {
    const o = cmd.optsWithGlobals();
    setJson(!!o.json);
    (await ceremony()).setCeremonyOptions(o);
  });
  const named = argv && commandNamed(argv);
  for (const [register, names] of COMMAND_GROUPS) if (!named || names.includes(named)) register(program);
  oneLineUsageErrors(program);
  return program;
}

/**
 * A usage error is one line in the same form as every other failure (`error [CODE]: …`), with
 * the help command to run, instead of the whole help text after it. Exit status 2 tells it apart.
 */
function oneLineUsageErrors(cmd: Command): void {
  const path: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) path.unshift(c.name());
  const base = cmd.configureOutput();
  cmd.configureOutput({
    writeOut: (s) => writeOut(s),
    writeErr: (s) => writeErr(s),
    // Commander asks the streams for a terminal's width and colours; a pipe or a file has neither,
    // and asking would build the stream (electron/cli/output.ts). qpki's help has no colours.
    // 80 is what commander uses when the stream gives no width.
    getOutHelpWidth: () => (couldBeTerminal(1) && base.getOutHelpWidth?.()) || 80,
    getErrHelpWidth: () => (couldBeTerminal(2) && base.getErrHelpWidth?.()) || 80,
    getOutHasColors: () => couldBeTerminal(1) && !!base.getOutHasColors?.(),
    getErrHasColors: () => couldBeTerminal(2) && !!base.getErrHasColors?.(),
    outputError: (s, write) => write(`error [INPUT_INVALID]: ${s.trim().replace(/^error: /, '')} (see: ${path.join(' ')} --help)\n`),
  });
  for (const sub of cmd.commands) oneLineUsageErrors(sub);
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    writeOut(`${typeof QPKI_VERSION === 'string' ? QPKI_VERSION : 'dev'}\n`);
    return 0;
  }
  // Before any prompt: a core taken at the passphrase prompt would hold the passphrase (core/coredump.ts).
  disableCoreDumps();
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    (await ceremony()).finishRun();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    const { code, message } = toErrorPayload(e);
    writeErr(`error [${code}]: ${message}\n`);
    if (!(e instanceof QpkiError) && process.env.QPKI_DEBUG) writeErr(String((e as Error).stack) + '\n');
    return 1;
  } finally {
    finalizeAllModules();
  }
}

/** What bin/qpki.cjs calls around main(): the qpki process writes to its descriptors directly. */
export { exitAfterOutput, useDirectOutput };

if (require.main === module) {
  useDirectOutput();
  main(process.argv.slice(2)).then(exitAfterOutput, (e: unknown) => {
    // main answers every error itself; anything reaching here is a bug, reported in one line.
    writeErr(`error [INTERNAL]: ${e instanceof Error ? e.message : String(e)}\n`);
    exitAfterOutput(1);
  });
}
