#!/usr/bin/env node
// The sessiond command's launcher, plain JavaScript so that any Node can start it.
//
// - In this repository (src/ is present) it runs the TypeScript sources with the workspace's
//   "@sessiond/source" export condition, so development needs no build: in-process when this Node
//   already has the condition (npm sets it from .npmrc), else in a child process that has it.
// - Installed, it runs the built dist/main.js. The client commands run on Node >= 20; `serve`
//   needs node:sqlite (Node >= 22.16). On an older Node it re-runs itself with the Node that the
//   `node` package brings, when the project has it (`npm install node@24`); otherwise `serve` stops
//   with one line saying so.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const MIN_SERVE = [22, 16];
const args = process.argv.slice(2);
const source = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const built = new URL("../dist/main.js", import.meta.url);

function canServe(version) {
  const [major, minor] = version.replace(/^v/, "").split(".").map(Number);
  return major > MIN_SERVE[0] || (major === MIN_SERVE[0] && minor >= MIN_SERVE[1]);
}

/** The `node` package's binary, resolved from the project that installed sessiond, or null. */
function bundledNode() {
  try {
    const binary = join(dirname(createRequire(import.meta.url).resolve("node/package.json")), "bin", "node");
    return existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/**
 * Runs sessiond in a child process and mirrors it: signals go to it, its exit code is ours. The
 * child has a process group of its own, so a signal sent to ours (Ctrl-C in a terminal) reaches it
 * once, through us, not twice (a second SIGTERM would cut its graceful shutdown short).
 */
function runWith(node, nodeArgs) {
  const child = spawn(node, [...nodeArgs, ...args], { stdio: "inherit", detached: true });
  const forward = (signal) => child.kill(signal);
  const signals = ["SIGTERM", "SIGINT", "SIGHUP"];
  for (const signal of signals) process.on(signal, forward);
  child.on("exit", (code, signal) => {
    for (const name of signals) process.off(name, forward);
    if (signal)
      process.kill(process.pid, signal); // die the way the child died
    else process.exit(code ?? 1);
  });
}

const wantsServe = args.includes("serve");
const modern = canServe(process.version);
const node = modern ? process.execPath : bundledNode();
const hasSourceCondition = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].includes(
  "--conditions=@sessiond/source",
);

if (existsSync(source)) {
  if (modern && hasSourceCondition) await import(new URL("../src/main.ts", import.meta.url).href);
  else runWith(node ?? process.execPath, ["--conditions=@sessiond/source", source]);
} else if (modern || (!wantsServe && !node)) {
  await import(built.href);
} else if (node) {
  runWith(node, [fileURLToPath(built)]);
} else {
  process.stderr.write(
    `sessiond: serve needs Node >= ${MIN_SERVE.join(".")} (node:sqlite), this is ${process.version}; install Node 24, or add it to the project: npm install node@24\n`,
  );
  process.exitCode = 1;
}
