import { defineConfig } from "tsdown";

export default defineConfig({
  entry: ["src/main.ts"],
  platform: "node",
  // .js and .d.ts (the packages are "type": "module"), as in the exports maps.
  fixedExtension: false,
  dts: false,
});
