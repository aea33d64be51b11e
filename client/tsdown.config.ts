import { defineConfig } from "tsdown";

export default defineConfig({
  entry: ["src/index.ts"],
  platform: "neutral",
  // The router's type comes from the server, which a consumer does not install: its declarations
  // are bundled into the client's .d.ts, so `AppRouter` is real there, not `any`.
  deps: { dts: { alwaysBundle: [/^@sessiond\/server/] } },
  // Resolve workspace packages to their sources (the build needs no other package built first).
  inputOptions: { resolve: { conditionNames: ["@sessiond/source", "import", "default"] } },
  dts: true,
});
