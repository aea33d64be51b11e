import { defineConfig } from "tsdown";
import { sharedBuild } from "../tsdown.shared.ts";

export default defineConfig({
  ...sharedBuild,
  entry: ["src/main.ts"],
  platform: "node",
  // .js and .d.ts (the packages are "type": "module"), as in the exports maps.
  fixedExtension: false,
  dts: false,
});
