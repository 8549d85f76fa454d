/**
 * The profile variable rules, shared so the form checks a value exactly as main will check it
 * again before signing. core/profiles/rules.ts is pure (no Node) by design; this is its only door
 * into the renderer.
 */
export { validateVariable, isListType, VARIABLE_TYPES, MAX_VALUE_LENGTH } from '../electron/core/profiles/rules';
export type { VariableDef, VariableType, VariableValue } from '../electron/core/profiles/rules';
