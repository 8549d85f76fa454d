/**
 * Certificate profiles: QPKI-style YAML templates, their variables, the subject DN and the
 * X.509 extensions they produce.
 */
export type { Profile, ProfileSummary, SubjectField, VariableDef, VariableValue, VariableValues } from './types';
export { VARIABLE_TYPES, isListType, parseDurationSeconds, validateVariable, type VariableType } from './rules';
export { listProfiles, loadProfile, builtinProfilesDir } from './loader';
export { compileProfile } from './compile';
export { parseVarArgs, loadVarFile, resolveVariables, validityDaysFor } from './variables';
export { buildSubject, renderSubject } from './dn';
export { buildExtensions, subjectKeyIdentifier } from './extensions';
