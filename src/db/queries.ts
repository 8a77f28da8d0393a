// The lookups the auth layer and the routes share.
import { and, eq, sql } from "drizzle-orm";
import type { CustomerScope } from "../context";
import { db } from "./client";
import { accounts, apiAccesses, contractors, revokedSessions } from "./schema";

/** 1 when `DELETE /auth` has ended the session, in the same query as the lookup it is part of. */
function sessionRevoked(env: Env, session: string) {
  // Drizzle renders an embedded query in parentheses already.
  return sql<number>`exists ${db(env)
    .select({ one: sql`1` })
    .from(revokedSessions)
    .where(eq(revokedSessions.key, session))}`.as("session_revoked");
}

/**
 * The customer's revoke-tokens time under a name of its own: in a batch, D1 returns rows keyed by column
 * name, and the access's column of the same name would hide it.
 */
const customerRevokedAt = sql<number | null>`${contractors.tokensRevokedAt}`.as("customer_revoked_at");

/**
 * An API access with what revocation needs (its and its customer's revoke-tokens time, whether the session
 * was ended): one query, so authenticating a request stays one D1 round trip. Not run: callers may batch it.
 */
export function accessLookup(env: Env, id: number, session: string) {
  return db(env)
    .select({
      id: apiAccesses.id,
      customerId: apiAccesses.customerId,
      accountIds: apiAccesses.accountIds,
      allowedIps: apiAccesses.allowedIps,
      allowRec: apiAccesses.allowListenRecording,
      accessRevokedAt: apiAccesses.tokensRevokedAt,
      customerRevokedAt,
      sessionRevoked: sessionRevoked(env, session),
    })
    .from(apiAccesses)
    .innerJoin(contractors, eq(contractors.id, apiAccesses.customerId))
    .where(eq(apiAccesses.id, id));
}

/** A customer for `sub: "D"` tokens, with its revoke-tokens time and whether the session was ended. */
export function dynamicCustomerLookup(env: Env, customerId: number, session: string) {
  return db(env)
    .select({
      id: contractors.id,
      customerRevokedAt: contractors.tokensRevokedAt,
      sessionRevoked: sessionRevoked(env, session),
    })
    .from(contractors)
    .where(and(eq(contractors.id, customerId), eq(contractors.customer, true)));
}

export type AccessLookupRow = Awaited<ReturnType<ReturnType<typeof accessLookup>["get"]>>;
export type DynamicCustomerLookupRow = Awaited<ReturnType<ReturnType<typeof dynamicCustomerLookup>["get"]>>;

/** An account the caller may use: the customer's own, and within the access's allowed list if it has one. */
export async function findScopedAccountByUuid(env: Env, scope: CustomerScope, uuid: string) {
  const row = await db(env)
    .select()
    .from(accounts)
    .where(and(eq(accounts.uuid, uuid), eq(accounts.contractorId, scope.customerId)))
    .get();
  if (!row) return undefined;
  if (scope.accountIds.length && !scope.accountIds.includes(row.id)) return undefined;
  return row;
}
