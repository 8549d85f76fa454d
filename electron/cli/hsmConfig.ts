import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { QpkiError } from '../core/errors';
import { parseYamlSafe } from '../core/profiles/loader';

/** QPKI's hsm.yaml: `type: pkcs11`, `pkcs11: { lib, token | token_serial | slot, pin_env }`. Built on first use. */
const buildSchema = () => z.object({
  type: z.literal('pkcs11'),
  pkcs11: z
    .object({
      lib: z.string().min(1),
      token: z.string().optional(),
      token_serial: z.string().optional(),
      slot: z.union([z.number().int(), z.string()]).optional(),
      pin_env: z.string().optional(),
    })
    .strict(),
});

let schema: ReturnType<typeof buildSchema> | undefined;

export type HsmConfig = z.infer<ReturnType<typeof buildSchema>>['pkcs11'];

export function loadHsmConfig(path: string): HsmConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new QpkiError('INPUT_INVALID', `Cannot read the HSM configuration ${path}.`);
  }
  const doc = parseYamlSafe(text, `HSM configuration ${path}`, 'INPUT_INVALID');
  const r = (schema ??= buildSchema()).safeParse(doc, { jitless: true });
  if (!r.success) {
    const i = r.error.issues[0];
    throw new QpkiError('INPUT_INVALID', `HSM configuration ${path}: ${i.path.join('.') || '(root)'}: ${i.message}. Expected type: pkcs11 and pkcs11: {lib, token | token_serial, pin_env}.`);
  }
  if ((r.data.pkcs11 as Record<string, unknown>).pin !== undefined) throw new QpkiError('INPUT_INVALID', 'A PIN must never be stored in the HSM configuration; use pin_env.');
  return r.data.pkcs11;
}
