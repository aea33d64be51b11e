import { defineConfig } from "tsdown";

export default defineConfig({
  entry: ["src/index.ts", "src/id.ts", "src/errors.ts", "src/transformer.ts"],
  platform: "neutral",
  dts: true,
});
