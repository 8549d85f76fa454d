/**
 * `qpki ceremony check|run|compare`: a reviewed ceremony plan, checked and printed in words with
 * its SHA-256, run step by step into a new directory, and a rehearsal compared with the run.
 */
import { join } from 'node:path';
import { QpkiError } from '../core/errors';
import { loadPlan, type CheckedPlan } from '../core/plan/plan';
import { loadEnvironment, type CheckedEnvironment } from '../core/plan/environment';
import { runPlan, stepWords } from '../core/plan/run';
import { compareRuns } from '../core/plan/compare';
import { appFingerprint } from '../core/journal/fingerprint';
import { groupHex, groupHexLines } from '../core/journal/format';
import { appRoot, ceremonyGiven } from './ceremony';
import { emit, writeErr } from './output';

function load(planPath: string, envPath: string): { plan: CheckedPlan; env: CheckedEnvironment } {
  const plan = loadPlan(planPath);
  return { plan, env: loadEnvironment(envPath, plan.plan) };
}

/** The plan as the witnesses read it before anything starts. */
export function planLines(plan: CheckedPlan, env?: CheckedEnvironment): string[] {
  const p = plan.plan;
  const total = p.steps.length;
  return [
    `Ceremony ${p.ceremony.id}: ${p.ceremony.purpose}`,
    `  location:     ${p.ceremony.location}`,
    `  plan:         ${plan.path}`,
    `  plan SHA-256: ${groupHexLines(plan.sha256).join('\n                ')}`,
    `  participants: ${p.participants.map((x) => `${x.name} (${x.role.replace('-', ' ')})`).join(', ')}`,
    ...plan.resolved.map((r, i) => `  Step ${i + 1} of ${total}: ${stepWords(r)}${r.notBefore ? ` (notBefore ${r.notBefore.toISOString()}${r.validityDays ? `, ${r.validityDays} days` : ''})` : ''}${r.input ? ` [${r.input.path}, SHA-256 ${groupHex(r.input.sha256)}]` : ''}`),
    ...(env
      ? [
          `Environment ${env.path}`,
          `  SHA-256:      ${groupHexLines(env.sha256).join('\n                ')}`,
          ...Object.entries(env.tokens).map(([role, t]) => `  ${role} token:     ${t!.lib}, ${t!.token ? `label "${t!.token}"` : t!.token_serial ? `serial ${t!.token_serial}` : `slot ${t!.slot}`}, user PIN from $${t!.pin_env}${t!.so_pin_env ? `, SO PIN from $${t!.so_pin_env}` : ''}`),
        ]
      : []),
  ];
}

/** `ceremony check PLAN --env ENV` */
export function ceremonyCheck(planPath: string, o: { env: string }): void {
  const { plan, env } = load(planPath, o.env);
  emit({ planSha256: plan.sha256, environmentSha256: env.sha256, ceremony: plan.plan.ceremony, participants: plan.plan.participants, steps: plan.resolved.map((r, i) => ({ n: i + 1, id: r.step.id, type: r.step.type, words: stepWords(r), input: r.input })) }, () => [...planLines(plan, env), 'The plan and the environment are valid; nothing was done.']);
}

/** `ceremony run PLAN --env ENV --out DIR [--rehearsal]` */
export async function ceremonyRun(planPath: string, o: { env: string; out: string; rehearsal?: boolean; preflightJustification?: string; clockWitness?: string; clockReference?: string }): Promise<void> {
  if (!!o.clockWitness !== !!o.clockReference) throw new QpkiError('INPUT_INVALID', 'Give --clock-reference TIME and --clock-witness NAME together: the witness who read the reference clock, and what it said.');
  // The plan names who is there; a second list on the command line could only contradict it.
  if (ceremonyGiven()) throw new QpkiError('INPUT_INVALID', 'ceremony run takes its participants and purpose from the plan; drop --operator, --witness and --purpose.');
  const { plan, env } = load(planPath, o.env);
  writeErr(planLines(plan, env).join('\n') + '\n');
  if (o.rehearsal) writeErr('REHEARSAL: this run is recorded as a rehearsal.\n');
  const m = await runPlan(plan, env, { out: o.out, rehearsal: o.rehearsal, preflightJustification: o.preflightJustification, clockCheck: o.clockWitness ? { witness: o.clockWitness, referenceTime: o.clockReference! } : undefined, app: appFingerprint(appRoot()), progress: (l) => writeErr(`${l}\n`) });
  emit(m, () => [
    `Ceremony ${m.ceremonyId} ${m.rehearsal ? '(rehearsal) ' : ''}completed: ${m.steps.length} steps, recorded in ${join(o.out, 'journal.jsonl')}`,
    ...m.steps.flatMap((s) => s.outputs.filter((x) => x.sha256).map((x) => `  step ${s.n} ${s.id}: ${x.path}  SHA-256 ${groupHex(x.sha256!)}`)),
  ]);
}

/** `ceremony compare REHEARSAL_DIR RUN_DIR` */
export function ceremonyCompare(rehearsal: string, run: string): void {
  const r = compareRuns(rehearsal, run);
  if (r.differences.length) {
    emit(r, () => [`${r.differences.length} difference(s) between ${rehearsal} and ${run}:`, ...r.differences.map((d) => `  ${d.where}: ${d.field}\n    rehearsal: ${d.rehearsal}\n    run:       ${d.run}`)]);
    throw new QpkiError('RUNS_DIFFER', `The runs differ in ${r.differences.length} place(s) (listed above), beyond keys, serials, signatures and times.`);
  }
  emit(r, () => [`The runs agree: ${r.compared} documents compared; only keys, serials, signatures and times differ.`]);
}
