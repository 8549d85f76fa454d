import { Option, type Command } from 'commander';
import { resolve } from 'node:path';
import { formatJournal, readJournal, verifyJournal } from '../core/journal/journal';
import { renderTranscriptHtml, transcriptPdf } from '../core/journal/transcript';
import { listProfiles, loadProfile } from '../core/profiles/index';
import { emit } from './output';

export function registerJournalCommands(program: Command): void {
  const journal = program.command('journal').description('the ceremony record');
  journal.command('verify').description('check the hash chain; report the first broken entry').option('--ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp()).option('--known-hash <hex>', 'a journal hash written down earlier (detects cut-off entries)').action((o: { caDir: string; dir?: string; knownHash?: string }) => {
    const r = verifyJournal(resolve(o.dir ?? o.caDir), { knownHash: o.knownHash });
    emit(r, () => (r.ok ? [`journal intact: ${r.entries} entries, last hash ${r.lastHash}`] : [`journal BROKEN at entry ${r.firstBroken?.seq} (line ${r.firstBroken?.line}): ${r.firstBroken?.reason}`, `  ${r.entries} entries before it are intact`]));
    if (!r.ok) process.exitCode = 1;
  });
  journal.command('show').description('print the journal').option('--ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp()).action((o: { caDir: string; dir?: string }) => {
    const entries = readJournal(resolve(o.dir ?? o.caDir));
    emit(entries, () => [formatJournal(entries)]);
  });
  journal.command('transcript').description('printable transcript for witnesses to sign (HTML, or PDF when --out ends in .pdf)').option('--ca-dir <dir>', 'CA directory', './ca').addOption(new Option('--dir <dir>', 'synonym of --ca-dir').hideHelp()).requiredOption('--out <file>', 'output file (.html or .pdf)').action(async (o: { caDir: string; dir?: string; out: string }) => {
    const caDir = resolve(o.dir ?? o.caDir);
    const entries = readJournal(caDir);
    const html = await renderTranscriptHtml(entries, { caDir });
    if (o.out.endsWith('.pdf')) await transcriptPdf(html, o.out);
    else {
      const { writeFileAtomic } = await import('../core/ca/fsx');
      writeFileAtomic(o.out, html, { createOnly: true });
    }
    emit({ out: o.out, entries: entries.length }, () => [`transcript written to ${o.out} (${entries.length} entries)`]);
  });

  const profile = program.command('profile').description('certificate profiles');
  profile.command('list').description('list the built-in profiles').action(() => {
    const all = listProfiles();
    emit(all, () => all.map((p) => `${p.name.padEnd(30)} ${p.algorithm}${p.altAlgorithm ? ' + ' + p.altAlgorithm : ''}${p.isCa ? '  CA' : ''}  ${p.description}`));
  });
  profile.command('show').description('show a profile: algorithm, validity and variables').argument('<name>', 'built-in name (e.g. ec/tls-server) or path to a .yaml file').action((name: string) => {
    const p = loadProfile(name);
    emit(p, () => [`${p.name}: ${p.description}`, `  algorithm: ${p.algorithm}${p.altAlgorithm ? ' + ' + p.altAlgorithm : ''}, validity ${p.validityDays} days, CA: ${p.isCa}`, '  variables:', ...p.variables.map((v) => `    ${v.name} (${v.type}${v.required ? ', required' : ''}${v.default !== undefined ? `, default ${JSON.stringify(v.default)}` : ''})${v.description ? ' — ' + v.description : ''}`)]);
  });
}
