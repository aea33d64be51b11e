#!/usr/bin/env node
/**
 * The sessiond command: `serve` runs the server; the other commands call a running server through
 * the typed client, like any consumer. Exit codes: 0 success, 1 the call failed, 2 bad usage.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createSessionClient } from "@sessiond/client";
import { EventSource } from "eventsource";
import type { Metadata } from "@sessiond/shared";
import { describeSettings } from "@sessiond/server/config";
import { addLocalCommands, CommandError } from "./local-commands.ts";
import { describeError, errorJson, printDeleted, printEvent, printPage, printSession } from "./output.ts";

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

// A reader that has read enough closes the pipe (`sessiond openapi | head -1`, `sessiond watch | grep
// -m1 ...`): nobody wants the rest, so stop quietly instead of dying on the failed write.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? 0);
  });
}

function parseMetadata(text: string): Metadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError("not valid JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new InvalidArgumentError("must be a JSON object");
  return value as Metadata;
}

function parsePositiveInt(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new InvalidArgumentError("must be a positive integer");
  return Number(text);
}

interface GlobalOptions {
  url: string;
  token?: string;
  owner?: string;
  json: boolean;
}

// With --json, a usage problem is JSON on stdout too (commander would write it to stderr).
const jsonErrors = process.argv.includes("--json");

const program = new Command("sessiond")
  .description("sessiond: typed sessions with caller-chosen IDs")
  .addOption(new Option("--url <url>", "server to call").env("SESSIOND_URL").default("http://127.0.0.1:3000"))
  .addOption(
    new Option("--token <token>", "bearer token, if the server requires one: a JWT naming your owner, or the operator's token").env(
      "SESSIOND_TOKEN",
    ),
  )
  .addOption(new Option("--owner <owner>", "with the operator's token: act for this owner (Sessiond-Owner)").env("SESSIOND_OWNER"))
  .option("--json", "print machine-readable JSON", false)
  .showHelpAfterError()
  // Options before a command belong to sessiond, after it to the command: `serve --token` is the
  // server's token, `list --json` the list's output.
  .enablePositionalOptions()
  .exitOverride();
// Set before any command is added: commands copy it from the program.
if (jsonErrors) program.configureOutput({ writeErr: () => {}, outputError: () => {} });

/** A command that calls a server: it also takes --url, --token and --json after its name. */
function clientCommand(name: string): Command {
  return program
    .command(name)
    .option("--url <url>", "server to call (default: see sessiond --help)")
    .option("--token <token>", "bearer token")
    .option("--owner <owner>", "with the operator's token: act for this owner")
    .option("--json", "print machine-readable JSON");
}

/** Runs a client command: prints its result, or one line on stderr and a non-zero exit. */
function clientAction<A extends unknown[]>(
  run: (client: ReturnType<typeof createSessionClient>, global: GlobalOptions, ...args: A) => Promise<void>,
) {
  return async (...args: A) => {
    const command = args.at(-1) as Command;
    const local = command.opts<Partial<GlobalOptions>>();
    const defaults = program.opts<GlobalOptions>();
    const global: GlobalOptions = {
      url: local.url ?? defaults.url,
      token: local.token ?? defaults.token,
      owner: local.owner ?? defaults.owner,
      json: Boolean(local.json || defaults.json),
    };
    try {
      await run(createSessionClient({ url: global.url, token: global.token, owner: global.owner, EventSource }), global, ...args);
    } catch (error) {
      fail(error, global.json, global.url);
    }
  };
}

/** Reports a failed command: one line on stderr, or with --json `{"error": {code, message, ...}}` on stdout. */
function fail(error: unknown, asJson: boolean, url: string, exitCode = EXIT_FAILED): void {
  if (asJson) process.stdout.write(`${JSON.stringify(errorJson(error, url))}\n`);
  else process.stderr.write(`sessiond: ${describeError(error, url)}\n`);
  process.exitCode = exitCode;
}

/** Runs a command that needs no server (local-commands.ts), with the same error reporting. */
function localAction(action: (json: boolean, ...args: string[]) => Promise<void> | void) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const json = Boolean(command.opts<{ json?: boolean }>().json || program.opts<GlobalOptions>().json);
    try {
      await action(json, ...(args.slice(0, -2) as string[]));
    } catch (error) {
      fail(error, json, program.opts<GlobalOptions>().url, error instanceof CommandError ? EXIT_FAILED : EXIT_USAGE);
    }
  };
}

const serveCommand = program
  .command("serve")
  .description("run the server (SQLite by default, PostgreSQL with a postgres:// --db)")
  .action(async (flags) => {
    // Commander sets console: true unless --no-console is given; leave it unset then, so that
    // SESSIOND_CONSOLE still applies.
    if (flags.console === true) delete flags.console;
    const { serve } = await import("@sessiond/server/serve");
    process.exitCode = await serve(flags);
  });
// Defaults go in the help text, not commander's .default(): a default given to commander would
// count as a flag and hide the environment.
for (const setting of describeSettings()) {
  const env = setting.env.join(" or ");
  if (setting.key === "console")
    serveCommand.option("--no-console", `do not serve the console page at / (default: ${setting.default}) [env ${env}=off]`);
  else {
    const byDefault = setting.default === undefined ? "" : ` (default: ${setting.default})`;
    serveCommand.option(`${setting.flag} <value>`, `${setting.help}${byDefault} [env ${env}]`);
  }
}

