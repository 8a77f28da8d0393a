// Authenticates customer API v1 requests: token from Authorization or the session cookie, scope from D1.
import { getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppContext, AppEnv, CustomerScope } from "../context";
import {
  type AccessLookupRow,
  accessLookup,
  type DynamicCustomerLookupRow,
  dynamicCustomerLookup,
} from "../db/queries";
import { ApiError } from "../errors";
import { clientAddress } from "./client-address";
import { type DynamicConfig, issueToken, type TokenClaims, verifyToken } from "./customer-token";
import { ALL_NETWORKS, addressAllowed } from "./ip-networks";
import { isRevoked } from "./revocation";

export const SESSION_COOKIE = "_yeti_customer_v1_session";

/** The token and where it came from. A present Authorization header wins, valid or not. */
export function takeToken(c: AppContext): { token: string; fromCookie: boolean } | null {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const token = header.trim().split(/\s+/).pop() ?? "";
    return { token, fromCookie: false };
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? { token: cookie, fromCookie: true } : null;
}

/** The scope of an API access's token; null when the access is gone or the token revoked. */
export function accessScope(claims: Pick<TokenClaims, "iat" | "session">, row: AccessLookupRow) {
  if (!row || isRevoked(claims.iat, [row.accessRevokedAt, row.customerRevokedAt], row.sessionRevoked)) {
    return null;
  }
  return {
    accessId: row.id,
    customerId: row.customerId,
    accountIds: row.accountIds,
    allowedIps: row.allowedIps,
    allowRec: row.allowRec,
    iat: claims.iat,
    session: claims.session,
  } satisfies CustomerScope;
}

/** The scope of a `sub: "D"` token; null when the customer is gone (or no customer) or the token revoked. */
export function dynamicScope(
  claims: Pick<TokenClaims, "iat" | "session">,
  cfg: DynamicConfig,
  row: DynamicCustomerLookupRow,
) {
  if (!row || isRevoked(claims.iat, [row.customerRevokedAt], row.sessionRevoked)) return null;
  return {
    accessId: "D",
    customerId: cfg.customer_id,
    // verifyToken has checked both lists' shapes; absent (or an empty allowed_ips) = no restriction.
    accountIds: cfg.account_ids ?? [],
    allowedIps: cfg.allowed_ips?.length ? cfg.allowed_ips : [...ALL_NETWORKS],
    allowRec: false,
    iat: claims.iat,
    session: claims.session,
  } satisfies CustomerScope;
}

/** Resolves verified claims to the caller's scope in one query; null when gone or revoked. */
export async function scopeForClaims(env: Env, claims: TokenClaims): Promise<CustomerScope | null> {
  if (claims.sub === "D") {
    if (!claims.cfg) return null;
    const row = await dynamicCustomerLookup(env, claims.cfg.customer_id, claims.session).get();
    return dynamicScope(claims, claims.cfg, row);
  }
  return accessScope(claims, await accessLookup(env, claims.sub, claims.session).get());
}

/** An unknown source (no CF-Connecting-IP, as in local tests) passes only where every address may. */
export function sourceAllowed(address: string, networks: readonly string[]): boolean {
  if (address) return addressAllowed(address, networks);
  return networks.some((net) => ALL_NETWORKS.includes(net));
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

export const customerAuth = createMiddleware<AppEnv>(async (c, next) => {
  const taken = takeToken(c);
  if (!taken?.token) throw ApiError.unauthorized();
  const claims = await verifyToken(c.env, taken.token);
  if (!claims) throw ApiError.unauthorized();
  const scope = await scopeForClaims(c.env, claims);
  if (!scope) throw ApiError.unauthorized();
  // Yeti checks the source address only at login; checking every request keeps a stolen token useless elsewhere.
  if (!sourceAllowed(clientAddress(c), scope.allowedIps)) throw ApiError.unauthorized();
  c.set("customer", scope);
  await next();
  if (taken.fromCookie && c.res.status < 500) {
    // The refreshed cookie continues the session: same sid and iat, so DELETE /auth ends all of it.
    const refreshed = await issueToken(c.env, {
      sub: claims.sub,
      ...(claims.cfg ? { cfg: claims.cfg } : {}),
      iat: claims.iat,
      session: claims.session,
    });
    sessionCookie(c, refreshed.token, refreshed.exp);
  }
});
