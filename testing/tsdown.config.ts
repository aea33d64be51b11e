import { defineConfig } from "tsdown";

export default defineConfig({
  entry: ["src/index.ts"],
  platform: "node",
  // .js and .d.ts (the packages are "type": "module"), as in the exports maps.
  fixedExtension: false,
  dts: true,
});
