// Authenticates customer API v1 requests: token from Authorization or the session cookie, scope from D1.
import { getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppContext, AppEnv, CustomerScope } from "../context";
import { findApiAccessScope, findCustomerContractor } from "../db/queries";
import { ApiError } from "../errors";
import { clientAddress } from "./client-address";
import { issueToken, type TokenClaims, verifyToken } from "./customer-token";
import { ALL_NETWORKS, addressAllowed } from "./ip-networks";

export const SESSION_COOKIE = "_yeti_customer_v1_session";

/** The token and where it came from. A present Authorization header wins, valid or not. */
function takeToken(c: AppContext): { token: string; fromCookie: boolean } | null {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const token = header.trim().split(/\s+/).pop() ?? "";
    return { token, fromCookie: false };
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? { token: cookie, fromCookie: true } : null;
}

/** Resolves verified claims to the caller's scope; null when the access or customer no longer exists. */
export async function scopeForClaims(env: Env, claims: TokenClaims): Promise<CustomerScope | null> {
  if (claims.sub === "D") {
    const cfg = claims.cfg;
    if (!cfg || !(await findCustomerContractor(env, cfg.customer_id))) return null;
    return {
      accessId: "D",
      customerId: cfg.customer_id,
      // verifyToken has checked both lists' shapes; absent (or an empty allowed_ips) = no restriction.
      accountIds: cfg.account_ids ?? [],
      allowedIps: cfg.allowed_ips?.length ? cfg.allowed_ips : [...ALL_NETWORKS],
    };
  }
  return findApiAccessScope(env, claims.sub);
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
    const refreshed = await issueToken(c.env, {
      sub: claims.sub,
      ...(claims.cfg ? { cfg: claims.cfg } : {}),
    });
    sessionCookie(c, refreshed.token, refreshed.exp);
  }
});
