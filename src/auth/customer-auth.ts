// Authenticates customer API v1 requests: token from Authorization or the session cookie, checked without
// a query; the access itself is checked inside each route's one D1 round trip (`authorize` reads the answer).
import { getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppContext, AppEnv, CustomerScope } from "../context";
import type { CallerRow } from "../db/queries/caller";
import { ApiError } from "../errors";
import { callerFor, learnCustomer } from "./caller";
import { clientAddress } from "./client-address";
import { issueToken, verifyToken } from "./customer-token";

export const SESSION_COOKIE = "_yeti_customer_v1_session";

/** Yeti's 401 on customer routes (its JSONAPI::Exceptions::AuthorizationFailed). */
export function authorizationFailed(): ApiError {
  return new ApiError(401, [
    { title: "Authorization failed", detail: "Authorization token expired or incorrect.", code: "401" },
  ]);
}

/**
 * The token and where it came from: the last whitespace-separated word of Authorization (`Bearer <t>` and a
 * bare `<t>` alike), as Yeti's `headers['Authorization']&.split&.last`; a header with no word (absent, empty
 * or blank) falls back to the session cookie. A header with a word wins, valid or not.
 */
export function takeToken(c: AppContext): { token: string; fromCookie: boolean } | null {
  const word = c.req.header("Authorization")?.trim().split(/\s+/).pop();
  if (word) return { token: word, fromCookie: false };
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? { token: cookie, fromCookie: true } : null;
}

export function sessionCookie(c: AppContext, token: string, exp: number | null): void {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: new URL(c.req.url).protocol === "https:",
    ...(exp !== null ? { expires: new Date(exp * 1000) } : {}),
  });
}

/**
 * The caller's scope from the caller row its route's round trip returned; 401 when there was none (the
 * access or customer is gone, the token revoked, the session ended, or the source outside the allowed
 * networks). The route's statements were gated on the same row, so a 401 request has written nothing.
 */
export function authorize(c: AppContext, row: CallerRow | null): CustomerScope {
  if (!row) throw authorizationFailed();
  const caller = c.get("caller");
  learnCustomer(caller, row);
  const scope: CustomerScope = {
    accessId: caller.kind === "access" ? caller.accessId : "D",
    customerId: row.customerId,
    accountIds: row.accountIds,
    allowRec: row.allowRec,
    iat: caller.iat,
    session: caller.session,
  };
  c.set("customer", scope);
  return scope;
}

export const customerAuth = createMiddleware<AppEnv>(async (c, next) => {
  const taken = takeToken(c);
  if (!taken?.token) throw authorizationFailed();
  const claims = await verifyToken(c.env, taken.token);
  if (!claims) throw authorizationFailed();
  // Yeti checks the source address only at login; checking every request keeps a stolen token useless elsewhere.
  const caller = callerFor(claims, clientAddress(c));
  if (!caller) throw authorizationFailed();
  c.set("caller", caller);
  await next();
  const scope = c.get("customer");
  if (taken.fromCookie && scope && c.res.status < 500) {
    // The refreshed cookie continues the session: same sid and iat, so DELETE /auth ends all of it.
    const refreshed = await issueToken(c.env, {
      sub: claims.sub,
      ...(claims.cfg ? { cfg: claims.cfg } : {}),
      iat: claims.iat,
      session: claims.session,
      ...(claims.sub !== "D" ? { customerId: scope.customerId } : {}),
    });
    sessionCookie(c, refreshed.token, refreshed.exp);
  }
});
