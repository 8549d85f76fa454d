/**
 * The environment of a child process: named variables only, never a copy of ours. Our own
 * environment may hold a secret — `qpki … --pkcs11-pin-env QPKI_PIN` reads the PIN from it — and
 * a child inherits whatever it is given, passes it on to its own children, and shows it in
 * /proc/<pid>/environ for as long as it runs. So a child gets what it needs to run, and nothing
 * that names a token, a PIN or a passphrase (SOFTHSM2_CONF and QPKI_* stay behind too).
 */

/** Inherited when set: none is a secret, each is what a program needs to find its tools, locale and fonts. */
export const INHERITED_VARIABLES = ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'FONTCONFIG_FILE', 'FONTCONFIG_PATH'] as const;

/**
 * The child's environment: the inherited variables that are set in `from`, then `set` (for
 * example HOME, pointed at a private folder). Nothing else.
 */
export function childEnv(set: Readonly<Record<string, string>> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_VARIABLES) {
    const v = from[name];
    if (v !== undefined) env[name] = v;
  }
  return { ...env, ...set };
}
