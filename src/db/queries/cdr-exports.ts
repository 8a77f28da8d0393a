// The D1 statements behind the cdr-exports routes (the create's are in export-create.ts). Each customer
// read is one round trip with the caller check (db/queries `callerCte`) inside: one statement, or one batch.
import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Filters } from "../../cdr-exports/filters";
import type { Caller } from "../../context";
import type { TimeFormat } from "../../file-format/time-format";
import { configuredSource } from "../../pipeline/cdr-source";
import { db } from "../client";
import { accounts, cdrExports } from "../schema";
import { type D1Handle, type Decoded, frozen, Projection, rowsOf, statement } from "../statement";
import { accountInScope, type CallerRow, callerColumns, callerCte } from "./caller";

export type ExportRow = typeof cdrExports.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;

/** What the customer routes render and serve of an export. */
export const exportView = new Projection("export_", {
  id: cdrExports.id,
  uuid: cdrExports.uuid,
  status: cdrExports.status,
  filters: cdrExports.filters,
  rowsCount: cdrExports.rowsCount,
  createdAt: cdrExports.createdAt,
  updatedAt: cdrExports.updatedAt,
  timeFormat: cdrExports.timeFormat,
  timeZoneName: cdrExports.timeZoneName,
  rowsProgress: cdrExports.rowsProgress,
  objectKey: cdrExports.objectKey,
});

/** An account as the customer API renders it. */
export const accountView = new Projection("account_", {
  id: accounts.id,
  uuid: accounts.uuid,
  name: accounts.name,
  balance: accounts.balance,
  minBalance: accounts.minBalance,
  maxBalance: accounts.maxBalance,
  destinationRateLimit: accounts.destinationRateLimit,
  originationCapacity: accounts.originationCapacity,
  terminationCapacity: accounts.terminationCapacity,
  totalCapacity: accounts.totalCapacity,
  currency: accounts.currency,
});

export type ExportView = Decoded<typeof exportView.columns>;
export type AccountView = Decoded<typeof accountView.columns>;
export type ExportWithAccount = { export: ExportView; account: AccountView };

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

/** The caller's scope, and the export when it is one of the caller's (its account in scope). */
export type ScopedExport = { caller: CallerRow | null; found: ExportWithAccount | null };

export function withAccount(row: readonly unknown[], at: number): ExportWithAccount | null {
  const found = exportView.decode(row, at);
  const account = accountView.decode(row, at + exportView.width);
  return found && account ? { export: found, account } : null;
}

/** Show (and the routes under it): caller, export and account in one statement. */
export async function findScopedExport(d1: D1Handle, caller: Caller, uuid: string): Promise<ScopedExport> {
  const [row] = await statement(
    d1,
    sql`WITH ${callerCte(caller)}
      SELECT ${callerColumns.select}, ${exportView.select}, ${accountView.select}
      FROM caller
      LEFT JOIN ${cdrExports} ON ${cdrExports.uuid} = ${uuid}
        AND ${cdrExports.customerAccountId} IN (SELECT ${accounts.id} FROM ${accounts} WHERE ${accountInScope})
      LEFT JOIN ${accounts} ON ${accounts.id} = ${cdrExports.customerAccountId}`,
  ).raw();
  if (!row) return { caller: null, found: null };
  return { caller: callerColumns.decode(row, 0), found: withAccount(row, callerColumns.width) };
}

/** A list item: its account only where the request includes accounts. */
export type ListedExport = { export: ExportView; account: AccountView | null };
export type ScopedList = { caller: CallerRow | null; rows: ListedExport[]; total: number };

/**
 * One page of the caller's exports and their total, in one statement read as raw arrays: the caller row
 * LEFT JOINed to the page (so an empty page still answers), the count as a scalar subquery. The filtered
 * set is a NOT MATERIALIZED CTE, inlined into both, so its conditions are bound once; CROSS JOIN keeps
 * SQLite's join order caller → accounts → exports, so both walk the caller's accounts' index ranges.
 * Accounts' columns come only for `include=account`: a page without them is half the values.
 */
export async function listScopedExports(
  d1: D1Handle,
  caller: Caller,
  conditions: SQL[],
  order: SortKey<typeof exportView.columns>[],
  page: { size: number; offset: number },
  withAccounts: boolean,
): Promise<ScopedList> {
  const where = conditions.length ? sql`WHERE ${sql.join(conditions, sql` AND `)}` : sql``;
  // Both orders name the set's output columns; the outer one keeps the page's order.
  const orderBy = (table: string) => orderByAliases(table, exportView, order);
  const rows = await statement(
    d1,
    sql`WITH ${callerCte(caller)},
      scoped AS NOT MATERIALIZED (
        SELECT ${exportView.select}${withAccounts ? sql`, ${accountView.select}` : sql``}
        FROM caller CROSS JOIN ${accounts} ON ${accountInScope}
        CROSS JOIN ${cdrExports} ON ${cdrExports.customerAccountId} = ${accounts.id}
        ${where}
      )
      SELECT ${callerColumns.select}, (SELECT count(*) FROM scoped) AS total, page.*
      FROM caller LEFT JOIN (
        SELECT * FROM scoped ORDER BY ${orderBy("scoped")} LIMIT ${page.size} OFFSET ${page.offset}
      ) AS page ON 1
      ORDER BY ${orderBy("page")}`,
  ).raw();
  const first = rows[0];
  if (!first) return { caller: null, rows: [], total: 0 };
  const at = callerColumns.width + 1;
  const found: ListedExport[] = [];
  for (const row of rows) {
    const item = exportView.decode(row, at);
    if (!item) continue;
    found.push({
      export: item,
      account: withAccounts ? accountView.decode(row, at + exportView.width) : null,
    });
  }
  return { caller: callerColumns.decode(first, 0), rows: found, total: first[callerColumns.width] as number };
}

