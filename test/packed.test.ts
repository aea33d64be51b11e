/**
 * sessiond as a project outside this repository gets it: every package packed and installed in a
 * fresh folder by the README's own commands ("Use from another project"), then used four ways.
 */
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPackedInstall, outsideEnv, ROOT, startPackedServer, systemNode, type PackedInstall } from "./support/packed.ts";

/** The browser client with the ID helpers, minified and gzipped. */
// 15 kB until superjson 2.2.7 (the version a new install gets) added 1.3 kB minified.
const BROWSER_BUDGET_BYTES = 16 * 1024;
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
/** The machine's own Node's major version. */
const systemNodeMajor = Number(
  execFileSync(systemNode(), ["-p", "process.versions.node.split('.')[0]"], { env: outsideEnv(), encoding: "utf8" }),
);

describe("packed install", () => {
  let install: PackedInstall;
  beforeAll(async () => {
    install = await createPackedInstall();
  }, 240_000);
  afterAll(() => install?.remove());

  it("packs only what a consumer needs: built JavaScript, declarations, the bin", () => {
    const sizes = install.tarballs.map((tarball) => `${tarball.name} ${(tarball.size / 1024).toFixed(1)} kB`);
    console.log(`tarballs: ${sizes.join("; ")}`);
    expect(install.tarballs.map((tarball) => tarball.name).sort()).toEqual([
      "@sessiond/cli",
      "@sessiond/client",
      "@sessiond/console",
      "@sessiond/server",
      "@sessiond/shared",
      "@sessiond/testing",
    ]);
    for (const tarball of install.tarballs) {
      for (const file of tarball.files)
        expect(file, tarball.name).toMatch(/^(package\.json|dist\/.+\.(js|d\.ts)|dist\/console\.html|bin\/sessiond\.js)$/);
      expect(tarball.files, tarball.name).toContain("package.json");
    }
  });

  it("packs and installs on the machine's own Node without a warning (no engine warnings for sessiond's packages, no build warnings)", () => {
    const warnings = install.installOutput.split("\n").filter((line) => /\bwarn\b/i.test(line));
    expect(warnings).toEqual([]);
  });

  it("(a) a plain .mjs on the system Node imports the client and narrows a CONFLICT from the packed sessiond bin", async () => {
    const node = systemNode();
    const server = await startPackedServer(install, node);
    try {
      expect(await (await fetch(`${server.url}/`)).text()).toContain("sessiond console"); // the built console ships too
      writeFileSync(
        join(install.dir, "conflict.mjs"),
        `import { createSessionClient, isConflict } from "@sessiond/client";
import { deriveSessionId, generateSessionId, isSessionId } from "@sessiond/shared";
const client = createSessionClient({ url: process.argv[2] });
const id = deriveSessionId("packed-install");
const created = await client.session.create.mutate({ id, title: "from a packed install" });
const generated = await client.session.create.mutate({ id: generateSessionId() });
try {
  await client.session.create.mutate({ id });
  console.log("no conflict");
} catch (error) {
  if (!isConflict(error)) throw error;
  console.log(JSON.stringify({ node: process.version, created: created.id, generated: isSessionId(generated.id), isDate: created.createdAt instanceof Date, conflict: error.data.conflict.id }));
}
`,
      );
      const output = install.run("conflict.mjs", [server.url], { node });
      const result = JSON.parse(output);
      console.log(`client on ${result.node} (${node}), server from the packed bin`);
      expect(result).toEqual({
        node: expect.any(String),
        created: expect.stringMatching(/^ses_/),
        generated: true,
        isDate: true,
        conflict: result.created,
      });
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("(b) a consumer's tsc sees the real procedure types, not any", () => {
    writeFileSync(
      join(install.dir, "tsconfig.json"),
      JSON.stringify({
        // skipLibCheck off: the published declarations must hold on their own. tRPC's types need
        // the disposable lib.
        compilerOptions: {
          target: "es2022",
          lib: ["es2022", "esnext.disposable", "dom"],
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ["consumer.ts"],
      }),
    );
    writeFileSync(
      join(install.dir, "consumer.ts"),
      `import { createSessionClient, isConflict, type RouterOutputs } from "@sessiond/client";
import { generateSessionId } from "@sessiond/shared/id";

const client = createSessionClient({ url: "http://127.0.0.1:3000" });

export async function typed(): Promise<string> {
  const session = await client.session.create.mutate({ id: generateSessionId(), title: "typed" });
  const created: Date = session.createdAt;
  const page: RouterOutputs["session"]["list"] = await client.session.list.query({ limit: 5 });
  // @ts-expect-error: a title is a string
  await client.session.create.mutate({ title: 42 });
  // @ts-expect-error: there is no such procedure
  await client.session.rename.mutate({ id: session.id });
  try {
    await client.session.get.query({ id: session.id });
  } catch (error) {
    if (isConflict(error)) return error.data.conflict.id;
  }
  return \`\${created.toISOString()} \${page.nextCursor ?? ""}\`;
}
`,
    );
    const tsc = () =>
      execFileSync(bin("tsc"), ["-p", "tsconfig.json"], { cwd: install.dir, env: outsideEnv(), encoding: "utf8", stdio: "pipe" });
    try {
      tsc();
    } catch (error) {
      expect.fail(`tsc failed:\n${(error as { stdout?: string }).stdout}`);
    }

    // The directives are needed: with them removed, both lines are errors.
    const file = join(install.dir, "consumer.ts");
    writeFileSync(
      file,
      `import { createSessionClient } from "@sessiond/client";
const client = createSessionClient({ url: "http://127.0.0.1:3000" });
export const wrongType = client.session.create.mutate({ title: 42 });
export const unknownProcedure = client.session.rename.mutate({});
`,
    );
    let output = "";
    try {
      tsc();
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toMatch(/consumer\.ts\(3,\d+\): error TS2322/);
    expect(output).toMatch(/consumer\.ts\(4,\d+\): error TS2339: Property 'rename' does not exist/);
  });

  /** esbuild's browser bundle of `source`, minified, and its gzipped size. */
  function browserBundle(name: string, source: string): { bundle: Buffer; gzip: number } {
    writeFileSync(join(install.dir, name), source);
    const bundle = execFileSync(bin("esbuild"), [name, "--bundle", "--minify", "--platform=browser", "--format=esm"], {
      cwd: install.dir,
      env: outsideEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    return { bundle, gzip: gzipSync(bundle, { level: 9 }).length };
  }

  it(`(c) esbuild bundles the client with the ID helpers for the browser within ${BROWSER_BUDGET_BYTES / 1024} kB gzip`, () => {
    const { bundle, gzip } = browserBundle(
      "browser.js",
      `import { createSessionClient, isConflict } from "@sessiond/client";
import { generateSessionId } from "@sessiond/shared/id";
window.sessiond = { createSessionClient, isConflict, generateSessionId };
`,
    );
    console.log(
      `browser bundle (client + generateSessionId): ${(bundle.length / 1024).toFixed(1)} kB, ${(gzip / 1024).toFixed(1)} kB gzip`,
    );
    expect(bundle.toString()).not.toContain("node:");
    expect(gzip).toBeLessThanOrEqual(BROWSER_BUDGET_BYTES);

    // The whole contract package (with zod) bundles for the browser too: no Node built-ins in it.
    const contract = browserBundle("contract.js", `export * from "@sessiond/shared";\n`);
    expect(contract.bundle.toString()).not.toContain("node:");
    console.log(`browser bundle (all of @sessiond/shared): ${(contract.gzip / 1024).toFixed(1)} kB gzip`);
  });

  it(`(c) importing generateSessionId from the package's root costs what the ./id subpath costs: within ${BROWSER_BUDGET_BYTES / 1024} kB gzip with the client`, () => {
    const fromRoot = browserBundle(
      "browser-root.js",
      `import { createSessionClient, isConflict } from "@sessiond/client";
import { generateSessionId } from "@sessiond/shared";
window.sessiond = { createSessionClient, isConflict, generateSessionId };
`,
    );
    console.log(`browser bundle (client + generateSessionId from the root): ${(fromRoot.gzip / 1024).toFixed(1)} kB gzip`);
    expect(fromRoot.gzip).toBeLessThanOrEqual(BROWSER_BUDGET_BYTES);
    // Alone, the same code as through ./id, give or take a name or two.
    const alone = (from: string) =>
      browserBundle(
        `id-from-${from.replace(/\W/g, "-")}.js`,
        `import { generateSessionId } from "${from}";\nwindow.id = generateSessionId;\n`,
      ).gzip;
    const [root, subpath] = [alone("@sessiond/shared"), alone("@sessiond/shared/id")];
    console.log(`generateSessionId alone: ${root} bytes gzip from the root, ${subpath} from ./id`);
    expect(root).toBeLessThanOrEqual(subpath + 64);
  });

  it.skipIf(systemNodeMajor >= 23)(
    "without the node package on an older system Node, client commands still run and serve says why it cannot, in one line",
    () => {
      const nodePackage = join(install.dir, "node_modules", "node");
      renameSync(nodePackage, `${nodePackage}.away`);
      try {
        const sessiond = (...args: string[]) => {
          try {
            return { code: 0, stderr: install.run(join(install.dir, "node_modules", ".bin", "sessiond"), args, { node: systemNode() }) };
          } catch (error) {
            return error as { status: number; stderr: string };
          }
        };
        const serve = sessiond("serve", "--port", "0");
        expect(serve).toMatchObject({
          status: 1,
          stderr: expect.stringMatching(/^sessiond: serve needs Node >= 22\.16 \(node:sqlite\), this is v\d+[^\n]*\n$/),
        });
        // A client command runs on this Node: it gets as far as calling the (absent) server.
        const list = sessiond("--url", "http://127.0.0.1:9", "list");
        expect(list).toMatchObject({ status: 1, stderr: expect.stringMatching(/^sessiond: cannot reach http:\/\/127\.0\.0\.1:9: .+\n$/) });
      } finally {
        renameSync(`${nodePackage}.away`, nodePackage);
      }
    },
  );

  it.skipIf(systemNodeMajor >= 23)("the test kit on an older system Node says in one line that SQLite needs Node 22.16", () => {
    writeFileSync(
      join(install.dir, "old-node.mjs"),
      `import { startTestServer } from "@sessiond/testing";
await startTestServer().then(() => console.log("started"), (error) => console.log(error.message));
`,
    );
    expect(install.run("old-node.mjs", [], { node: systemNode() })).toMatch(
      /^SQLite needs Node\.js >= 22\.16 \(node:sqlite\), this is v\d+[^\n]*: run it with Node 24 \(npm install node@24\)\n$/,
    );
  });

  it("(d) a consumer's contract test starts startTestServer() from the packed install, sees a CONFLICT and closes", () => {
    writeFileSync(
      join(install.dir, "contract.test.mjs"),
      `import { test } from "node:test";
import assert from "node:assert/strict";
import { isConflict } from "@sessiond/client";
import { startTestServer } from "@sessiond/testing";

test("a duplicate ID is a CONFLICT", async () => {
  const server = await startTestServer();
  try {
    const session = await server.client.session.create.mutate({ title: "contract" });
    await assert.rejects(server.client.session.create.mutate({ id: session.id }), (error) => isConflict(error) && error.data.conflict.id === session.id);
  } finally {
    await server.close();
  }
});
`,
    );
    // The kit runs the server in-process, so it needs node:sqlite: the installed Node 24.
    const output = install.run("--test", ["--test-reporter=tap", "contract.test.mjs"], {
      node: join(install.dir, "node_modules", "node", "bin", "node"),
    });
    expect(output).toMatch(/# pass 1\b/);
    expect(output).toMatch(/# fail 0\b/);
  });
});
