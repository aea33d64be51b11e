import { defineConfig } from "tsdown";
import { sharedBuild } from "../tsdown.shared.ts";

export default defineConfig({
  ...sharedBuild,
  entry: ["src/index.ts", "src/id.ts", "src/errors.ts", "src/transformer.ts"],
  platform: "neutral",
  dts: true,
});
