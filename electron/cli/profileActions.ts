/** `qpki profile …`: the built-in certificate profiles. */
import { listProfiles, loadProfile } from '../core/profiles/index';
import { emit } from './output';

/** `profile list` */
export function profileList(): void {
  const all = listProfiles();
  emit(all, () => all.map((p) => `${p.name.padEnd(30)} ${p.algorithm}${p.altAlgorithm ? ' + ' + p.altAlgorithm : ''}${p.isCa ? '  CA' : ''}  ${p.description}`));
}

/** `profile show` */
export function profileShow(name: string): void {
  const p = loadProfile(name);
  emit(p, () => [`${p.name}: ${p.description}`, `  algorithm: ${p.algorithm}${p.altAlgorithm ? ' + ' + p.altAlgorithm : ''}, validity ${p.validityDays} days, CA: ${p.isCa}`, '  variables:', ...p.variables.map((v) => `    ${v.name} (${v.type}${v.required ? ', required' : ''}${v.default !== undefined ? `, default ${JSON.stringify(v.default)}` : ''})${v.description ? ' — ' + v.description : ''}`)]);
}
