/** The package graph points one way: nothing depends on a package above it. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./support/packed.ts";

const manifest = (folder: string) =>
  JSON.parse(readFileSync(join(ROOT, folder, "package.json"), "utf8")) as {
    name: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
const ownDependencies = (folder: string) =>
  Object.keys(manifest(folder).dependencies ?? {})
    .filter((name) => name.startsWith("@sessiond/"))
    .sort();

describe("package graph", () => {
  it("runtime dependencies go from the command and the kit down to the contract, never up", () => {
    expect(ownDependencies("shared")).toEqual([]);
    expect(ownDependencies("client")).toEqual(["@sessiond/shared"]);
    expect(ownDependencies("console")).toEqual([]); // a static page; the client is bundled in at build time
    expect(ownDependencies("server")).toEqual(["@sessiond/console", "@sessiond/shared"]);
    expect(ownDependencies("cli")).toEqual(["@sessiond/client", "@sessiond/server", "@sessiond/shared"]);
    expect(ownDependencies("testing")).toEqual(["@sessiond/client", "@sessiond/server"]);
  });

  it("every package a source file imports at run time is a declared dependency (type-only and bundled imports may be dev dependencies)", () => {
    for (const folder of ["shared", "client", "console", "server", "cli", "testing"]) {
      const declared = manifest(folder);
      const files = readdirSync(join(ROOT, folder, "src"), { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
      for (const file of files) {
        const text = readFileSync(join(ROOT, folder, "src", file), "utf8");
        for (const match of text.matchAll(/^(?:import|export)( type)?\b[^;]*? from "(@sessiond\/[a-z]+)/gm)) {
          const [, typeOnly, name] = match;
          // The console's script is bundled at build time, so all it imports are build tools.
          const buildTime = typeOnly || folder === "console";
          const allowed = { ...declared.dependencies, ...(buildTime ? declared.devDependencies : {}) };
          expect(Object.keys(allowed), `${folder}/src/${file} imports ${name}`).toContain(name);
        }
      }
    }
  });
});
