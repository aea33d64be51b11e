/**
 * The environment of every process a test starts: this process's, without the settings that
 * would change what the process does behind the test's back (a shell's `SESSIOND_DB`, `PORT`,
 * `PGHOST`...). The test gives the process what it needs, and nothing else leaks in.
 */

/** Every variable the server's configuration reads (server/src/config.ts), the CLI's own, and the PostgreSQL client's defaults. */
const SETTINGS_ENV = /^(SESSIOND_\w+|HOST|PORT|DATABASE_URL|LOG_LEVEL|PG[A-Z]+)$/;

/** This process's environment without any such setting, plus `env`. */
export function cleanEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS_ENV.test(name)));
  return { ...clean, ...env };
}
