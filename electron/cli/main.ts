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
import { registerCertCommands } from './certCommands';
import { collect } from './options';
import { registerJournalCommands } from './journalCommands';
import { registerCeremonyPlanCommands } from './ceremonyPlanCommands';
import { registerTokenCommands } from './tokenCommands';
import { setJson } from './output';
import { disableCoreDumps } from '../core/coredump';

declare const QPKI_VERSION: string | undefined;

const ceremony = () => import('./ceremony');

export function buildProgram(): Command {
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
  registerCaCommands(program);
  registerCertCommands(program);
  registerTokenCommands(program);
  registerJournalCommands(program);
  registerCeremonyPlanCommands(program);
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
  cmd.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(`error [INPUT_INVALID]: ${s.trim().replace(/^error: /, '')} (see: ${path.join(' ')} --help)\n`),
  });
  for (const sub of cmd.commands) oneLineUsageErrors(sub);
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${typeof QPKI_VERSION === 'string' ? QPKI_VERSION : 'dev'}\n`);
    return 0;
  }
  // Before any prompt: a core taken at the passphrase prompt would hold the passphrase (core/coredump.ts).
  disableCoreDumps();
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    (await ceremony()).finishRun();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    const { code, message } = toErrorPayload(e);
    process.stderr.write(`error [${code}]: ${message}\n`);
    if (!(e instanceof QpkiError) && process.env.QPKI_DEBUG) process.stderr.write(String((e as Error).stack) + '\n');
    return 1;
  } finally {
    finalizeAllModules();
  }
}

if (require.main === module) {
  // Exit after the output is out: writes to a pipe are asynchronous (see bin/qpki.cjs).
  main(process.argv.slice(2)).then(
    (c) => process.stdout.write('', () => process.stderr.write('', () => process.exit(c))),
    // main answers every error itself; anything reaching here is a bug, reported in one line.
    (e: unknown) => process.stderr.write(`error [INTERNAL]: ${e instanceof Error ? e.message : String(e)}\n`, () => process.exit(1)),
  );
}