clientCommand("create")
  .description("create a session")
  .option("--id <id>", "the session's ID (default: generated)")
  .option("--title <title>", 'title (default: "New session - <time>")')
  .option("--parent <id>", "parent session ID")
  .option("--metadata <json>", "metadata, a JSON object", parseMetadata)
  .option("--idempotency-key <key>", "retrying with the same key (and the same options) returns the first result")
  .action(
    clientAction(
      async (client, global, flags: { id?: string; title?: string; parent?: string; metadata?: Metadata; idempotencyKey?: string }) => {
        const session = await client.session.create.mutate({
          id: flags.id,
          title: flags.title,
          parentId: flags.parent,
          metadata: flags.metadata,
          idempotencyKey: flags.idempotencyKey,
        });
        printSession(session, global.json);
      },
    ),
  );

clientCommand("get")
  .description("show a session")
  .argument("<id>")
  .action(
    clientAction(async (client, global, id: string) => {
      printSession(await client.session.get.query({ id }), global.json);
    }),
  );

clientCommand("list")
  .description("list sessions, newest first")
  .option("--limit <n>", "page size (default 50, at most 200)", parsePositiveInt)
  .option("--cursor <cursor>", "the next-page cursor a previous list printed")
  .option("--parent <id>", "only the direct children of this session")
  .option("--roots", "only sessions without a parent")
  .action(
    clientAction(async (client, global, flags: { limit?: number; cursor?: string; parent?: string; roots?: boolean }) => {
      const page = await client.session.list.query({
        limit: flags.limit,
        cursor: flags.cursor,
        parentId: flags.parent,
        roots: flags.roots,
      });
      printPage(page, global.json);
    }),
  );

clientCommand("children")
  .description("list a session's direct children, newest first")
  .argument("<id>")
  .option("--limit <n>", "page size (default 50, at most 200)", parsePositiveInt)
  .option("--cursor <cursor>", "the next-page cursor a previous call printed")
  .action(
    clientAction(async (client, global, id: string, flags: { limit?: number; cursor?: string }) => {
      printPage(await client.session.children.query({ id, limit: flags.limit, cursor: flags.cursor }), global.json);
    }),
  );

clientCommand("update")
  .description("change a session's title, metadata or archived state")
  .argument("<id>")
  .option("--title <title>", "new title")
  .option("--metadata <json>", "new metadata, a JSON object (replaces the old)", parseMetadata)
  .addOption(new Option("--archive", "archive the session").conflicts("unarchive"))
  .option("--unarchive", "unarchive the session")
  .option("--expected-revision <n>", "fail unless the session is at this revision", parsePositiveInt)
  .action(
    clientAction(
      async (
        client,
        global,
        id: string,
        flags: { title?: string; metadata?: Metadata; archive?: boolean; unarchive?: boolean; expectedRevision?: number },
      ) => {
        const session = await client.session.update.mutate({
          id,
          title: flags.title,
          metadata: flags.metadata,
          archived: flags.archive ? true : flags.unarchive ? false : undefined,
          expectedRevision: flags.expectedRevision,
        });
        printSession(session, global.json);
      },
    ),
  );

clientCommand("delete")
  .description("delete a session and all its descendants")
  .argument("<id>")
  .option("--expected-revision <n>", "fail unless the session is at this revision", parsePositiveInt)
  .action(
    clientAction(async (client, global, id: string, flags: { expectedRevision?: number }) => {
      printDeleted(await client.session.delete.mutate({ id, expectedRevision: flags.expectedRevision }), global.json);
    }),
  );

function parseEventId(text: string): string {
  if (!/^\d{1,15}$/.test(text)) throw new InvalidArgumentError("must be an event ID (digits; 0 for every retained event)");
  return text;
}

clientCommand("watch")
  .description("print session events as they happen, until interrupted")
  .option("--since <id>", "start after this event ID (0: every retained event; default: from now)", parseEventId)
  .option("--session <id>", "only this session and its descendants")
  .option("--roots", "only sessions without a parent")
  .action(
    clientAction(async (client, global, flags: { since?: string; session?: string; roots?: boolean }) => {
      await new Promise<void>((resolve, reject) => {
        const subscription = client.session.events.subscribe(
          { lastEventId: flags.since, sessionId: flags.session, roots: flags.roots },
          {
            onData: ({ id, data }) => printEvent(id, data, global.json),
            onError: (error) => {
              subscription.unsubscribe();
              reject(error);
            },
            onComplete: resolve,
          },
        );
        const stop = () => {
          subscription.unsubscribe();
          resolve();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    }),
  );
addLocalCommands(program, localAction);

try {
  await program.parseAsync();
} catch (error) {
  // Commander has already printed the usage problem (or the help / version text).
  if (!(error instanceof CommanderError)) throw error;
  if (jsonErrors && error.exitCode !== 0) {
    process.stdout.write(`${JSON.stringify({ error: { code: "USAGE", message: error.message.replace(/^error: /, "") } })}\n`);
  }
  process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
}
