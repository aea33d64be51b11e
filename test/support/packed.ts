/**
 * A consumer project outside the repository with every package installed from its `npm pack`
 * tarball, as a user would get them: built JavaScript and declarations only, no sources, no
 * workspace links. For the packed-install and browser tests.
 */
import { execFileSync, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { inject } from "vitest";
import { cleanEnv, spawnProcess } from "./process.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export interface Tarball {
  name: string;
  file: string;
  /** Compressed size in bytes. */
  size: number;
  files: string[];
}

export interface PackedInstall {
  dir: string;
  tarballs: Tarball[];
  /** What the README's pack and install commands printed (stdout and stderr), npm's warnings included. */
  installOutput: string;
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
  for (const [key, value] of Object.entries(cleanEnv())) {
    // The test runner's own settings (NODE_ENV=test makes a bundler build React's development copy).
    if (key === "NODE_OPTIONS" || key === "NODE_ENV" || key.startsWith("VITEST") || key.toLowerCase().startsWith("npm_")) continue;
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

/** PATH without the project's own Node (node_modules/.bin): the machine's, as a consumer's shell has it. */
function systemPath(): string {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes("node_modules"))
    .join(delimiter);
}

/**
 * The README's commands for another project, split where they change to the project's folder:
 * packing here, then installing there.
 */
function readmeInstallCommands(): { pack: string; install: string } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const commands = /## Use from another project[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!commands) throw new Error('README.md has no sh block under "## Use from another project"');
  const cut = commands.indexOf('cd "$PROJECT"');
  if (cut === -1) throw new Error('the README\'s commands for another project no longer change to "$PROJECT"');
  return { pack: commands.slice(0, cut), install: commands.slice(cut) };
}

export interface PackedTarballs {
  /** The folder holding one tarball per package. */
  dir: string;
  /** What the README's pack command printed (stdout and stderr), npm's and the builds' warnings included. */
  output: string;
}

let packing: Promise<PackedTarballs> | undefined;

/**
 * Every package packed by the README's own pack command, once per test run: the first test file
 * to ask packs into the run's folder (global-setup.ts), the others wait for it. One pack instead
 * of one per file is faster, and it keeps the builds that packing runs (each cleans its package's
 * dist/ first) from overlapping.
 */
export function packedTarballs(): Promise<PackedTarballs> {
  packing ??= packOncePerRun();
  return packing;
}

async function packOncePerRun(): Promise<PackedTarballs> {
  // Without a run folder (a project whose global setup provides none), this file packs for itself.
  let run = inject("runDir");
  if (!run) {
    const own = mkdtempSync(join(tmpdir(), "sessiond-pack-"));
    process.once("exit", () => rmSync(own, { recursive: true, force: true }));
    run = own;
  }
  const dir = join(run, "tarballs");
  const outputFile = join(run, "pack-output.txt");
  const failedFile = join(run, "pack-failed.txt");
  let mine = true;
  try {
    mkdirSync(join(run, "pack.lock"));
  } catch {
    mine = false;
  }
  if (mine) {
    try {
      const partial = join(run, "tarballs.partial");
      mkdirSync(partial);
      // npm on the machine's own Node, as a consumer runs it (npm pack's builds still get the project's Node 24).
      const pack = spawnSync("bash", ["-e", "-c", readmeInstallCommands().pack], {
        cwd: ROOT,
        env: outsideEnv({ PACKAGES: partial, PATH: systemPath() }),
        encoding: "utf8",
        timeout: 180_000,
      });
      const output = `${pack.stdout}${pack.stderr}`;
      if (pack.status !== 0) throw new Error(`the README's pack command failed (${pack.status ?? pack.signal}): ${output}`);
      writeFileSync(outputFile, output);
      renameSync(partial, dir);
    } catch (error) {
      // The files waiting for this pack fail with the same error instead of waiting it out.
      writeFileSync(failedFile, String(error));
      throw error;
    }
  } else {
    for (const deadline = Date.now() + 240_000; !existsSync(dir); await new Promise((resolve) => setTimeout(resolve, 100))) {
      if (existsSync(failedFile)) throw new Error(`packing in another test file failed: ${readFileSync(failedFile, "utf8")}`);
      if (Date.now() > deadline) throw new Error(`no tarballs in ${dir} after 4 minutes of waiting for another test file to pack them`);
    }
  }
  return { dir, output: readFileSync(outputFile, "utf8") };
}

