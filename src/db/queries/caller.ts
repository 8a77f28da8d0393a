// The caller check every customer request's statements share: one CTE that yields the caller's scope row
// only while its token holds, so a route's reads and writes are gated by it in the same round trip.
import { type SQL, sql } from "drizzle-orm";
import type { Caller } from "../../context";
import { accounts, apiAccesses, contractors, revokedSessions } from "../schema";
import { type D1Handle, frozen, type RowReader, statement } from "../statement";

export type CallerRow = { customerId: number; accountIds: number[]; allowRec: boolean };

/** The `caller` CTE's columns, under aliases of their own, and read back from a raw row. */
export const callerColumns: RowReader<CallerRow> = {
  select: sql`caller.customer_id AS caller_customer_id, caller.account_ids AS caller_account_ids,
    caller.allow_rec AS caller_allow_rec`,
  width: 3,
  decode(row, at) {
    if (row[at] === null || row[at] === undefined) return null;
    return {
      customerId: row[at] as number,
      accountIds: JSON.parse(row[at + 1] as string) as number[],
      allowRec: row[at + 2] === 1,
    };
  },
};

/** A revoke-tokens time that does not cover a token issued at `iatMs` (every token up to it is refused). */
function notRevoked(
  column: typeof apiAccesses.tokensRevokedAt | typeof contractors.tokensRevokedAt,
  iatMs: number,
) {
  return sql`(${column} IS NULL OR ${column} < ${iatMs})`;
}

/**
 * `caller AS MATERIALIZED (...)`: one row (customer_id, account_ids, allow_rec) while the caller's token holds — the
 * access (or the `sub: "D"` token's customer) exists, no revoke-tokens covers the token's `iat`, its
 * session was not ended, and the client's address is inside the access's allowed networks — else none.
 * The allowed networks are matched as a set against every network that contains the address: entries are
 * stored canonical (the operator API writes them so), and `containingNetworks` spells each the same way.
 * MATERIALIZED: computed once per statement; inlined into a join, SQLite re-ran the checks for every row.
 */
export function callerCte(caller: Caller): SQL {
  const iatMs = caller.iat * 1000;
  const sessionLive = sql`NOT EXISTS (SELECT 1 FROM ${revokedSessions} WHERE ${revokedSessions.key} = ${caller.session})`;
  if (caller.kind === "customer") {
    return sql`caller AS MATERIALIZED (SELECT ${contractors.id} AS customer_id, ${JSON.stringify(caller.accountIds)} AS account_ids, 0 AS allow_rec
      FROM ${contractors}
      WHERE ${contractors.id} = ${caller.customerId} AND ${contractors.customer} = 1
        AND ${notRevoked(contractors.tokensRevokedAt, iatMs)} AND ${sessionLive})`;
  }
  const fromAllowedNetwork =
    caller.networks === null
      ? sql``
      : sql` AND EXISTS (SELECT 1 FROM json_each(${apiAccesses.allowedIps}) AS allowed
          WHERE allowed.value IN (SELECT value FROM json_each(${caller.networks})))`;
  return sql`caller AS MATERIALIZED (SELECT ${apiAccesses.customerId} AS customer_id, ${apiAccesses.accountIds} AS account_ids,
      ${apiAccesses.allowListenRecording} AS allow_rec
    FROM ${apiAccesses} JOIN ${contractors} ON ${contractors.id} = ${apiAccesses.customerId}
    WHERE ${apiAccesses.id} = ${caller.accessId}
      AND ${notRevoked(apiAccesses.tokensRevokedAt, iatMs)} AND ${notRevoked(contractors.tokensRevokedAt, iatMs)}
      AND ${sessionLive}${fromAllowedNetwork})`;
}

/** The accounts the caller may use: the customer's own, within its allowed list where it has one. */
export const accountInScope = frozen(sql`${accounts.contractorId} = caller.customer_id
  AND (json_array_length(caller.account_ids) = 0 OR ${accounts.id} IN (SELECT value FROM json_each(caller.account_ids)))`);

/** The caller's scope alone (GET /auth): its row, or none when the token no longer holds. */
export async function checkCaller(d1: D1Handle, caller: Caller): Promise<CallerRow | null> {
  const rows = await statement(
    d1,
    sql`WITH ${callerCte(caller)} SELECT ${callerColumns.select} FROM caller`,
  ).raw();
  return rows[0] ? callerColumns.decode(rows[0], 0) : null;
}
