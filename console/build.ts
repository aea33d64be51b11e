/**
 * Builds the console: the page and one script with the typed client bundled in (esbuild, for the
 * browser, minified). The output is static; the server only reads it. Files are replaced by a
 * rename, so a server reading them while a build runs never sees half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const here = (path: string) => new URL(path, import.meta.url).pathname;

function replace(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

const result = await build({
  entryPoints: [here("src/console.ts")],
  bundle: true,
  minify: true,
  write: false,
  format: "esm",
  platform: "browser",
  target: "es2022",
  // The workspace's client and contract, from their sources.
  conditions: ["@sessiond/source"],
  logLevel: "warning",
});
mkdirSync(here("dist"), { recursive: true });
replace(here("dist/console.js"), result.outputFiles[0]!.contents);
replace(here("dist/console.html"), readFileSync(here("src/console.html")));
