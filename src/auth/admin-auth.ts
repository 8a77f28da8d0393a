// Operator API auth: Hono's `bearerAuth` against ADMIN_API_TOKEN (a comma-separated list, for rotation).

import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { createMiddleware } from "hono/factory";
import { config } from "../config";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";

/**
 * Every refusal is the same JSON:API 401: Hono answers a malformed header with 400 and its own body,
 * so each of its messages throws this instead (app.onError renders it).
 */
function refuse(): never {
  throw new ApiError(401, [{ title: "Unauthorized", detail: "A valid operator bearer token is required." }], {
    "WWW-Authenticate": 'Bearer realm="admin"',
  });
}
const refusal = { message: refuse };

/**
 * Hono compares each token in constant time (SHA-256 of both sides, then a full-length XOR of the digests
 * and of the texts); it stops at the first match, which can show how many tokens precede the match, never
 * a token's content. A token must be RFC 6750 token68 text ([A-Za-z0-9._~+/-]+=*).
 */
const byTokens = new Map<string, MiddlewareHandler<AppEnv>>();

export const adminAuth = createMiddleware<AppEnv>((c, next) => {
  const tokens = config(c.env).ADMIN_API_TOKEN;
  const key = tokens.join(",");
  let check = byTokens.get(key);
  if (!check) {
    check = bearerAuth<AppEnv>({
      token: tokens,
      noAuthenticationHeader: refusal,
      invalidAuthenticationHeader: refusal,
      invalidToken: refusal,
    });
    byTokens.set(key, check);
  }
  return check(c, next);
});
