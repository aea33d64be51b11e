/**
 * The commands that need no server: `sessiond id new|derive|decode` (the shared ID module) and
 * `sessiond openapi` (the REST routes' document, for the default limits).
 */
import type { Command } from "commander";
import { decodeSessionIdTime, deriveSessionId, generateSessionId, sessionIdProblem } from "@sessiond/shared";

/** A failure of a local command, reported like a server's error (code and message). */
export class CommandError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

type Run = (action: (json: boolean, ...args: string[]) => Promise<void> | void) => (...args: unknown[]) => Promise<void>;

function print(value: unknown, json: boolean, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

export function addLocalCommands(program: Command, run: Run): void {
  const id = program.command("id").description("make and inspect session IDs, locally");
  id.command("new")
    .description("print a fresh session ID")
    .option("--json", "print machine-readable JSON")
    .action(
      run((json) => {
        const fresh = generateSessionId();
        print({ id: fresh }, json, fresh);
      }),
    );
  id.command("derive")
    .description("print the session ID derived from KEY (the same key always gives the same ID)")
    .argument("<key>")
    .option("--json", "print machine-readable JSON")
    .action(
      run((json, key) => {
        if (!key) throw new CommandError("BAD_REQUEST", "the key must not be empty");
        const derived = deriveSessionId(key);
        print({ id: derived, key }, json, derived);
      }),
    );
  id.command("decode")
    .description("check a session ID and print the creation time a generated one carries")
    .argument("<id>")
    .option("--json", "print machine-readable JSON")
    .action(
      run((json, text) => {
        const problem = sessionIdProblem(text ?? "");
        if (problem) throw new CommandError("BAD_REQUEST", `invalid session ID: ${problem}`);
        const time = decodeSessionIdTime(text!).toISOString();
        print({ id: text, time }, json, `${text}  ${time}  (meaningful only for generated IDs)`);
      }),
    );

  program
    .command("openapi")
    .description("print the OpenAPI 3.1 document of the REST routes (as GET /openapi.json serves it)")
    .action(
      run(async () => {
        const { createOpenApiDocument, createRouteTable, VERSION } = await import("@sessiond/server");
        process.stdout.write(`${JSON.stringify(createOpenApiDocument(createRouteTable(), { version: VERSION }), null, 2)}\n`);
      }),
    );
}
