/**
 * Development keys and tokens for sessiond's bearer JWTs, standing in for an identity provider:
 *
 *   npm run -s jwt:dev -- keys <dir>                  an ES256 key pair: <dir>/jwks.json (the public
 *                                                     key set, for --jwks-file) and <dir>/signing-key.json
 *   npm run -s jwt:dev -- mint <dir> <owner> [--issuer <iss>] [--audience <aud>] [--ttl <seconds>]
 *                                                     prints a JWT for <owner> (its `sub`), 1 hour by default
 *
 * Production tokens come from your login (an OpenID Connect provider, your own auth service): point
 * `--jwks-url` at its key set instead.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";

const ALG = "ES256";

function usage(): never {
  process.stderr.write(
    "usage: dev-jwt keys <dir>\n       dev-jwt mint <dir> <owner> [--issuer <iss>] [--audience <aud>] [--ttl <seconds>]\n",
  );
  process.exit(2);
}

async function keys(dir: string): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "jwks.json"), `${JSON.stringify({ keys: [{ ...publicJwk, kid, alg: ALG, use: "sig" }] }, null, 2)}\n`);
  const signing = join(dir, "signing-key.json");
  writeFileSync(signing, `${JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: ALG })}\n`, { mode: 0o600 });
  chmodSync(signing, 0o600);
  process.stdout.write(`${join(dir, "jwks.json")}\n`);
}

async function mint(dir: string, owner: string, options: { issuer?: string; audience?: string; ttl?: string }): Promise<void> {
  const jwk = JSON.parse(readFileSync(join(dir, "signing-key.json"), "utf8")) as JWK & { kid: string };
  const ttl = Number(options.ttl ?? 3600);
  if (!Number.isInteger(ttl) || ttl < 1) usage();
  let token = new SignJWT({}).setProtectedHeader({ alg: ALG, kid: jwk.kid }).setSubject(owner).setIssuedAt().setExpirationTime(`${ttl}s`);
  if (options.issuer) token = token.setIssuer(options.issuer);
  if (options.audience) token = token.setAudience(options.audience);
  process.stdout.write(`${await token.sign(await importJWK(jwk, ALG))}\n`);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { issuer: { type: "string" }, audience: { type: "string" }, ttl: { type: "string" } },
});
const [command, dir, owner] = positionals;
if (command === "keys" && dir) await keys(dir);
else if (command === "mint" && dir && owner) await mint(dir, owner, values);
else usage();
