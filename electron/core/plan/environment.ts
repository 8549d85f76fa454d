/**
 * Where a ceremony plan runs: for each token role the plan uses (`ca`, `backup`), QPKI's
 * hsm.yaml shape (`type: pkcs11`, `pkcs11: { lib, token | token_serial | slot, pin_env }`),
 * extended with `so_pin_env` for a plan that initializes the token. It names PIN sources, never a
 * PIN. The rehearsal and the production run differ only in this file.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { QpkiError } from '../errors';
import { checkSchema, parseStrictYaml, type StrictYaml } from './strictYaml';
import { TOKEN_ROLES, tokenRolesUsed, type CeremonyPlan, type TokenRole } from './plan';

const envVar = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const tokenSchema = z.strictObject({
  type: z.literal('pkcs11'),
  pkcs11: z.strictObject({
    lib: z.string().min(1),
    /** The token's label: for a token-init step, the label it is given. */
    token: z.string().min(1).max(32).optional(),
    token_serial: z.string().min(1).optional(),
    slot: z.union([z.number().int().min(0), z.string().regex(/^\d+$/)]).optional(),
    pin_env: envVar,
    so_pin_env: envVar.optional(),
  }),
});

const envSchema = z.strictObject({
  version: z.literal(1),
  tokens: z.partialRecord(z.enum(TOKEN_ROLES), tokenSchema),
});

export type TokenEnvironment = z.infer<typeof tokenSchema>['pkcs11'];

export interface CheckedEnvironment {
  tokens: Partial<Record<TokenRole, TokenEnvironment>>;
  sha256: string;
  bytes: Buffer;
  path: string;
}

const SECRET_WORDS = /^(pin|so_pin|user_pin|passphrase|password|secret)$/i;

function findSecret(v: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (SECRET_WORDS.test(k)) return [...path, k];
      const p = findSecret(x, [...path, k]);
      if (p) return p;
    }
  }
  return undefined;
}

/** Read and check an environment file against the plan it will run (every role the plan uses is named). */
export function loadEnvironment(path: string, plan: CeremonyPlan): CheckedEnvironment {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new QpkiError('PLAN_ENV_INVALID', `Cannot read the environment file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`);
  }
  const what = `Environment file ${path}`;
  const yaml = parseStrictYaml(bytes, what, 'PLAN_ENV_INVALID');
  const fail: StrictYaml['fail'] = yaml.fail;
  // A PIN written into the file is refused before anything else is said about it, and never repeated.
  const secret = findSecret(yaml.value);
  if (secret) fail(`"${secret[secret.length - 1]}" would hold a secret; a PIN is never written in a file: name the environment variable that holds it (pin_env, so_pin_env)`, secret);
  const checked = checkSchema(yaml, envSchema);
  const tokens: Partial<Record<TokenRole, TokenEnvironment>> = {};
  for (const [role, t] of Object.entries(checked.tokens)) if (t) tokens[role as TokenRole] = t.pkcs11;
  for (const role of tokenRolesUsed(plan)) {
    const t = tokens[role];
    if (!t) fail(`the plan uses the ${role} token; name it under tokens.${role}`, ['tokens']);
    const at = ['tokens', role, 'pkcs11'];
    const initializes = plan.steps.some((s) => s.type === 'token-init' && s.token === role);
    if (initializes) {
      if (!t!.token) fail(`the plan initializes the ${role} token: give the label it gets as token`, at);
      if (!t!.so_pin_env) fail(`the plan initializes the ${role} token: name the security officer's PIN variable as so_pin_env`, at);
      if (t!.token_serial) fail(`the plan initializes the ${role} token, which gets a new serial: name it by its label (token), and the slot of the blank token if there are several`, [...at, 'token_serial']);
    } else if (!t!.token && !t!.token_serial && t!.slot === undefined) {
      fail(`name the ${role} token with token (label), token_serial or slot`, at);
    }
    if (t!.so_pin_env && t!.so_pin_env === t!.pin_env) fail('so_pin_env and pin_env must be two variables: the security officer and the user hold different PINs', [...at, 'so_pin_env']);
  }
  return { tokens, sha256: createHash('sha256').update(bytes).digest('hex'), bytes, path };
}
