// Token revocation: revoke-tokens times (per API access, per customer), sessions ended by DELETE /auth, clean-up.
import { and, eq, isNotNull, lt, or, sql } from "drizzle-orm";
import { db } from "../db/client";
import { apiAccesses, contractors, revokedSessions } from "../db/schema";
import type { D1Handle } from "../db/statement";
import type { TokenClaims } from "./customer-token";

/** The latest of the revoke-tokens times (epoch ms) that apply, or null when none does. */
function latest(revokedAts: readonly (number | null)[]): number | null {
  const set = revokedAts.filter((t): t is number => t !== null);
  return set.length ? Math.max(...set) : null;
}

/**
 * The `iat` of a token issued now: the current second, or the one after the latest revoke-tokens when that
 * happened within this second, so a login right after a revocation gets a token that works.
 */
export function issueTime(revokedAts: readonly (number | null)[], now = Date.now()): number {
  const since = latest(revokedAts);
  const second = Math.floor(now / 1000);
  return since === null ? second : Math.max(second, Math.floor(since / 1000) + 1);
}

/**
 * Ends the session of verified claims (DELETE /auth). Recorded against the access (or the customer of a
 * `sub: "D"` token) in the same statement that checks it exists; a token of a deleted one has nothing to end.
 */
export async function endSession(
  env: Env,
  claims: TokenClaims,
  now = Date.now(),
  d1: D1Handle = env.DB,
): Promise<void> {
  const issuedAt = Math.max(0, Math.floor(claims.iat));
  const expiresAt = claims.exp === undefined ? null : Math.ceil(claims.exp);
  const owner =
    claims.sub === "D"
      ? sql`select null, ${contractors.id} from ${contractors} where ${contractors.id} = ${claims.cfg?.customer_id ?? -1}`
      : sql`select ${apiAccesses.id}, null from ${apiAccesses} where ${apiAccesses.id} = ${claims.sub}`;
  await db(env, d1).run(
    sql`insert or ignore into ${revokedSessions} (key, issued_at, expires_at, revoked_at, access_id, customer_id)
      select ${claims.session}, ${issuedAt}, ${expiresAt}, ${now}, owner.* from (${owner}) as owner`,
  );
}

/** Revoke-tokens on an API access: every token issued for it so far is refused. */
export async function revokeAccessTokens(env: Env, id: number, now = Date.now()) {
  const [row] = await db(env)
    .update(apiAccesses)
    .set({ tokensRevokedAt: now, updatedAt: now })
    .where(eq(apiAccesses.id, id))
    .returning();
  return row;
}

/** Revoke-tokens on a customer: its `sub: "D"` tokens and the tokens of all its API accesses. */
export async function revokeCustomerTokens(env: Env, id: number, now = Date.now()) {
  const [row] = await db(env)
    .update(contractors)
    .set({ tokensRevokedAt: now, updatedAt: now })
    .where(eq(contractors.id, id))
    .returning();
  return row;
}

/**
 * The cron's clean-up: ended sessions whose token has expired, or that a later revoke-tokens covers,
 * are refused without their row. (Rows of deleted accesses and customers went with them.)
 */
export async function purgeRevokedSessions(env: Env, now = Date.now()): Promise<number> {
  const covered = (revokedAt: typeof apiAccesses.tokensRevokedAt | typeof contractors.tokensRevokedAt) =>
    sql`${revokedSessions.issuedAt} * 1000 <= ${revokedAt}`;
  const coveredByAccess = sql`exists (select 1 from ${apiAccesses} join ${contractors} on ${contractors.id} = ${apiAccesses.customerId} where ${apiAccesses.id} = ${revokedSessions.accessId} and (${covered(apiAccesses.tokensRevokedAt)} or ${covered(contractors.tokensRevokedAt)}))`;
  const coveredByCustomer = sql`exists (select 1 from ${contractors} where ${contractors.id} = ${revokedSessions.customerId} and ${covered(contractors.tokensRevokedAt)})`;
  const removed = await db(env)
    .delete(revokedSessions)
    .where(
      or(
        and(isNotNull(revokedSessions.expiresAt), lt(revokedSessions.expiresAt, Math.floor(now / 1000))),
        coveredByAccess,
        coveredByCustomer,
      ),
    )
    .returning({ key: revokedSessions.key });
  return removed.length;
}