/** A sort key: a projection's column, the direction, and whether it is a decimal stored as text. */
export type SortKey<T extends Record<string, SQLiteColumn>> = {
  key: keyof T & string;
  descending: boolean;
  decimal?: boolean;
};

/** ORDER BY a projection's output columns, with PostgreSQL's NULL order (last ascending, first descending). */
export function orderByAliases<T extends Record<string, SQLiteColumn>>(
  table: string,
  projection: Projection<T>,
  order: SortKey<T>[],
): SQL {
  return sql.join(
    order.map(({ key, descending, decimal }) => {
      const column = sql`${sql.raw(table)}.${sql.identifier(projection.alias(key))}`;
      return sql`${decimal ? sql`CAST(${column} AS REAL)` : column} ${descending ? sql`DESC NULLS FIRST` : sql`ASC NULLS LAST`}`;
    }),
    sql`, `,
  );
}

/** RETURNING of a projection's columns, unqualified (RETURNING names the written row's own). */
export function returning<T extends Record<string, SQLiteColumn>>(projection: Projection<T>): SQL {
  return frozen(
    sql.join(
      Object.entries(projection.columns).map(
        ([key, column]) => sql`${sql.identifier(column.name)} AS ${sql.identifier(projection.alias(key))}`,
      ),
      sql`, `,
    ),
  );
}

/** Every column of an export: what removing its files needs. */
const exportRow = new Projection("row_", getTableColumns(cdrExports));

export type ScopedDelete = ScopedExport & {
  /** The export as this request marked it Deleted; null when it was Deleted already (or not the caller's). */
  marked: ExportRow | null;
  /** The whole row as it was, for the clean-up a Deleted export may still need. */
  before: ExportRow | null;
};

/**
 * Customer DELETE: the caller and its export, and in the same batch the export marked Deleted (unless it
 * is already) — a running consumer sees that at its next step and stops. Its files go next (lifecycle).
 */
export async function markScopedExportDeleted(
  d1: D1Handle,
  caller: Caller,
  uuid: string,
  now = Date.now(),
): Promise<ScopedDelete> {
  const cte = callerCte(caller);
  const inScope = sql`${cdrExports.customerAccountId} IN (SELECT ${accounts.id} FROM caller CROSS JOIN ${accounts} ON ${accountInScope})`;
  const [found, marked] = await d1.batch([
    statement(
      d1,
      sql`WITH ${cte} SELECT ${callerColumns.select}, ${exportView.select}, ${accountView.select}, ${exportRow.select}
        FROM caller
        LEFT JOIN ${cdrExports} ON ${cdrExports.uuid} = ${uuid} AND ${inScope}
        LEFT JOIN ${accounts} ON ${accounts.id} = ${cdrExports.customerAccountId}`,
    ),
    statement(
      d1,
      sql`WITH ${cte} UPDATE ${cdrExports}
        SET status = 'Deleted', updated_at = ${now}, lease_owner = NULL, lease_until = NULL
        WHERE ${cdrExports.uuid} = ${uuid} AND ${cdrExports.status} IN ('Pending', 'Completed', 'Failed') AND ${inScope}
        RETURNING ${returning(exportRow)}`,
    ),
  ]);
  const [row] = rowsOf(found);
  const [markedRow] = rowsOf(marked);
  const rowAt = callerColumns.width + exportView.width + accountView.width;
  return {
    caller: row ? callerColumns.decode(row, 0) : null,
    found: row ? withAccount(row, callerColumns.width) : null,
    marked: markedRow ? exportRow.decode(markedRow, 0) : null,
    before: row ? exportRow.decode(row, rowAt) : null,
  };
}

/**
 * A signed link's export, and whether the credentials that made the link still hold (`caller`, checked
 * from any source address; null for the operator's links, which end by expiry only). One statement.
 */
export async function findLinkedExport(
  d1: D1Handle,
  uuid: string,
  caller: Caller | null,
): Promise<{ granted: boolean; row: ExportView | null }> {
  const granted = caller ? sql`EXISTS (SELECT 1 FROM caller)` : sql`1`;
  const [row] = await statement(
    d1,
    sql`${caller ? sql`WITH ${callerCte(caller)} ` : sql``}SELECT ${granted} AS granted, ${exportView.select}
      FROM (SELECT 1) LEFT JOIN ${cdrExports} ON ${cdrExports.uuid} = ${uuid}`,
  ).raw();
  return { granted: row?.[0] === 1, row: row ? exportView.decode(row, 1) : null };
}
