import { describe, expect, it } from "vitest";
import { ConfigError, describeSettings, resolveConfig, storeLocation } from "./config.ts";

describe("resolveConfig", () => {
  it("takes a flag over the environment over the default", () => {
    expect(resolveConfig({}, {}).port).toBe(3000);
    expect(resolveConfig({}, { PORT: "4000" }).port).toBe(4000);
    expect(resolveConfig({ port: "5000" }, { PORT: "4000" }).port).toBe(5000);
  });

  it("takes the first environment variable set, in the setting's order", () => {
    expect(resolveConfig({}, { DATABASE_URL: "postgres://a/b" }).db).toBe("postgres://a/b");
    expect(resolveConfig({}, { SESSIOND_DB: "x.db", DATABASE_URL: "postgres://a/b" }).db).toBe("x.db");
  });

  it("names the flag or variable a bad value came from", () => {
    expect(() => resolveConfig({ port: "http" }, {})).toThrow(/--port: /);
    expect(() => resolveConfig({}, { SESSIOND_MAX_BODY_BYTES: "12" })).toThrow(/SESSIOND_MAX_BODY_BYTES: /);
    expect(() => resolveConfig({ db: "mysql://x/y" }, {})).toThrow(ConfigError);
  });

  // Every setting but those that take any text (a host name, a file path, an issuer, a claim) refuses "abc".
  const anyText = new Set(["host", "allowedHosts", "db", "jwksFile", "jwtIssuer", "jwtAudience", "jwtOwnerClaim"]);
  const refusingAbc = describeSettings().filter((setting) => !anyText.has(setting.key));

  it.each(refusingAbc)("names $flag, the value it got and what it expects", ({ key, flag, env }) => {
    for (const [given, name] of [
      [() => resolveConfig({ [key]: "abc" }, {}), flag],
      [() => resolveConfig({}, { [env[0]!]: "abc" }), env[0]],
    ] as const) {
      const message = (() => {
        try {
          given();
        } catch (error) {
          return (error as Error).message;
        }
        return expect.fail(`${name}=abc was accepted`);
      })();
      if (key === "token") expect(message).toBe(`invalid configuration: ${name}: must be at least 16 characters`);
      else if (key === "jwtSecret") expect(message).toBe(`invalid configuration: ${name}: must be at least 32 characters`);
      else if (key === "corsOrigin") expect(message).toMatch(new RegExp(`^invalid configuration: ${name}: "abc" is not an origin like .+`));
      else expect(message).toMatch(new RegExp(`^invalid configuration: ${name}: got "abc", expected [^;]+$`));
    }
  });

  it("says what a setting of several kinds of value expects", () => {
    expect(() => resolveConfig({}, { SESSIOND_WORKERS: "0" })).toThrow(
      'invalid configuration: SESSIOND_WORKERS: got "0", expected an integer from 1 to 1024, or "auto" (one per CPU)',
    );
    expect(() => resolveConfig({ port: "99999", sqliteSync: "off" }, {})).toThrow(
      'invalid configuration: --port: got "99999", expected an integer from 0 to 65535; --sqlite-sync: got "off", expected "full" or "normal"',
    );
  });

  it("refuses a default page size above the maximum", () => {
    expect(() => resolveConfig({ pageSizeDefault: "300" }, {})).toThrow(/exceeds the maximum 200/);
  });

  it("refuses an event heartbeat that the write timeout would cut, naming both settings", () => {
    expect(() => resolveConfig({ eventHeartbeatMs: "40000" }, {})).toThrow(
      /--event-heartbeat-ms \(40000\) must be less than --write-timeout-ms \(30000\)/,
    );
    expect(() => resolveConfig({ writeTimeoutMs: "15000" }, { SESSIOND_EVENT_HEARTBEAT_MS: "15000" })).toThrow(
      /SESSIOND_EVENT_HEARTBEAT_MS \(15000\) must be less than --write-timeout-ms \(15000\)/,
    );
    expect(resolveConfig({ eventHeartbeatMs: "29999" }, {}).eventHeartbeatMs).toBe(29_999);
  });

  it("takes one key source for bearer JWTs, and the JWT checks only with one", () => {
    const secret = "s".repeat(32);
    expect(resolveConfig({ jwtSecret: secret, jwtIssuer: "https://login.example" }, {})).toMatchObject({
      jwtSecret: secret,
      jwtIssuer: "https://login.example",
      jwtOwnerClaim: "sub",
    });
    expect(() => resolveConfig({ jwtSecret: secret }, { SESSIOND_JWKS_FILE: "keys.json" })).toThrow(
      "invalid configuration: SESSIOND_JWKS_FILE and --jwt-secret: bearer JWTs take one key source",
    );
    expect(() => resolveConfig({ jwtAudience: "sessiond" }, {})).toThrow(
      "invalid configuration: --jwt-audience: needs a key source for bearer JWTs (--jwks-file, --jwks-url or --jwt-secret)",
    );
    expect(() => resolveConfig({}, { SESSIOND_JWT_OWNER_CLAIM: "tenant" })).toThrow(
      /^invalid configuration: SESSIOND_JWT_OWNER_CLAIM: needs a key source/,
    );
    expect(() => resolveConfig({ jwksUrl: "ftp://keys.example/jwks.json" }, {})).toThrow(
      'invalid configuration: --jwks-url: got "ftp://keys.example/jwks.json", expected an https:// URL of a JSON Web Key Set (http:// on loopback only)',
    );
  });

  it("never repeats the JWT secret in a message", () => {
    expect(() => resolveConfig({ jwtSecret: "short-secret-value" }, {})).toThrow(
      "invalid configuration: --jwt-secret: must be at least 32 characters",
    );
  });
});

describe("storeLocation", () => {
  it.each([
    ["sessions.db", { engine: "sqlite", path: "sessions.db" }],
    ["/var/lib/s.db", { engine: "sqlite", path: "/var/lib/s.db" }],
    ["sqlite:rel.db", { engine: "sqlite", path: "rel.db" }],
    ["sqlite:///abs/s.db", { engine: "sqlite", path: "/abs/s.db" }],
    ["sqlite://localhost/abs/s.db", { engine: "sqlite", path: "/abs/s.db" }],
    ["C:\\data\\s.db", { engine: "sqlite", path: "C:\\data\\s.db" }],
    ["postgres://u@h/db", { engine: "postgres", url: "postgres://u@h/db" }],
    ["postgresql://u@h/db", { engine: "postgres", url: "postgresql://u@h/db" }],
  ])("reads %s", (db, location) => {
    expect(storeLocation(db)).toEqual(location);
  });

  it.each(["mysql://x/y", "sqlite:", "sqlite:///%zz", "https://example.org/db"])("refuses %s", (db) => {
    expect(storeLocation(db)).toBeNull();
  });
});
