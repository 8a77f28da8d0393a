// The lookups the auth layer and the routes share.
import { and, eq } from "drizzle-orm";
import type { CustomerScope } from "../context";
import { db } from "./client";
import { accounts, apiAccesses, contractors } from "./schema";

export async function findCustomerContractor(env: Env, id: number) {
  return db(env)
    .select({ id: contractors.id })
    .from(contractors)
    .where(and(eq(contractors.id, id), eq(contractors.customer, true)))
    .get();
}

export async function findApiAccessScope(env: Env, id: number): Promise<CustomerScope | null> {
  const row = await db(env).select().from(apiAccesses).where(eq(apiAccesses.id, id)).get();
  if (!row) return null;
  return {
    accessId: row.id,
    customerId: row.customerId,
    accountIds: row.accountIds,
    allowedIps: row.allowedIps,
  };
}

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
