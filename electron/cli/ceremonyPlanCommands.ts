/** `qpki ceremony …`: a reviewed plan, checked, run and compared; the work is in ceremonyPlanActions. */
import type { Command } from 'commander';
import { lazyAction } from './options';

const actions = () => import('./ceremonyPlanActions');

export function registerCeremonyPlanCommands(program: Command): void {
  const c = program.command('ceremony').description('a reviewed ceremony plan: check it, run it (rehearsal or production), compare two runs');
  c.command('check').description('validate a plan and its environment file; print the plan in words with its SHA-256 (nothing is done)').argument('<plan>', 'ceremony plan (YAML)').requiredOption('--env <file>', 'environment file: the token of each role, its library and PIN variables')
    .action(lazyAction(actions, (m) => m.ceremonyCheck));
  c.command('run').description('run the plan step by step into a new directory; stops at the first failure').argument('<plan>', 'ceremony plan (YAML)').requiredOption('--env <file>', 'environment file').requiredOption('--out <dir>', 'new output directory (the ceremony record, the CA directories and every file made)').option('--rehearsal', 'record this run as a rehearsal')
    .option('--preflight-justification <text>', 'why the ceremony goes on despite a preflight warning (network up, …), as the witnesses agreed; required for a production run with warnings')
    .option('--clock-reference <utc-time>', 'the reference time a witness read when the laptop clock was checked, e.g. 2027-01-15T09:30:00Z').option('--clock-witness <name>', 'the witness (a participant of the plan) who read it')
    .action(lazyAction(actions, (m) => m.ceremonyRun));
  c.command('compare').description('every difference between a rehearsal and a run of the same plan, other than keys, serials, signatures and times').argument('<rehearsal-dir>').argument('<run-dir>')
    .action(lazyAction(actions, (m) => m.ceremonyCompare));
}
