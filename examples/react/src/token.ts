/**
 * Where this page keeps its bearer token. In your app it is your login's: an OpenID Connect
 * provider or your own auth service gives the page a short-lived JWT whose `sub` (or the claim the
 * server is told with --jwt-owner-claim) names the user, and sessiond verifies it against the
 * provider's key set (--jwks-url). This demo stands in for that login with a sign-in form where you
 * paste a token (`npm run -s jwt:dev -- mint <dir> <owner>` in the sessiond repository), kept in
 * this tab's sessionStorage only: never in the URL, where logs and the history would keep it.
 */
const KEY = "sessiond-token";

export const readToken = (): string | undefined => sessionStorage.getItem(KEY) || undefined;

export function storeToken(token: string): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}