/** The packed tarball of each of these workspace folders (e.g. "shared", "client"). */
function tarballsOf(packed: PackedTarballs, workspaces: string[]): string[] {
  const files = readdirSync(packed.dir);
  return workspaces.map((workspace) => {
    const file = files.find((name) => new RegExp(`^sessiond-${workspace}-\\d+\\.\\d+\\.\\d+\\.tgz$`).test(name));
    if (!file) throw new Error(`no tarball of ${workspace} among ${files.join(", ")}`);
    return join(packed.dir, file);
  });
}

/**
 * Runs the README's commands for another project: the packages packed (once per run, see
 * packedTarballs), installed in a fresh folder.
 */
export async function createPackedInstall(): Promise<PackedInstall> {
  const packed = await packedTarballs();
  const dir = mkdtempSync(join(tmpdir(), "sessiond-consumer-"));
  const packages = packed.dir;
  const app = join(dir, "app");
  const run = (command: string, args: string[], cwd: string, env = outsideEnv()) =>
    execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
  try {
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // npm on the machine's own Node, as a consumer runs it (its scripts still get the project's Node 24).
    const install = spawnSync("bash", ["-e", "-c", readmeInstallCommands().install], {
      cwd: ROOT,
      env: outsideEnv({ PACKAGES: packages, PROJECT: app, PATH: systemPath() }),
      encoding: "utf8",
      timeout: 180_000,
    });
    if (install.status !== 0) throw new Error(`the README's install commands failed: ${install.stderr}`);
    const tarballs = readdirSync(packages).map((filename) => {
      const file = join(packages, filename);
      const files = run("tar", ["-tzf", file], packages)
        .trim()
        .split("\n")
        .map((path) => path.replace(/^package\//, ""));
      return { name: `@sessiond/${/^sessiond-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(filename)?.[1]}`, file, size: statSync(file).size, files };
    });
    return {
      dir: app,
      tarballs,
      installOutput: `${packed.output}${install.stdout}${install.stderr}`,
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
  const child = spawnProcess(
    node,
    [bin, "serve", "--host", "127.0.0.1", "--port", "0", "--db", join(install.dir, "sessions.db"), ...args],
    {
      cwd: install.dir,
      env: outsideEnv({ LOG_LEVEL: "info" }),
    },
  );
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

export interface ExampleInstall {
  /** The example's copy, with its dependencies installed. */
  dir: string;
  /** Runs one of the example's installed commands (node_modules/.bin) on the machine's Node; throws with its output. */
  bin(name: string, args: string[]): string;
  /** `npm ls --json` of these packages, as the installed tree has them. */
  versions(names: string[]): Record<string, string[]>;
  remove(): void;
}

/** Every version of a package anywhere in an `npm ls --all --json` tree. */
function collectVersions(
  tree: { dependencies?: Record<string, { version?: string; dependencies?: object }> },
  found: Map<string, Set<string>>,
): void {
  for (const [name, node] of Object.entries(tree.dependencies ?? {})) {
    if (node.version) found.set(name, (found.get(name) ?? new Set()).add(node.version));
    collectVersions(node as never, found);
  }
}

/**
 * An example of examples/ as a user gets it: copied outside the repository, the named workspace
 * packages' tarballs (packed once per run, see packedTarballs) installed beside the example's own
 * dependencies.
 */
export async function installExample(name: string, workspaces: string[]): Promise<ExampleInstall> {
  const packed = await packedTarballs();
  const dir = mkdtempSync(join(tmpdir(), `sessiond-example-${name}-`));
  const app = join(dir, name);
  const env = outsideEnv({ PATH: systemPath() });
  const run = (command: string, args: string[], cwd: string) => {
    const result = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 180_000, maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  };
  try {
    cpSync(join(ROOT, "examples", name), app, { recursive: true, filter: (source) => !/\/(node_modules|dist)(\/|$)/.test(source) });
    const files = tarballsOf(packed, workspaces);
    run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...files], app);
    return {
      dir: app,
      bin: (command, args) => run(join(app, "node_modules", ".bin", command), args, app),
      versions(names) {
        const found = new Map<string, Set<string>>();
        collectVersions(JSON.parse(run("npm", ["ls", "--all", "--json"], app)), found);
        return Object.fromEntries(names.map((package_) => [package_, [...(found.get(package_) ?? [])]]));
      },
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
