// Rate limits through the Workers Rate Limiting bindings; over the limit → 429 with Retry-After.
import { ApiError } from "../errors";

/** The bindings count per key over their configured period (wrangler.jsonc `ratelimits`). */
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
