/** What every package's tsdown build shares. */
import type { UserConfig } from "tsdown";

export const sharedBuild: Pick<UserConfig, "suppressWarnings"> = {
  // The declaration generator warns on TypeScript 7.0 and asks for 7.1, which is not released yet
  // (7.0.2 is the latest): once per package build. Take this out with the upgrade to 7.1.
  suppressWarnings: ["The `tsgo` generator on TypeScript 7.0 is deprecated"],
};
