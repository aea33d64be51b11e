import { defineConfig } from "tsdown";
import { sharedBuild } from "../tsdown.shared.ts";

export default defineConfig({
  ...sharedBuild,
  entry: ["src/index.ts"],
  platform: "node",
  // The Node it runs on (node:sqlite): the package declares no `engines` (store/open.ts says why).
  target: "node22.16",
  // .js and .d.ts (the packages are "type": "module"), as in the exports maps.
  fixedExtension: false,
  dts: true,
});
