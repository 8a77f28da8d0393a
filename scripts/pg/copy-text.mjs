// PostgreSQL's COPY text format for loading CDRs (`COPY cdr.cdr (...) FROM STDIN`), and day partitions.

/** The seeded columns: every column an export can write (scripts/pg/cdr-schema.sql). */
export const CDR_COPY_COLUMNS = [
  "id",
  "uuid",
  "customer_id",
  "customer_acc_id",
  "vendor_id",
  "vendor_acc_id",
  "customer_auth_id",
  "orig_gw_id",
  "term_gw_id",
  "is_last_cdr",
  "src_prefix_out",
  "dst_prefix_out",
  "src_country_id",
  "dst_country_id",
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

/** One value in COPY's text format: \N for NULL, backslash escapes for \, newline, CR and tab. */
function field(value) {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "boolean") return value ? "t" : "f";
  return String(value)
    .replaceAll("\\", "\\\\")
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r")
    .replaceAll("\t", "\\t");
}

/** One CDR (an object keyed by column names) as a line of `COPY ... FROM STDIN` data. */
export function copyLine(cdr) {
  return `${CDR_COPY_COLUMNS.map((column) => field(cdr[column])).join("\t")}\n`;
}

export function copyHeader(table = "cdr.cdr") {
  return `COPY ${table} (${CDR_COPY_COLUMNS.join(", ")}) FROM STDIN;\n`;
}

/** A partition of cdr.cdr per UTC day of [fromDay, toDay) ("YYYY-MM-DD"), named like Yeti's cdr_YYYY_MM_DD. */
export function dayPartitionsSql(fromDay, toDay) {
  const statements = [];
  for (
    let day = Date.parse(`${fromDay}T00:00:00Z`);
    day < Date.parse(`${toDay}T00:00:00Z`);
    day += 86_400_000
  ) {
    const from = new Date(day).toISOString().slice(0, 10);
    const to = new Date(day + 86_400_000).toISOString().slice(0, 10);
    statements.push(
      `CREATE TABLE IF NOT EXISTS cdr.cdr_${from.replaceAll("-", "_")} PARTITION OF cdr.cdr ` +
        `FOR VALUES FROM ('${from} 00:00:00+00') TO ('${to} 00:00:00+00');\n`,
    );
  }
  return statements.join("");
}
