// The D1 schema (Drizzle). `npm run db:generate` turns changes here into SQL under migrations/.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { ALL_NETWORKS } from "../auth/ip-networks";
import { CDR_COLUMN_KINDS, type CdrColumn, type ColumnKind } from "../file-format/columns";
import type { TimeFormat } from "../file-format/time-format";

const nowMs = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

/** Yeti "contractors": a customer, a vendor, or both. */
export const contractors = sqliteTable("contractors", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique(),
  customer: integer("customer", { mode: "boolean" }).notNull().default(false),
  vendor: integer("vendor", { mode: "boolean" }).notNull().default(false),
  /** Epoch ms of the last revoke-tokens: every token of the customer issued up to then is refused. */
  tokensRevokedAt: integer("tokens_revoked_at"),
  createdAt: integer("created_at").notNull().default(nowMs),
  updatedAt: integer("updated_at").notNull().default(nowMs),
});

/** Money amounts are decimals kept as text so that "0.0100" stays "0.0100". */
export const accounts = sqliteTable(
  "accounts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    uuid: text("uuid").notNull().unique(),
    contractorId: integer("contractor_id")
      .notNull()
      .references(() => contractors.id),
    name: text("name").notNull().unique(),
    balance: text("balance").notNull().default("0.0"),
    minBalance: text("min_balance").notNull().default("0.0"),
    maxBalance: text("max_balance").notNull().default("0.0"),
    destinationRateLimit: text("destination_rate_limit"),
    originationCapacity: integer("origination_capacity"),
    terminationCapacity: integer("termination_capacity"),
    totalCapacity: integer("total_capacity"),
    currency: text("currency").notNull().default("USD"),
    createdAt: integer("created_at").notNull().default(nowMs),
    updatedAt: integer("updated_at").notNull().default(nowMs),
  },
  (t) => [index("accounts_contractor_id_idx").on(t.contractorId)],
);

/** Customer API v1 credentials. `accountIds` empty = every account of the customer. */
export const apiAccesses = sqliteTable(
  "api_accesses",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    login: text("login").notNull().unique(),
    passwordHash: text("password_hash").notNull(),
    customerId: integer("customer_id")
      .notNull()
      .references(() => contractors.id),
    accountIds: text("account_ids", { mode: "json" }).$type<number[]>().notNull().default(sql`'[]'`),
    allowedIps: text("allowed_ips", { mode: "json" })
      .$type<string[]>()
      .notNull()
      .default(sql.raw(`'${JSON.stringify(ALL_NETWORKS)}'`)),
    allowListenRecording: integer("allow_listen_recording", { mode: "boolean" }).notNull().default(false),
    /** Epoch ms of the last revoke-tokens: tokens of this access issued up to then are refused. */
    tokensRevokedAt: integer("tokens_revoked_at"),
    createdAt: integer("created_at").notNull().default(nowMs),
    updatedAt: integer("updated_at").notNull().default(nowMs),
  },
  (t) => [index("api_accesses_customer_id_idx").on(t.customerId)],
);

/**
 * Sessions ended by `DELETE /auth`: the token's `sid` (or a hash of a token without one). A row names the
 * API access, or for a `sub: "D"` token the customer, so it goes with them; the cron drops rows of expired
 * tokens and rows a later revoke-tokens covers.
 */
export const revokedSessions = sqliteTable("revoked_sessions", {
  key: text("key").primaryKey(),
  accessId: integer("access_id").references(() => apiAccesses.id, { onDelete: "cascade" }),
  customerId: integer("customer_id").references(() => contractors.id, { onDelete: "cascade" }),
  /** The token's `iat` and `exp` (epoch seconds); exp null = a token without expiry. */
  issuedAt: integer("issued_at").notNull(),
  expiresAt: integer("expires_at"),
  revokedAt: integer("revoked_at").notNull(),
});

export const EXPORT_STATUSES = ["Pending", "Completed", "Failed", "Deleted"] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export const CALLBACK_STATUSES = ["Delivered", "Refused", "Error"] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

/** One uploaded multipart part, as R2 needs it to complete the upload. */
export type UploadedPart = { partNumber: number; etag: string };

