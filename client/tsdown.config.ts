import { defineConfig } from "tsdown";
import { sharedBuild } from "../tsdown.shared.ts";

export default defineConfig({
  ...sharedBuild,
  entry: ["src/index.ts"],
  platform: "neutral",
  // The router's type comes from the server, which a consumer does not install: its declarations
  // are bundled into the client's .d.ts, so `AppRouter` is real there, not `any`.
  deps: { dts: { alwaysBundle: [/^@sessiond\/server/] } },
  // Resolve workspace packages to their sources (the build needs no other package built first).
  // External modules are imported for their bindings only: this drops the bare `import "node:..."`
  // the server's type modules would otherwise leave in the browser client's declarations.
  inputOptions: { resolve: { conditionNames: ["@sessiond/source", "import", "default"] }, treeshake: { moduleSideEffects: false } },
  tsconfig: "tsconfig.build.json",
  dts: true,
});
