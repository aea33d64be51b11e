/**
 * The fast path (fast-path.ts) reproduces tRPC's stock adapter byte for byte, and the serializer
 * (wire/serialize.ts) reproduces superjson's output: both were verified against these exact
 * versions by test/transport.test.ts and test/serializer.test.ts. The dependencies are pinned to
 * them; an upgrade must be deliberate: rerun those differential tests, then update this list.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const VERIFIED = { "@trpc/server": "11.25.2", "@trpc/client": "11.25.2", superjson: "2.2.6" } as const;

const require = createRequire(import.meta.url);

function installedVersion(name: string): string {
  // The package's main entry sits below its root; walk up to the package.json that names it.
  let dir = require.resolve(name);
  for (;;) {
    dir = dir.slice(0, dir.lastIndexOf("/"));
    try {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as { name?: string; version: string };
      if (pkg.name === name) return pkg.version;
    } catch {
      // no package.json at this level
    }
    if (!dir.includes("/")) throw new Error(`no package.json for ${name}`);
  }
}

describe("the versions the fast path and the serializer were verified against", () => {
  it.each(Object.entries(VERIFIED))("%s is installed at exactly %s", (name, version) => {
    expect(installedVersion(name)).toBe(version);
  });
});