export const cdrExports = sqliteTable(
  "cdr_exports",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    uuid: text("uuid").notNull().unique(),
    status: text("status").$type<ExportStatus>().notNull().default("Pending"),
    filters: text("filters", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    fields: text("fields", { mode: "json" }).$type<string[]>().notNull(),
    timeFormat: text("time_format").$type<TimeFormat>().notNull().default("with_timezone"),
    timeZoneName: text("time_zone_name"),
    callbackUrl: text("callback_url"),
    /** The last callback attempt's outcome (null before the first), and why it did not get through. */
    callbackStatus: text("callback_status").$type<CallbackStatus>(),
    callbackError: text("callback_error"),
    rowsCount: integer("rows_count"),
    customerAccountId: integer("customer_account_id").references(() => accounts.id),
    /**
     * CDR_SOURCE when the export was created (`d1` or `postgres`): its slices read there, and its
     * checkpoint's cursor means what that source makes of it.
     */
    cdrSource: text("cdr_source").notNull().default("d1"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    // Pipeline state: the checkpoint a resumed invocation continues from.
    step: integer("step").notNull().default(0),
    /** Claims of the current step; reset at each checkpoint. */
    attempts: integer("attempts").notNull().default(0),
    /** Rows up to the checkpoint: where a resumed slice counts on from. */
    rowsWritten: integer("rows_written").notNull().default(0),
    /** Rows in the stored output so far, the running slice's included (`meta.rows-written`). */
    rowsProgress: integer("rows_progress").notNull().default(0),
    /** D1: the last row's time_start (µs) and id. PostgreSQL: the range left (epoch ms) and the next span (s). */
    cursorTimeStart: integer("cursor_time_start"),
    cursorId: integer("cursor_id"),
    uploadId: text("upload_id"),
    parts: text("parts", { mode: "json" }).$type<UploadedPart[]>().notNull().default(sql`'[]'`),
    tailKey: text("tail_key"),
    tailSize: integer("tail_size").notNull().default(0),
    /** The gzip member's running CRC-32 and uncompressed length (mod 2^32) over everything written so far. */
    gzipCrc: integer("gzip_crc").notNull().default(0),
    gzipLength: integer("gzip_length").notNull().default(0),
    leaseOwner: text("lease_owner"),
    leaseUntil: integer("lease_until"),
    progressAt: integer("progress_at"),
    // Rows of the final file, saved just before the upload completes, so a crash right after can finish.
    finalRowsCount: integer("final_rows_count"),
    objectKey: text("object_key"),
    objectSize: integer("object_size"),
    error: text("error"),
  },
  (t) => [
    index("cdr_exports_account_created_idx").on(t.customerAccountId, t.createdAt),
    index("cdr_exports_status_progress_idx").on(t.status, t.progressAt),
  ],
);

/**
 * Idempotency-Key values of `POST /cdr-exports`, per customer: the export the first request with the key
 * created and the SHA-256 of that request's body. The (customer, key) primary key lets one of two concurrent
 * requests with a key win; a key counts for 24 hours, then the cron removes it.
 */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    customerId: integer("customer_id")
      .notNull()
      .references(() => contractors.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    /** Hex SHA-256 of the request body the key was first used with. */
    fingerprint: text("fingerprint").notNull(),
    exportUuid: text("export_uuid").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.key] }),
    index("idempotency_keys_created_at_idx").on(t.createdAt),
  ],
);

/**
 * CDRs as Yeti stores them. Timestamps are integer microseconds since the epoch (exact instant,
 * microseconds kept); decimals are text as written; addresses are text as given.
 */
/** A `cdrs` column as D1 stores its kind: times as integer microseconds, booleans 0/1, decimals as text. */
function cdrColumn(name: string, kind: ColumnKind) {
  if (kind === "text" || kind === "decimal") return text(name);
  return kind === "bool" ? integer(name, { mode: "boolean" }) : integer(name);
}

/** The CDR columns of src/file-format/columns.ts, keyed by their SQL names. */
const cdrColumns = Object.fromEntries(
  Object.entries(CDR_COLUMN_KINDS).map(([name, kind]) => [name, cdrColumn(name, kind)]),
) as { [K in CdrColumn]: ReturnType<typeof cdrColumn> };

export const cdrs = sqliteTable(
  "cdrs",
  {
    ...cdrColumns,
    id: integer("id").primaryKey(),
    uuid: text("uuid").notNull().unique(),
    time_start: integer("time_start").notNull(),
    /** The row's customer-export CSV text after the time columns, rendered at ingest (file-format/csv TAIL_SQL). */
    csv_tail: text("csv_tail"),
  },
  (t) => [
    // The export scan: one account, a time range, newest first, keyset on (time_start, id).
    index("cdrs_account_time_idx").on(t.customer_acc_id, t.time_start, t.id),
    index("cdrs_customer_time_idx").on(t.customer_id, t.time_start),
    // Operator exports without an account scan by time alone.
    index("cdrs_time_idx").on(t.time_start, t.id),
    // Rows still without csv_tail (ingested before it existed), for the cron's backfill.
    index("cdrs_csv_tail_missing_idx").on(t.id).where(sql`${t.csv_tail} IS NULL`),
  ],
);
