// The exports the PostgreSQL tests order, each with Yeti's SQL for it written out by hand as the original
// builds it (`CdrExport#export_sql`): the global setup prints that SQL's file with psql, the builder's unit
// test compares its SQL with it, and the workerd tests compare the Worker's file with psql's.
import {
  ACCOUNT,
  BIG_ACCOUNT,
  CUSTOMER_ID,
  HOSTILE,
  SIBLING_ACCOUNT,
  type YetiAccount,
} from "../../scripts/pg/fixture.mjs";

export type PgCase = {
  /** A customer export of `account`, or an operator export of `fields`. */
  order: { via: "customer"; account: YetiAccount } | { via: "operator"; fields: string[] };
  /** The filters as the API is sent them. */
  filters: Record<string, unknown>;
  timeFormat?: "with_timezone" | "without_timezone" | "round_to_seconds";
  timeZoneName?: string;
  /** Yeti's SELECT; the file is COPY (sql) ... WITH (FORMAT CSV, HEADER, FORCE_QUOTE *) after SET LOCAL timezone. */
  sql: string;
};

const TIMES = {
  with_timezone:
    'cdr.cdr.time_start AS "Time Start", cdr.cdr.time_connect AS "Time Connect", cdr.cdr.time_end AS "Time End"',
  without_timezone:
    'cdr.cdr.time_start::timestamp AS "Time Start", cdr.cdr.time_connect::timestamp AS "Time Connect", ' +
    'cdr.cdr.time_end::timestamp AS "Time End"',
  round_to_seconds:
    `to_char(cdr.cdr.time_start, 'YYYY-MM-DD HH24:MI:SS') AS "Time Start", ` +
    `to_char(cdr.cdr.time_connect, 'YYYY-MM-DD HH24:MI:SS') AS "Time Connect", ` +
    `to_char(cdr.cdr.time_end, 'YYYY-MM-DD HH24:MI:SS') AS "Time End"`,
};

const CUSTOMER_REST =
  'success AS "Success", duration AS "Duration", src_name_in AS "Src Name In", src_prefix_in AS "Src Prefix In", ' +
  'dst_prefix_in AS "Dst Prefix In", from_domain AS "From Domain", to_domain AS "To Domain", ' +
  'ruri_domain AS "Ruri Domain", lega_disconnect_code AS "Lega Disconnect Code", ' +
  'lega_disconnect_reason AS "Lega Disconnect Reason", auth_orig_ip AS "Auth Orig Ip", ' +
  'auth_orig_port AS "Auth Orig Port", src_prefix_routing AS "Src Prefix Routing", ' +
  'dst_prefix_routing AS "Dst Prefix Routing", destination_prefix AS "Destination Prefix", ' +
  'destination_initial_interval AS "Destination Initial Interval", ' +
  'destination_next_interval AS "Destination Next Interval", destination_initial_rate AS "Destination Initial Rate", ' +
  'destination_next_rate AS "Destination Next Rate", destination_fee AS "Destination Fee", ' +
  'customer_price AS "Customer Price", customer_duration AS "Customer Duration", orig_call_id AS "Orig Call", ' +
  'local_tag AS "Local Tag", lega_user_agent AS "Lega User Agent", diversion_in AS "Diversion In"';

const customerSelect = (format: keyof typeof TIMES) =>
  `SELECT ${TIMES[format]}, ${CUSTOMER_REST} FROM "cdr"."cdr"`;
