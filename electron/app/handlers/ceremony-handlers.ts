/**
 * The handler table's ceremony side: opening and closing it, the preflight, the journal and the plan.
 * A table of one short function per channel: its length is the number of channels, not one long procedure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { QpkiError } from '../../core/errors';
import { readJournal, toFacts, verifyJournal } from '../../core/journal/journal';
import { renderTranscriptHtml, selectCeremony } from '../../core/journal';
import { planView } from '../../ceremony/plan-session';
import { checkPlan } from '../../core/plan/plan';
import { checkClockWitness, checkJustification, checkReferenceTime, compareClock } from '../../core/journal/witness-checks';
import type { HandlerContext, Impl } from './context';

/** The folder holding the app's files (package.json beside dist/ or the sources), for its fingerprint. */
export function findAppRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(from);
    dir = up;
  }
}

/**
 * The ceremony and plan channels' handlers, one entry per channel of the contract. Long because it
 * is that table of short entries.
 */
// eslint-disable-next-line max-lines-per-function -- the handler table of the ceremony channels: one short entry per channel
export function ceremonyHandlers(h: HandlerContext): Pick<Impl, 'openCeremony' | 'closeCeremony' | 'exportTranscript' | 'confirmPreflight' | 'readJournal' | 'openPlan' | 'startPlan' | 'planState' | 'acknowledgeStep' | 'recordDeviation'> {
  const { state, deps, ceremony, record, plan, planState, journalDir } = h;
  return {
    openCeremony: ({ operator, witnesses, purpose }) => {
      if (plan.isActive && ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'A ceremony plan is running: its ceremony has the plan\'s participants and purpose. Close it before opening another ceremony.');
      if (ceremony.isOpen && ceremony.dir) ceremony.close('a new ceremony was opened');
      const r = ceremony.open({ operator, witnesses }, purpose, { version: state.options.version, root: state.options.appRoot ?? findAppRoot(__dirname) }, state.options.dataDir);
      const p = r.preflight;
      return {
        preflight: { networkInterfacesUp: p.networkInterfacesUp, clock: { iso: p.clock.iso, tz: p.clock.tz }, freeDiskBytes: p.freeDiskBytes, warnings: p.warnings },
        appSha256: r.app.sha256,
        appFiles: r.app.files,
        version: state.options.version,
      };
    },
    closeCeremony: () => {
      const out = ceremony.close('the operator closed the ceremony', join(state.options.dataDir, 'ceremonies'));
      plan.end();
      state.endSession();
      return out;
    },
    exportTranscript: async () => {
      const d = journalDir();
      if (!d || !existsSync(join(d, 'journal.jsonl'))) throw new QpkiError('CA_NOT_FOUND', 'There is no ceremony journal to print yet: it starts when the CA directory is created or opened.');
      // The page shows the latest ceremony of the journal; the chain is checked over the whole file.
      const journal = readJournal(d);
      const html = await renderTranscriptHtml(journal, { caDir: d });
      const entries = selectCeremony(journal);
      const finalHash = entries.length ? entries[entries.length - 1].hash : '0'.repeat(64);
      const dest = await deps.chooseSavePath(join(state.options.dataDir, `${basename(d)}-transcript-${new Date().toISOString().slice(0, 10)}.pdf`), 'transcript');
      if (!dest) return { savedTo: null, entries: entries.length, finalHash };
      const target = resolve(dest);
      if (existsSync(target)) throw new QpkiError('OUTPUT_EXISTS', `${target} already exists; choose another name.`);
      await deps.printPdf(html, target);
      return { savedTo: target, entries: entries.length, finalHash };
    },
    confirmPreflight: ({ witness, referenceTime, justification }) => {
      if (!ceremony.isOpen || !ceremony.participants) throw new QpkiError('INPUT_INVALID', 'No ceremony is open: open one (names, purpose, preflight) first.');
      checkClockWitness(witness, ceremony.participants.witnesses, 'ceremony');
      checkReferenceTime(referenceTime);
      const warnings = ceremony.preflightWarnings;
      const note = checkJustification(warnings, justification, 'typed on the preflight screen');
      // The laptop time is read now, when the witness compares it, not when the preflight ran.
      const clock = compareClock(witness, referenceTime, new Date(), 'open the ceremony again. The comparison is on the record.');
      record('witness.acknowledged', clock.facts);
      if (clock.tooFar) throw clock.tooFar;
      if (warnings.length) record('witness.acknowledged', { what: 'preflight', warnings: [...warnings], note, witness });
      ceremony.preflightConfirmed = true;
      return { laptopTime: clock.facts.laptopTime, differenceSeconds: clock.facts.differenceSeconds, warnings: [...warnings] };
    },
    readJournal: () => {
      const d = journalDir();
      const pending = ceremony.pendingEvents().map((p) => ({ time: p.time, kind: p.kind, facts: toFacts(p.facts) }));
      const who = ceremony.participants
        ? { operator: ceremony.participants.operator, witnesses: [...ceremony.participants.witnesses], purpose: ceremony.purpose ?? '', closed: ceremony.closed }
        : null;
      if (!d || !existsSync(join(d, 'journal.jsonl'))) return { dir: d ?? null, entries: [], intact: true, pending, ceremony: who };
      const entries = readJournal(d);
      const v = verifyJournal(d);
      return {
        dir: d,
        entries: entries.map((e) => ({ seq: e.seq, time: e.time, kind: e.kind, operator: e.operator, witnesses: e.witnesses, facts: e.facts, hash: e.hash })),
        intact: v.ok,
        pending,
        ceremony: who,
      };
    },
    openPlan: async () => {
      const picked = await deps.choosePlanFile();
      if (!picked) return { plan: null };
      const path = resolve(picked);
      let bytes: Buffer;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new QpkiError('PLAN_INVALID', `Cannot read the ceremony plan ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
      }
      if (plan.isActive && ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'A ceremony plan is running; close its ceremony before opening another plan.');
      const checked = checkPlan(bytes, path);
      plan.open(checked);
      return { plan: planView(checked) };
    },
    startPlan: ({ sha256 }) => {
      const p = plan.opened;
      if (!p) throw new QpkiError('PLAN_INVALID', 'Open a ceremony plan first.');
      // The plan started is the one the witnesses were shown, byte for byte.
      if (p.sha256 !== sha256) throw new QpkiError('PLAN_INVALID', 'The plan shown is not the plan main holds (its SHA-256 differs); open the plan again.');
      if (plan.isActive && ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'This ceremony already runs a plan.');
      if (ceremony.isOpen) throw new QpkiError('PLAN_STEP_MISMATCH', 'A ceremony without this plan is open: close it first, then start the plan (its ceremony has the plan\'s participants and purpose).');
      const people = p.plan.participants;
      ceremony.open(
        { operator: people.find((x) => x.role === 'operator')!.name, witnesses: people.filter((x) => x.role !== 'operator').map((x) => x.name) },
        p.plan.ceremony.purpose, { version: state.options.version, root: state.options.appRoot ?? findAppRoot(__dirname) }, state.options.dataDir,
      );
      plan.start();
      return planState();
    },
    planState: () => planState(),
    acknowledgeStep: ({ witness }) => {
      plan.acknowledge(witness);
      return planState();
    },
    recordDeviation: ({ kind, note }) => {
      plan.deviate(kind, note);
      return planState();
    },
  };
}
