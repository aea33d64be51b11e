/**
 * Headless Chromium from Debian's `chromium` package, driven by playwright-core (which downloads
 * no browser of its own). Where Chromium is missing the browser tests are skipped and the global
 * setup says so; under CI=true that is a failure instead (.ci/run installs the package).
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { cleanEnv } from "./env.ts";

// Not packed.ts's ROOT: the global setup imports this file, and packed.ts cannot load there.
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null. The global setup says so once per run (and fails under CI). */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install -y chromium)`;
}

/** For `describe.skipIf`: true where the browser tests cannot run. */
export function browserUnavailable(): boolean {
  return chromiumMissing() !== null;
}

/**
 * Root may not use Chromium's sandbox; the rest keeps it from reaching out to Google's services,
 * which this machine's closed network refuses.
 */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, env: cleanEnv() });
}

/** The typed client and the ID helpers, bundled for the browser as a page would ship them. */
export async function bundleBrowserClient(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `export { createSessionClient, isConflict, isSessionClientError } from "@sessiond/client";
export { generateSessionId } from "@sessiond/shared/id";
export { EventSource } from "eventsource";`,
      resolveDir: ROOT,
      loader: "js",
    },
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["@sessiond/source"],
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

export interface StaticSite {
  /** e.g. http://127.0.0.1:40123, an origin of its own */
  url: string;
  /** The files it serves, by path; may be changed while it runs. */
  files: Record<string, { type: string; body: string }>;
  close(): Promise<void>;
}

/** Serves fixed files on a loopback port of its own: another origin than sessiond's. */
export async function serveStatic(files: Record<string, { type: string; body: string }>): Promise<StaticSite> {
  const server: Server = createServer((req, res) => {
    const file = files[(req.url ?? "/").split("?")[0]!];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": file.type }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
