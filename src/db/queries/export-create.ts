// The create of a customer export in one D1 batch (one transaction): the caller and account check, the
// Idempotency-Key claim, the insert, and the key's stored export.
import { sql } from "drizzle-orm";
import type { Filters } from "../../cdr-exports/filters";
import { KEY_LIFETIME_MS } from "../../cdr-exports/idempotency";
import type { Caller } from "../../context";
import type { TimeFormat } from "../../file-format/time-format";
import { accounts, cdrExports, idempotencyKeys } from "../schema";
import { type D1Handle, rowsOf, statement } from "../statement";
import { accountInScope, type CallerRow, callerColumns, callerCte } from "./caller";
import {
  type AccountView,
  accountView,
  type ExportView,
  type ExportWithAccount,
  exportView,
  returning,
  withAccount,
} from "./cdr-exports";

/** An Idempotency-Key of a create, and the SHA-256 of the request body it comes with. */
export type KeyClaim = { key: string; fingerprint: string };

export type CreateInput = {
  accountUuid: string | null;
  /** The new export; null when the request is invalid and nothing may be written. */
  values: { filters: Filters; fields: string[]; timeFormat: TimeFormat; timeZoneName: string | null } | null;
  key: KeyClaim | null;
  /** CDR_SOURCE as configured now, stored with the export (configuredSource). */
  cdrSource: string;
  /** The customer whose rate limit counted this request: nothing is written for another. */
  customerId: number;
};

export type CreateOutcome = {
  caller: CallerRow | null;
  accountFound: boolean;
  /** The account the request names, when it is the caller's (`include=account` renders it). */
  account: AccountView | null;
  created: ExportView | null;
  /** The export a live Idempotency-Key of the customer already names, and the body it was used with. */
  stored: { fingerprint: string; found: ExportWithAccount | null } | null;
};

/**
 * The create in one batch (one transaction): the caller and account check, then — only for a valid
 * request of the caller whose customer was rate-limited — the key claim (INSERT … ON CONFLICT: a key still
 * live is kept, a lapsed one taken over) and the insert, which happens only where the claim is this
 * request's, and last the key's stored export. Of concurrent requests with one key, one creates the export
 * and the others read it.
 */
export async function createExport(d1: D1Handle, caller: Caller, input: CreateInput): Promise<CreateOutcome> {
  const uuid = crypto.randomUUID();
  const now = Date.now();
  const expiredBefore = now - KEY_LIFETIME_MS;
  const cte = callerCte(caller);
  const account = sql`JOIN ${accounts} ON ${accounts.uuid} = ${input.accountUuid} AND ${accountInScope}`;
  const writable = sql`caller.customer_id = ${input.customerId}`;
  const statements = [
    statement(
      d1,
      sql`WITH ${cte} SELECT ${callerColumns.select}, ${accountView.select}
        FROM caller LEFT ${account}`,
    ),
  ];
  const { values, key } = input;
  if (values && key) {
    statements.push(
      statement(
        d1,
        sql`WITH ${cte}
          INSERT INTO ${idempotencyKeys} (customer_id, "key", fingerprint, export_uuid, created_at)
          SELECT caller.customer_id, ${key.key}, ${key.fingerprint}, ${uuid}, ${now} FROM caller ${account}
          WHERE ${writable}
          ON CONFLICT (customer_id, "key") DO UPDATE SET fingerprint = excluded.fingerprint,
            export_uuid = excluded.export_uuid, created_at = excluded.created_at
          WHERE ${idempotencyKeys.createdAt} <= ${expiredBefore}`,
      ),
    );
  }
  if (values) {
    const claimed = key
      ? sql` AND EXISTS (SELECT 1 FROM ${idempotencyKeys} WHERE ${idempotencyKeys.customerId} = caller.customer_id
          AND ${idempotencyKeys.key} = ${key.key} AND ${idempotencyKeys.exportUuid} = ${uuid})`
      : sql``;
    statements.push(
      statement(
        d1,
        sql`WITH ${cte}
          INSERT INTO ${cdrExports} (uuid, status, filters, fields, time_format, time_zone_name,
            customer_account_id, cdr_source, created_at, updated_at, progress_at)
          SELECT ${uuid}, 'Pending', ${JSON.stringify(values.filters)}, ${JSON.stringify(values.fields)},
            ${values.timeFormat}, ${values.timeZoneName}, ${accounts.id}, ${input.cdrSource}, ${now}, ${now}, ${now}
          FROM caller ${account}
          WHERE ${writable}${claimed}
          RETURNING ${returning(exportView)}`,
      ),
    );
  }
  if (values && key) {
    statements.push(
      statement(
        d1,
        sql`WITH ${cte}
          SELECT ${idempotencyKeys.fingerprint} AS key_fingerprint, ${exportView.select}, ${accountView.select}
          FROM caller
          JOIN ${idempotencyKeys} ON ${idempotencyKeys.customerId} = caller.customer_id
            AND ${idempotencyKeys.key} = ${key.key} AND ${idempotencyKeys.createdAt} > ${expiredBefore}
          LEFT JOIN ${cdrExports} ON ${cdrExports.uuid} = ${idempotencyKeys.exportUuid}
            AND ${cdrExports.customerAccountId} IN (SELECT ${accounts.id} FROM ${accounts} WHERE ${accountInScope})
          LEFT JOIN ${accounts} ON ${accounts.id} = ${cdrExports.customerAccountId}`,
      ),
    );
  }
  const [checked, ...writes] = await d1.batch(statements);
  const [first] = rowsOf(checked);
  const callerRow = first ? callerColumns.decode(first, 0) : null;
  const named = first ? accountView.decode(first, callerColumns.width) : null;
  const outcome: CreateOutcome = {
    caller: callerRow,
    accountFound: named !== null,
    account: named,
    created: null,
    stored: null,
  };
  if (!values) return outcome;
  const inserted = rowsOf(writes[key ? 1 : 0])[0];
  outcome.created = inserted ? exportView.decode(inserted, 0) : null;
  const storedRow = key ? rowsOf(writes[2])[0] : undefined;
  if (storedRow) outcome.stored = { fingerprint: storedRow[0] as string, found: withAccount(storedRow, 1) };
  return outcome;
}
