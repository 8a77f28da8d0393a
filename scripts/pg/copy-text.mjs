// PostgreSQL's COPY text format for loading CDRs (`COPY cdr.cdr (...) FROM STDIN`), and day partitions.
// Imports the TypeScript column list: run by the project's Node (>= 22.18 strips types; setup.sh uses it).
import { CDR_COLUMN_KINDS } from "../../src/file-format/columns.ts";

/** The seeded columns: every column an export can write (scripts/pg/cdr-schema.sql), in the table's order. */
export const CDR_COPY_COLUMNS = Object.keys(CDR_COLUMN_KINDS);

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
