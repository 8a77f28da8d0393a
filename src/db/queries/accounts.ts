// The D1 statements behind the customer `accounts` routes: the caller's accounts (its customer's, within
// the access's allowed list), each read one statement with the caller check (`callerCte`) inside.
import { type SQL, sql } from "drizzle-orm";
import type { Caller } from "../../context";
import { accounts } from "../schema";
import { type D1Handle, statement } from "../statement";
import { accountInScope, type CallerRow, callerColumns, callerCte } from "./caller";
import { type AccountView, accountView, orderByAliases, type SortKey } from "./cdr-exports";

export type ScopedAccount = { caller: CallerRow | null; found: AccountView | null };

/** Show: the caller and its account of that uuid (lower-case), in one statement. */
export async function findScopedAccount(d1: D1Handle, caller: Caller, uuid: string): Promise<ScopedAccount> {
  const [row] = await statement(
    d1,
    sql`WITH ${callerCte(caller)}
      SELECT ${callerColumns.select}, ${accountView.select}
      FROM caller LEFT JOIN ${accounts} ON ${accounts.uuid} = ${uuid} AND ${accountInScope}`,
  ).raw();
  if (!row) return { caller: null, found: null };
  return { caller: callerColumns.decode(row, 0), found: accountView.decode(row, callerColumns.width) };
}

export type ScopedAccounts = { caller: CallerRow | null; rows: AccountView[]; total: number };

/** One page of the caller's accounts and their total, in one statement (as `listScopedExports`). */
export async function listScopedAccounts(
  d1: D1Handle,
  caller: Caller,
  conditions: SQL[],
  order: SortKey<typeof accountView.columns>[],
  page: { size: number; offset: number },
): Promise<ScopedAccounts> {
  const where = conditions.length ? sql` AND ${sql.join(conditions, sql` AND `)}` : sql``;
  const rows = await statement(
    d1,
    sql`WITH ${callerCte(caller)},
      scoped AS NOT MATERIALIZED (
        SELECT ${accountView.select} FROM caller CROSS JOIN ${accounts} ON ${accountInScope}${where}
      )
      SELECT ${callerColumns.select}, (SELECT count(*) FROM scoped) AS total, page.*
      FROM caller LEFT JOIN (
        SELECT * FROM scoped ORDER BY ${orderByAliases("scoped", accountView, order)}
        LIMIT ${page.size} OFFSET ${page.offset}
      ) AS page ON 1
      ORDER BY ${orderByAliases("page", accountView, order)}`,
  ).raw();
  const first = rows[0];
  if (!first) return { caller: null, rows: [], total: 0 };
  const at = callerColumns.width + 1;
  const found = rows.flatMap((row) => {
    const account = accountView.decode(row, at);
    return account ? [account] : [];
  });
  return { caller: callerColumns.decode(first, 0), rows: found, total: first[callerColumns.width] as number };
}
