// The CDR columns, defined once: the D1 table (src/db/schema.ts), ingestion (src/cdrs/ingest.ts), the
// PostgreSQL seed (scripts/pg/copy-text.mjs) and the export file all take them from here. Also the CSV
// header names Yeti gives them. Plain data and type annotations only: Node runs this file as it is.

/**
 * How a column is stored and written: `time` is microseconds since the epoch (an integer in D1), `bool`
 * 0/1, `decimal` text that keeps its digits ("0.0100"), `int` and `text` as they are.
 */
export type ColumnKind = "time" | "bool" | "int" | "decimal" | "text";

/** Every `cdrs` column, in the table's order: the ones an operator export may list in `fields`. */
export const CDR_COLUMN_KINDS = {
  id: "int",
  uuid: "text",
  customer_id: "int",
  customer_acc_id: "int",
  vendor_id: "int",
  vendor_acc_id: "int",
  customer_auth_id: "int",
  orig_gw_id: "int",
  term_gw_id: "int",
  is_last_cdr: "bool",
  src_prefix_out: "text",
  dst_prefix_out: "text",
  src_country_id: "int",
  dst_country_id: "int",
  time_start: "time",
  time_connect: "time",
  time_end: "time",
  success: "bool",
  duration: "int",
  src_name_in: "text",
  src_prefix_in: "text",
  dst_prefix_in: "text",
  from_domain: "text",
  to_domain: "text",
  ruri_domain: "text",
  lega_disconnect_code: "int",
  lega_disconnect_reason: "text",
  auth_orig_ip: "text",
  auth_orig_port: "int",
  src_prefix_routing: "text",
  dst_prefix_routing: "text",
  destination_prefix: "text",
  destination_initial_interval: "int",
  destination_next_interval: "int",
  destination_initial_rate: "decimal",
  destination_next_rate: "decimal",
  destination_fee: "decimal",
  customer_price: "decimal",
  customer_duration: "int",
  orig_call_id: "text",
  local_tag: "text",
  lega_user_agent: "text",
  diversion_in: "text",
} as const satisfies Record<string, ColumnKind>;

export type CdrColumn = keyof typeof CDR_COLUMN_KINDS;

/** CDR_COLUMN_KINDS looked up by any name (undefined for a name that is no column). */
export const CDR_COLUMNS: Readonly<Record<string, ColumnKind>> = CDR_COLUMN_KINDS;

/** The columns of a customer export, in Yeti's order. */
export const CUSTOMER_COLUMNS: readonly string[] = [
  "time_start",
  "time_connect",
  "time_end",
  "success",
  "duration",
  "src_name_in",
  "src_prefix_in",
  "dst_prefix_in",
  "from_domain",
  "to_domain",
  "ruri_domain",
  "lega_disconnect_code",
  "lega_disconnect_reason",
  "auth_orig_ip",
  "auth_orig_port",
  "src_prefix_routing",
  "dst_prefix_routing",
  "destination_prefix",
  "destination_initial_interval",
  "destination_next_interval",
  "destination_initial_rate",
  "destination_next_rate",
  "destination_fee",
  "customer_price",
  "customer_duration",
  "orig_call_id",
  "local_tag",
  "lega_user_agent",
  "diversion_in",
];

/** The customer columns less those the operator hides (CUSTOMER_HIDDEN_COLUMNS, comma-separated). */
export function customerColumns(hidden: readonly string[]): string[] {
  const hide = new Set(hidden);
  return CUSTOMER_COLUMNS.filter((name) => !hide.has(name));
}

/** The CSV header of a column, as Yeti aliases it: `ID` and `UUID` spelled so, the others titleized. */
export function headerName(column: string): string {
  if (column === "id") return "ID";
  if (column === "uuid") return "UUID";
  return titleize(column);
}

/** Rails' `titleize`: a trailing `_id` dropped, words split on `_`, each capitalised. */
export function titleize(column: string): string {
  return column
    .replace(/_id$/, "")
    .split("_")
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(" ");
}
