// Rate limits through the Workers Rate Limiting bindings; over the limit → 429 with Retry-After.
import { ApiError } from "../errors";
import { rateLimitSource } from "./ip-networks";

/** The login limits' period, as the bindings are configured (wrangler.toml `ratelimits`). */
const LOGIN_PERIOD_SECONDS = 60;

/** The bindings count per key over their configured period (wrangler.toml `ratelimits`). */
export async function enforceRateLimit(
  limiter: RateLimit,
  key: string,
  periodSeconds: number,
): Promise<void> {
  const { success } = await limiter.limit({ key });
  if (!success) {
    throw new ApiError(
      429,
      [{ title: "Too Many Requests", detail: `Rate limit exceeded; retry in ${periodSeconds} seconds.` }],
      { "Retry-After": String(periodSeconds) },
    );
  }
}

/**
 * Login attempts are counted per source address (any login) and per login from that source — never per
 * login alone, so failures from one address cannot lock the login's owner out at another. An unknown
 * source (no client address, as in local tests) has no source count and one shared pair count per login.
 */
export async function enforceLoginLimits(env: Env, login: string, address: string): Promise<void> {
  const source = address ? rateLimitSource(address) : "";
  if (source) {
    await enforceRateLimit(env.LOGIN_SOURCE_RATE_LIMITER, `source:${source}`, LOGIN_PERIOD_SECONDS);
  }
  await enforceRateLimit(
    env.LOGIN_RATE_LIMITER,
    `login:${JSON.stringify([source, login])}`,
    LOGIN_PERIOD_SECONDS,
  );
}
