// Customer API v1 tokens: HS256 JWTs with audience "customer-v1", as Yeti issues them, plus `iat` and `sid`.
import { jwtVerify, SignJWT } from "jose";
import { ConfigError, config } from "../config";
import { base64url, fromBase64url } from "./base64url";

export const AUDIENCE = "customer-v1";

/** Yeti's dynamic token configuration (`sub: "D"`), minted by the operator's systems. */
export type DynamicConfig = { customer_id: number; account_ids?: number[]; allowed_ips?: string[] };

export type TokenClaims = {
  sub: number | "D";
  cfg?: DynamicConfig;
  exp?: number;
  /** Epoch seconds; 0 for a token without `iat` (minted elsewhere), which any revoke-tokens covers. */
  iat: number;
  /** The session: `sid` of tokens this Worker issues, else derived from the token (see sessionKey). */
  session: string;
  /**
   * `cid` of tokens this Worker issues: the access's customer at login, a hint that keys the creation
   * limit before the database is asked (never a grant: the access is checked as always).
   */
  customerId?: number;
};

const encoder = new TextEncoder();
const SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;
/** Three unpadded base64url parts: the only spelling of a token that is accepted. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const keys = new Map<string, Promise<CryptoKey>>();

/** The HS256 key, imported once per isolate and secret (jose would import it again on every token). */
function key(secret: string): Promise<CryptoKey> {
  let imported = keys.get(secret);
  if (!imported) {
    imported = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keys.set(secret, imported);
  }
  return imported;
}

/** Token lifetime in seconds from CUSTOMER_V1_TOKEN_LIFETIME; empty = tokens without `exp`. */
export function tokenLifetime(env: Env): number | null {
  const lifetime = config(env).CUSTOMER_V1_TOKEN_LIFETIME;
  if (lifetime === "invalid") throw new ConfigError("CUSTOMER_V1_TOKEN_LIFETIME must be a positive integer");
  return lifetime;
}

/** A new random session id (128 bits). */
export function newSessionId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * Signs a token for `claims`: `iat` and `sid` as given (a session keeps both across cookie refreshes, so
 * revocation and download links judge the session, not the refresh), `exp` from the configured lifetime.
 */
export async function issueToken(
  env: Env,
  claims: Pick<TokenClaims, "sub" | "cfg" | "iat" | "session" | "customerId">,
): Promise<{ token: string; exp: number | null }> {
  const lifetime = tokenLifetime(env);
  const jwt = new SignJWT({
    ...(claims.cfg ? { cfg: claims.cfg } : {}),
    sub: claims.sub as unknown as string,
    sid: claims.session,
    ...(claims.customerId !== undefined ? { cid: claims.customerId } : {}),
  })
    .setProtectedHeader({ alg: "HS256" })
    .setAudience([AUDIENCE])
    .setIssuedAt(claims.iat);
  const exp = lifetime === null ? null : Math.floor(Date.now() / 1000) + lifetime;
  if (exp !== null) jwt.setExpirationTime(exp);
  return { token: await jwt.sign(await key(config(env).CUSTOMER_V1_JWT_SECRET)), exp };
}

/** True for three canonical base64url parts: no padding, no other character, no second spelling of a part. */
export function isCanonicalToken(token: string): boolean {
  return COMPACT_JWS.test(token) && token.split(".").every((part) => fromBase64url(part) !== null);
}

/** The `sid` claim when it is a well-formed session id, else the first 128 bits of the token's SHA-256. */
async function sessionKey(sid: unknown, token: string): Promise<string> {
  if (typeof sid === "string" && SESSION_ID.test(sid)) return sid;
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(token));
  return base64url(new Uint8Array(digest).subarray(0, 16));
}

/**
 * Verifies spelling (canonical only, before any decoding), signature (HS256 only), audience and `exp`;
 * returns null for any invalid token.
 */
export async function verifyToken(env: Env, token: string): Promise<TokenClaims | null> {
  if (!isCanonicalToken(token)) return null;
  try {
    const { payload } = await jwtVerify(token, await key(config(env).CUSTOMER_V1_JWT_SECRET), {
      algorithms: ["HS256"],
      audience: AUDIENCE,
    });
    const sub = payload.sub as unknown;
    const exp = typeof payload.exp === "number" ? payload.exp : undefined;
    const iat = typeof payload.iat === "number" ? payload.iat : 0;
    const session = await sessionKey(payload.sid, token);
    if (sub === "D") {
      const cfg = payload.cfg as DynamicConfig | undefined;
      return cfg && validDynamicConfig(cfg) ? { sub: "D", cfg, exp, iat, session } : null;
    }
    const id =
      typeof sub === "number" ? sub : typeof sub === "string" && /^\d+$/.test(sub) ? Number(sub) : NaN;
    if (!Number.isSafeInteger(id)) return null;
    const cid = payload.cid;
    return {
      sub: id,
      exp,
      iat,
      session,
      ...(Number.isSafeInteger(cid) ? { customerId: cid as number } : {}),
    };
  } catch {
    return null;
  }
}

/**
 * A malformed `account_ids` or `allowed_ips` refuses the token: read as absent, it would widen the
 * token to every account or every source address.
 */
function validDynamicConfig(cfg: DynamicConfig): boolean {
  if (typeof cfg !== "object" || cfg === null || !Number.isSafeInteger(cfg.customer_id)) return false;
  const accounts: unknown = cfg.account_ids;
  if (accounts !== undefined && !(Array.isArray(accounts) && accounts.every(Number.isSafeInteger)))
    return false;
  const ips: unknown = cfg.allowed_ips;
  return ips === undefined || (Array.isArray(ips) && ips.every((ip) => typeof ip === "string"));
}
