/**
 * The lean paths run only on the versions the differential tests verified (test/transport.test.ts,
 * test/serializer.test.ts). Installing another version turns them off; this test fails when the
 * installed versions are not in the list, so an upgrade is a deliberate step: run those tests on
 * it, then add the version to VERIFIED_VERSIONS.
 */
import { describe, expect, it } from "vitest";
import { checkInternals, installedVersion, VERIFIED_VERSIONS } from "./internals.ts";

describe("the versions the lean paths were verified against", () => {
  it("include the installed @trpc/server and superjson (the differential tests run on these)", () => {
    const check = checkInternals();
    expect(check.installed["@trpc/server"]).toBe(installedVersion("@trpc/server"));
    expect(check.verified, JSON.stringify(check.installed)).toBe(true);
  });

  it("turn the lean paths off for any other version, and for one that cannot be read", () => {
    const verified = { "@trpc/server": VERIFIED_VERSIONS["@trpc/server"][0], superjson: VERIFIED_VERSIONS.superjson[0] };
    expect(checkInternals(verified).verified).toBe(true);
    expect(checkInternals({ ...verified, "@trpc/server": "11.22.1" }).verified).toBe(false);
    expect(checkInternals({ ...verified, superjson: "2.2.5" }).verified).toBe(false);
    expect(checkInternals({ ...verified, superjson: undefined }).verified).toBe(false);
  });
});
