/**
 * A consumer project outside the repository with every package installed from its `npm pack`
 * tarball, as a user would get them: built JavaScript and declarations only, no sources, no
 * workspace links. For the packed-install and browser tests.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const PACKAGES = ["shared", "client", "console", "server", "cli", "testing"] as const;

export interface Tarball {
  name: string;
  file: string;
  /** Compressed size in bytes. */
  size: number;
  unpackedSize: number;
  files: string[];
}

export interface PackedInstall {
  dir: string;
  tarballs: Tarball[];
  /** Runs a command in the consumer's folder; throws with its output when it fails. */
  run(command: string, args: string[], options?: { node?: string }): string;
  /** Deletes the consumer's folder. */
  remove(): void;
}

/**
 * The environment of a process outside the workspace: without the workspace's source condition
 * (NODE_OPTIONS from .npmrc) and npm's per-project settings, which would point into the repository.
 */
export function outsideEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === "NODE_OPTIONS" || key.toLowerCase().startsWith("npm_")) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** The machine's own Node (the first `node` on PATH outside any node_modules), or this one. */
export function systemNode(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "node");
    if (dir && !dir.includes("node_modules") && existsSync(candidate)) return candidate;
  }
  return process.execPath;
}

const NPM_FLAGS = ["--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];

/** Builds and packs every package, then installs the tarballs (and Node 24) in a fresh folder. */
export function createPackedInstall(): PackedInstall {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-consumer-"));
  const run = (command: string, args: string[], cwd: string, env = outsideEnv()) =>
    execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  try {
    run("npm", ["run", "build", "--silent"], ROOT, process.env);
    mkdirSync(join(dir, "tarballs")); // npm pack does not create it
    const packed = JSON.parse(
      run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", join(dir, "tarballs"), ...PACKAGES.flatMap((pkg) => ["-w", pkg])], ROOT),
    ) as { name: string; filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    mkdirSync(join(dir, "app"));
    const app = join(dir, "app");
    // The node package brings Node 24 for `sessiond serve` on an older system Node; its install
    // script (which fetches the binary) must be allowed, as npm 11 asks.
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module", allowScripts: { node: true } }));
    const tarballs = packed.map((entry) => ({
      name: entry.name,
      file: join(dir, "tarballs", entry.filename),
      size: entry.size,
      unpackedSize: entry.unpackedSize,
      files: entry.files.map((file) => file.path),
    }));
    run("npm", ["install", ...NPM_FLAGS, ...tarballs.map((tarball) => tarball.file), "node@24"], app);
    return {
      dir: app,
      tarballs,
      run: (command, args, options = {}) => run(options.node ?? command, options.node ? [command, ...args] : args, app),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface PackedServer {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stop(): Promise<number | null>;
}

/** Starts the installed `sessiond serve` with the given Node, on a random port, and waits for it. */
export async function startPackedServer(install: PackedInstall, node: string, args: string[] = []): Promise<PackedServer> {
  const bin = join(install.dir, "node_modules", ".bin", "sessiond");
  const child = spawn(node, [bin, "serve", "--host", "127.0.0.1", "--port", "0", "--db", join(install.dir, "sessions.db"), ...args], {
    cwd: install.dir,
    env: outsideEnv({ LOG_LEVEL: "info" }),
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the packed sessiond did not start: ${stderr}`)), 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === "listening" && entry.url) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the packed sessiond exited with ${code} before listening: ${stderr}`));
    });
  });
  return {
    url,
    child,
    stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
