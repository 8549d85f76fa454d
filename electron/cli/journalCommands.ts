/** `qpki journal …` and `qpki profile …`: commands and options; the work is in journalActions and profileActions. */
import { Option, type Command } from 'commander';
import { lazyAction } from './options';

const journalActions = () => import('./journalActions');
const profileActions = () => import('./profileActions');

export function registerJournalCommands(program: Command): void {
  const journal = program.command('journal').description('the ceremony record');
  journal.command('verify').description('check the hash chain; report the first broken entry').option('--ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp()).option('--known-hash <hex>', 'a journal hash written down earlier (detects cut-off entries)')
    .action(lazyAction(journalActions, (m) => m.journalVerify));
  journal.command('show').description('print the journal').option('--ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp())
    .action(lazyAction(journalActions, (m) => m.journalShow));
  journal.command('transcript').description('printable transcript for witnesses to sign (HTML, or PDF when --out ends in .pdf)').option('--ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp()).requiredOption('--out <file>', 'output file (.html or .pdf)')
    .option('--ceremony <seq>', 'the ceremony whose ceremony.opened is this entry number (default: the latest ceremony)')
    .action(lazyAction(journalActions, (m) => m.journalTranscript));

  const profile = program.command('profile').description('certificate profiles');
  profile.command('list').description('list the built-in profiles').action(lazyAction(profileActions, (m) => m.profileList));
  profile.command('show').description('show a profile: algorithm, validity and variables').argument('<name>', 'built-in name (e.g. ec/tls-server) or path to a .yaml file')
    .action(lazyAction(profileActions, (m) => m.profileShow));
}