const ORDER = "ORDER BY cdr.cdr.time_start DESC";
const DAY = { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-02 00:00:00" };
const DAY_SQL = `"cdr"."cdr"."time_start" >= '2019-01-01 00:00:00' AND "cdr"."cdr"."time_start" < '2019-01-02 00:00:00'`;
const account = (a: YetiAccount) => `"cdr"."cdr"."customer_acc_id" = ${a.id}`;

const cases = {
  /** The published example's request (reference/cdr-exports-create.txt): no zone, every customer filter. */
  example: {
    order: { via: "customer", account: ACCOUNT },
    filters: {
      ...DAY,
      success_eq: true,
      duration_eq: 60,
      duration_gteq: 0,
      duration_lteq: 100,
      src_prefix_routing_eq: "123",
      dst_prefix_routing_eq: "456",
    },
    sql:
      `${customerSelect("with_timezone")} WHERE (${DAY_SQL} AND ${account(ACCOUNT)} AND "cdr"."cdr"."success" = TRUE ` +
      `AND "cdr"."cdr"."src_prefix_routing" = '123' AND "cdr"."cdr"."dst_prefix_routing" = '456' ` +
      `AND "cdr"."cdr"."duration" = 60 AND "cdr"."cdr"."duration" >= 0 AND "cdr"."cdr"."duration" <= 100) ${ORDER}`,
  },
  kyivDay: {
    order: { via: "customer", account: ACCOUNT },
    filters: DAY,
    timeZoneName: "Europe/Kyiv",
    sql: `${customerSelect("with_timezone")} WHERE (${DAY_SQL} AND ${account(ACCOUNT)}) ${ORDER}`,
  },
  kyivWithoutTimezone: {
    order: { via: "customer", account: ACCOUNT },
    filters: DAY,
    timeFormat: "without_timezone",
    timeZoneName: "Europe/Kyiv",
    sql: `${customerSelect("without_timezone")} WHERE (${DAY_SQL} AND ${account(ACCOUNT)}) ${ORDER}`,
  },
  /** 02:30 does not exist in New York on 2021-03-14: PostgreSQL reads it with the offset before (07:30Z). */
  newYorkGap: {
    order: { via: "customer", account: ACCOUNT },
    filters: { time_start_gteq: "2021-03-14 02:30:00", time_start_lt: "2021-03-14 04:00:00" },
    timeZoneName: "America/New_York",
    sql:
      `${customerSelect("with_timezone")} WHERE ("cdr"."cdr"."time_start" >= '2021-03-14 02:30:00' ` +
      `AND "cdr"."cdr"."time_start" < '2021-03-14 04:00:00' AND ${account(ACCOUNT)}) ${ORDER}`,
  },
  /** 01:30 happens twice in New York on 2021-11-07: PostgreSQL reads the second (EST, 06:30Z). */
  newYorkOverlap: {
    order: { via: "customer", account: ACCOUNT },
    filters: { time_start_gteq: "2021-11-07 01:30:00", time_start_lt: "2021-11-07 03:00:00" },
    timeZoneName: "America/New_York",
    sql:
      `${customerSelect("with_timezone")} WHERE ("cdr"."cdr"."time_start" >= '2021-11-07 01:30:00' ` +
      `AND "cdr"."cdr"."time_start" < '2021-11-07 03:00:00' AND ${account(ACCOUNT)}) ${ORDER}`,
  },
  kolkataRounded: {
    order: { via: "customer", account: ACCOUNT },
    filters: { time_start_gteq: "2018-12-31 12:00:00", time_start_lt: "2019-01-02 12:30:00" },
    timeFormat: "round_to_seconds",
    timeZoneName: "Asia/Kolkata",
    sql:
      `${customerSelect("round_to_seconds")} WHERE ("cdr"."cdr"."time_start" >= '2018-12-31 12:00:00' ` +
      `AND "cdr"."cdr"."time_start" < '2019-01-02 12:30:00' AND ${account(ACCOUNT)}) ${ORDER}`,
  },
  hostileDrop: {
    order: { via: "customer", account: ACCOUNT },
    filters: { ...DAY, src_prefix_routing_eq: HOSTILE.drop, dst_prefix_routing_eq: HOSTILE.quotes },
    sql:
      `${customerSelect("with_timezone")} WHERE (${DAY_SQL} AND ${account(ACCOUNT)} ` +
      String.raw`AND "cdr"."cdr"."src_prefix_routing" = '''; DROP TABLE cdr.cdr; --' ` +
      String.raw`AND "cdr"."cdr"."dst_prefix_routing" = E'a''b''''c"d\\') ` +
      ORDER,
  },
  hostileBackslash: {
    order: { via: "customer", account: ACCOUNT },
    filters: { ...DAY, src_prefix_routing_eq: HOSTILE.backslash, dst_prefix_routing_eq: HOSTILE.dollar },
    sql:
      `${customerSelect("with_timezone")} WHERE (${DAY_SQL} AND ${account(ACCOUNT)} ` +
      String.raw`AND "cdr"."cdr"."src_prefix_routing" = E'\\''; SELECT pg_sleep(5); --\\' ` +
      `AND "cdr"."cdr"."dst_prefix_routing" = '$$ || (SELECT 1) || $$') ${ORDER}`,
  },
  /** Filters nothing matches: the header line alone. */
  empty: {
    order: { via: "customer", account: SIBLING_ACCOUNT },
    filters: { ...DAY, duration_eq: -1 },
    sql: `${customerSelect("with_timezone")} WHERE (${DAY_SQL} AND ${account(SIBLING_ACCOUNT)} AND "cdr"."cdr"."duration" = -1) ${ORDER}`,
  },
  /** An operator export: its own columns (id and uuid qualified, as Yeti writes them), lists and ids. */
  operator: {
    order: {
      via: "operator",
      fields: [
        "id",
        "uuid",
        "customer_id",
        "customer_acc_id",
        "vendor_id",
        "is_last_cdr",
        "time_start",
        "time_end",
        "success",
        "duration",
        "src_prefix_in",
        "dst_prefix_in",
        "customer_price",
      ],
    },
    filters: {
      time_start_gteq: "2019-01-01 00:00:00",
      time_start_lt: "2019-01-03 00:00:00",
      vendor_id_in: [1, 2, 3],
      customer_acc_id_in: [ACCOUNT.id, SIBLING_ACCOUNT.id],
      is_last_cdr_eq: true,
      customer_id_eq: CUSTOMER_ID,
    },
    timeFormat: "without_timezone",
    timeZoneName: "America/New_York",
    sql:
      'SELECT cdr.cdr.id AS "ID", cdr.cdr.uuid AS "UUID", customer_id AS "Customer", customer_acc_id AS "Customer Acc", ' +
      'vendor_id AS "Vendor", is_last_cdr AS "Is Last Cdr", cdr.cdr.time_start::timestamp AS "Time Start", ' +
      'cdr.cdr.time_end::timestamp AS "Time End", success AS "Success", duration AS "Duration", ' +
      'src_prefix_in AS "Src Prefix In", dst_prefix_in AS "Dst Prefix In", customer_price AS "Customer Price" ' +
      `FROM "cdr"."cdr" WHERE ("cdr"."cdr"."time_start" >= '2019-01-01 00:00:00' ` +
      `AND "cdr"."cdr"."time_start" < '2019-01-03 00:00:00' AND "cdr"."cdr"."customer_id" = ${CUSTOMER_ID} ` +
      `AND "cdr"."cdr"."customer_acc_id" IN (${ACCOUNT.id}, ${SIBLING_ACCOUNT.id}) ` +
      `AND "cdr"."cdr"."vendor_id" IN (1, 2, 3) AND "cdr"."cdr"."is_last_cdr" = TRUE) ${ORDER}`,
  },
  /** 24,000 wide CDRs over three days: several parts, and as many slices as a test wants. */
  big: {
    order: { via: "customer", account: BIG_ACCOUNT },
    filters: { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-04 00:00:00" },
    sql:
      `${customerSelect("with_timezone")} WHERE ("cdr"."cdr"."time_start" >= '2019-01-01 00:00:00' ` +
      `AND "cdr"."cdr"."time_start" < '2019-01-04 00:00:00' AND ${account(BIG_ACCOUNT)}) ${ORDER}`,
  },
  /** CDRs between 02:00 and 18:00 UTC only: the D1 comparison in a zone (see the README on bounds). */
  siblingKyiv: {
    order: { via: "customer", account: SIBLING_ACCOUNT },
    filters: { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-03 00:00:00" },
    timeZoneName: "Europe/Kyiv",
    sql:
      `${customerSelect("with_timezone")} WHERE ("cdr"."cdr"."time_start" >= '2019-01-01 00:00:00' ` +
      `AND "cdr"."cdr"."time_start" < '2019-01-03 00:00:00' AND ${account(SIBLING_ACCOUNT)}) ${ORDER}`,
  },
  siblingKolkataRounded: {
    order: { via: "customer", account: SIBLING_ACCOUNT },
    filters: { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-03 00:00:00" },
    timeFormat: "round_to_seconds",
    timeZoneName: "Asia/Kolkata",
    sql:
      `${customerSelect("round_to_seconds")} WHERE ("cdr"."cdr"."time_start" >= '2019-01-01 00:00:00' ` +
      `AND "cdr"."cdr"."time_start" < '2019-01-03 00:00:00' AND ${account(SIBLING_ACCOUNT)}) ${ORDER}`,
  },
} satisfies Record<string, PgCase>;

export type CaseName = keyof typeof cases;
export const CASES: Record<CaseName, PgCase> = cases;

/** What the global setup found: the files psql printed, or why the PostgreSQL tests cannot run. */
export type PostgresFixture =
  | {
      available: true;
      /** Per case: psql's output (when under 2 MB), its SHA-256, its bytes and the rows of the query. */
      expected: Record<CaseName, { text: string | null; sha256: string; bytes: number; rows: number }>;
      /** The CDRs of ACCOUNT and SIBLING_ACCOUNT as the ingest API takes them, read from PostgreSQL. */
      ndjson: string;
    }
  | { available: false; reason: string };

declare module "vitest" {
  export interface ProvidedContext {
    postgres: PostgresFixture;
  }
}
