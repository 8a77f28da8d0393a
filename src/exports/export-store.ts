// The D1 queries behind the cdr-exports routes: create, scoped lookups and the paged list.
import { and, count, eq, type SQL, sql } from "drizzle-orm";
import type { CustomerScope } from "../context";
import { db } from "../db/client";
import { accounts, cdrExports } from "../db/schema";
import { configuredSource } from "./cdr-source";
import type { Filters } from "./filters";
import type { TimeFormat } from "./time-format";

export type ExportRow = typeof cdrExports.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;
export type ExportWithAccount = { export: ExportRow; account: AccountRow | null };

export type NewExport = {
  filters: Filters;
  fields: string[];
  timeFormat: TimeFormat;
  timeZoneName: string | null;
  callbackUrl: string | null;
  customerAccountId: number | null;
};

export async function insertExport(env: Env, input: NewExport): Promise<ExportRow> {
  const now = Date.now();
  const [row] = await db(env)
    .insert(cdrExports)
    .values({
      ...input,
      cdrSource: configuredSource(env),
      uuid: crypto.randomUUID(),
      status: "Pending",
      createdAt: now,
      updatedAt: now,
      progressAt: now,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return row;
}

/** The SQL that keeps a customer's caller to its own accounts (and its allowed list, where it has one). */
function scopeCondition(scope: CustomerScope): SQL | undefined {
  return and(
    eq(accounts.contractorId, scope.customerId),
    // One JSON parameter however long the list: D1 binds at most 100 values per statement.
    scope.accountIds.length
      ? sql`${accounts.id} IN (SELECT value FROM json_each(${JSON.stringify(scope.accountIds)}))`
      : undefined,
  );
}

export async function findScopedExport(
  env: Env,
  scope: CustomerScope,
  uuid: string,
): Promise<ExportWithAccount | undefined> {
  return db(env)
    .select({ export: cdrExports, account: accounts })
    .from(cdrExports)
    .innerJoin(accounts, eq(accounts.id, cdrExports.customerAccountId))
    .where(and(eq(cdrExports.uuid, uuid), scopeCondition(scope)))
    .get();
}

export async function listScopedExports(
  env: Env,
  scope: CustomerScope,
  conditions: SQL[],
  order: SQL[],
  page: { size: number; offset: number },
): Promise<{ rows: ExportWithAccount[]; total: number }> {
  const where = and(scopeCondition(scope), ...conditions);
  const d = db(env);
  // Not d.batch(): D1 batch results come back as objects, and Drizzle maps a join's duplicate column
  // names (id, uuid, created_at, ...) from them wrongly; single queries use raw arrays and map right.
  const [rows, totals] = await Promise.all([
    d
      .select({ export: cdrExports, account: accounts })
      .from(cdrExports)
      .innerJoin(accounts, eq(accounts.id, cdrExports.customerAccountId))
      .where(where)
      .orderBy(...order)
      .limit(page.size)
      .offset(page.offset),
    d
      .select({ total: count() })
      .from(cdrExports)
      .innerJoin(accounts, eq(accounts.id, cdrExports.customerAccountId))
      .where(where),
  ]);
  return { rows, total: totals[0]?.total ?? 0 };
}
