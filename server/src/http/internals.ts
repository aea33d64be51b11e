/**
 * The lean paths that reach below tRPC's and superjson's public API: the direct procedure call
 * (invoke.ts: a procedure's `_def`, tRPC's parse function), the fast path's answers and the text
 * serializer (wire/serialize.ts: superjson's output, byte for byte). They take effect only on the
 * versions they were verified against, by the differential tests (test/transport.test.ts: fast
 * path against tRPC's stock adapter; test/serializer.test.ts: serializer against superjson). On
 * any other installed version, every call takes tRPC's stock path and superjson serialises; the
 * handler says so once in its log.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Versions each package was verified at. Add one only after the differential tests pass on it. */
export const VERIFIED_VERSIONS: Readonly<Record<"@trpc/server" | "superjson", readonly string[]>> = {
  "@trpc/server": ["11.25.2"],
  superjson: ["2.2.6", "2.2.7"],
};

/** The version of a package as this module resolves it, or undefined when it cannot tell. */
export function installedVersion(name: string): string | undefined {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(name)));
    for (let depth = 0; depth < 6; depth++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version;
      } catch {
        // no package.json at this level
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  } catch {
    // not resolvable from here
  }
  return undefined;
}

export interface InternalsCheck {
  /** Whether every package is at a verified version. */
  verified: boolean;
  /** The installed versions, for the log line. */
  installed: Record<string, string | undefined>;
}

/** Whether the lean paths may run here (the installed versions do not change while a process runs). */
export function checkInternals(
  installed: Record<string, string | undefined> = Object.fromEntries(
    Object.keys(VERIFIED_VERSIONS).map((name) => [name, installedVersion(name)]),
  ),
): InternalsCheck {
  const verified = Object.entries(VERIFIED_VERSIONS).every(([name, versions]) => versions.includes(installed[name] ?? ""));
  return { verified, installed };
}
