import { defineConfig } from "tsdown";
import { sharedBuild } from "../tsdown.shared.ts";

export default defineConfig({
  ...sharedBuild,
  entry: ["src/index.ts", "src/id.ts", "src/errors.ts", "src/transformer.ts"],
  platform: "neutral",
  // One module per source file, as in src/: with "sideEffects": false, a bundler then drops the
  // modules an import does not use, so `generateSessionId` from the root costs what it costs from
  // ./id (the zod schemas, built when their module loads, stay out).
  unbundle: true,
  dts: true,
});
