import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { QpkiError } from '../errors';

/** QPKI's hsm.yaml: `type: pkcs11`, `pkcs11: { lib, token | token_serial | slot, pin_env }`. Built on first use. */
const buildSchema = () => z.object({
  type: z.literal('pkcs11'),
  pkcs11: z.strictObject({
    lib: z.string().check(z.minLength(1)),
    token: z.optional(z.string()),
    token_serial: z.optional(z.string()),
    slot: z.optional(z.union([z.int(), z.string()])),
    pin_env: z.optional(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'))),
  }),
});

let schema: ReturnType<typeof buildSchema> | undefined;

export type HsmConfig = z.infer<ReturnType<typeof buildSchema>>['pkcs11'];

/** Read and check an hsm.yaml; `code` is INPUT_INVALID for the operator's file, CA_INVALID for a CA directory's. */
export function loadHsmConfig(path: string, code: 'INPUT_INVALID' | 'CA_INVALID' = 'INPUT_INVALID'): HsmConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new QpkiError(code, `Cannot read the HSM configuration ${path}.`);
  }
  let doc: unknown;
  try {
    // The profile loader (and its compiler) only when a file is read: a CA's hsm.yaml often never is.
    const { parseYamlSafe } = require('../profiles/loader') as typeof import('../profiles/loader');
    doc = parseYamlSafe(text, `HSM configuration ${path}`, 'INPUT_INVALID');
  } catch (e) {
    throw e instanceof QpkiError ? new QpkiError(code, e.message) : e;
  }
  // A PIN in the file is refused before anything else is said about it (and never repeated).
  if (doc && typeof doc === 'object' && (doc as { pkcs11?: Record<string, unknown> }).pkcs11 && 'pin' in ((doc as { pkcs11: Record<string, unknown> }).pkcs11 ?? {})) {
    throw new QpkiError(code, `HSM configuration ${path} holds a PIN; a PIN must never be stored there: name an environment variable with pin_env.`);
  }
  const r = (schema ??= buildSchema()).safeParse(doc, { jitless: true });
  if (!r.success) {
    const i = r.error.issues[0];
    throw new QpkiError(code, `HSM configuration ${path}: ${i.path.join('.') || '(root)'}: ${i.message}. Expected type: pkcs11 and pkcs11: {lib, token | token_serial, pin_env}.`);
  }
  return r.data.pkcs11;
}
