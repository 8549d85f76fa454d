/**
 * The shape of a profile YAML file, following QPKI's schema. Objects are strict: a misspelled
 * or unsupported key (an unknown extension above all) is refused rather than silently ignored,
 * because an ignored line in a CA profile is a certificate that differs from what was reviewed.
 */
import type * as z from 'zod';
import type { buildSchemas } from './schemaBuild';

export const SUBJECT_KEYS = ['c', 'st', 'l', 'o', 'ou', 'cn', 'serialNumber'] as const;
export type SubjectKey = (typeof SUBJECT_KEYS)[number];

type Schemas = ReturnType<typeof buildSchemas>;
export type RawVariable = z.infer<Schemas['VariableSchema']>;
export type RawExtensions = z.infer<Schemas['ExtensionsSchema']>;
export type RawProfile = z.infer<Schemas['ProfileSchema']>;

let schemas: Schemas | undefined;

/** The profile document schema (built on first use). */
export const ProfileSchema = {
  // jitless: zod's compiled fast path costs more to generate than a profile or two take to check.
  safeParse: (doc: unknown) => (schemas ??= (require('./schemaBuild') as typeof import('./schemaBuild')).buildSchemas()).ProfileSchema.safeParse(doc, { jitless: true }),
};
