// Customer API v1 tokens: HS256 JWTs with audience "customer-v1", as Yeti issues them.
import { jwtVerify, SignJWT } from "jose";

export const AUDIENCE = "customer-v1";

/** Yeti's dynamic token configuration (`sub: "D"`), minted by the operator's systems. */
export type DynamicConfig = { customer_id: number; account_ids?: number[]; allowed_ips?: string[] };

export type TokenClaims = { sub: number | "D"; cfg?: DynamicConfig; exp?: number };

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Token lifetime in seconds from CUSTOMER_V1_TOKEN_LIFETIME; empty = tokens without `exp`. */
export function tokenLifetime(env: Env): number | null {
  const raw = (env.CUSTOMER_V1_TOKEN_LIFETIME ?? "").trim();
  if (!raw) return null;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds <= 0)
    throw new Error("CUSTOMER_V1_TOKEN_LIFETIME must be a positive integer");
  return seconds;
}

export async function issueToken(
  env: Env,
  claims: Omit<TokenClaims, "exp">,
): Promise<{ token: string; exp: number | null }> {
  const lifetime = tokenLifetime(env);
  const jwt = new SignJWT({
    ...(claims.cfg ? { cfg: claims.cfg } : {}),
    sub: claims.sub as unknown as string,
  })
    .setProtectedHeader({ alg: "HS256" })
    .setAudience([AUDIENCE]);
  const exp = lifetime === null ? null : Math.floor(Date.now() / 1000) + lifetime;
  if (exp !== null) jwt.setExpirationTime(exp);
  return { token: await jwt.sign(key(env.CUSTOMER_V1_JWT_SECRET)), exp };
}

/** Verifies signature (HS256 only), audience and `exp`; returns null for any invalid token. */
export async function verifyToken(env: Env, token: string): Promise<TokenClaims | null> {
  try {
    const { payload } = await jwtVerify(token, key(env.CUSTOMER_V1_JWT_SECRET), {
      algorithms: ["HS256"],
      audience: AUDIENCE,
    });
    const sub = payload.sub as unknown;
    const exp = typeof payload.exp === "number" ? payload.exp : undefined;
    if (sub === "D") {
      const cfg = payload.cfg as DynamicConfig | undefined;
      return cfg && validDynamicConfig(cfg) ? { sub: "D", cfg, exp } : null;
    }
    const id =
      typeof sub === "number" ? sub : typeof sub === "string" && /^\d+$/.test(sub) ? Number(sub) : NaN;
    return Number.isSafeInteger(id) ? { sub: id, exp } : null;
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
