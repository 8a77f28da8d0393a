// Yeti's export SQL on cdr.cdr (`CdrExport#export_sql`), its time-zone statement and the COPY around it.
import { escapeIdentifier, escapeLiteral } from "pg";
import { FILTER_DEFINITIONS, type Filters } from "../../cdr-exports/filters";
import { CDR_COLUMNS, headerName } from "../../file-format/columns";
import { createTimeFormatter, type TimeFormat } from "../../file-format/time-format";

/** Where the CDRs are: Yeti's `cdr.cdr` unless CDR_PG_SCHEMA / CDR_PG_TABLE say otherwise. */
export type CdrTable = { schema: string; table: string };

/** What of an export the SQL depends on. */
export type ExportQuery = {
  fields: readonly string[];
  filters: Filters;
  /** The customer's account (Yeti's id): `customer_acc_id_eq`, which Yeti's form adds to the filters. */
  accountId: number | null;
  timeFormat: TimeFormat;
  timeZoneName: string | null;
};

/**
 * The order of `CdrExport::FiltersModel`'s attributes: ransack writes conditions in it, whatever order
 * the filters came in. The `_in` lists of ids are this project's additions, placed after their `_eq`.
 */
const YETI_FILTER_ORDER = [
  "time_start_gteq",
  "time_start_lteq",
  "time_start_lt",
  "customer_id_eq",
  "customer_id_in",
  "customer_acc_id_eq",
  "customer_acc_id_in",
  "vendor_id_eq",
  "vendor_id_in",
  "vendor_acc_id_eq",
  "vendor_acc_id_in",
  "is_last_cdr_eq",
  "success_eq",
  "customer_auth_id_eq",
  "src_prefix_in_eq",
  "src_prefix_in_in",
  "dst_prefix_in_eq",
  "dst_prefix_in_in",
  "src_prefix_routing_eq",
  "dst_prefix_routing_eq",
  "src_prefix_out_eq",
  "dst_prefix_out_eq",
  "src_country_id_eq",
  "dst_country_id_eq",
  "orig_gw_id_eq",
  "term_gw_id_eq",
  "duration_eq",
  "duration_gteq",
  "duration_lteq",
] as const;

const SQL_OP = { gteq: ">=", lt: "<", lteq: "<=", eq: "=", in: "IN" } as const;

/**
 * A string literal, quotes doubled; a value with a backslash becomes an E'' literal with the backslash
 * doubled, so it reads the same whatever `standard_conforming_strings` is. PostgreSQL text cannot hold
 * NUL (and the protocol would cut the statement there): such a value is refused.
 */
export function literal(value: string): string {
  if (value.includes("\u0000")) throw new Error("a filter value contains a NUL character");
  return escapeLiteral(value).trimStart();
}

/** `"schema"."table"`, and the bare `cdr.cdr` Yeti writes in its select list and ORDER BY. */
function tableNames({ schema, table }: CdrTable): { quoted: string; bare: string } {
  const quoted = `${escapeIdentifier(schema)}.${escapeIdentifier(table)}`;
  // Yeti's spelling for its own table; any other name stays quoted (it may need quoting).
  return { quoted, bare: schema === "cdr" && table === "cdr" ? "cdr.cdr" : quoted };
}

/** Rails' `quoted_date` of a stored filter time (`2019-01-01T00:00:00.500Z` → `2019-01-01 00:00:00.500000`). */
function timeLiteral(iso: unknown): string {
  const m = typeof iso === "string" ? /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})\.(\d{3})Z$/.exec(iso) : null;
  if (!m) throw new Error(`a stored filter time is malformed: ${String(iso)}`);
  return `'${m[1]} ${m[2]}${m[3] === "000" ? "" : `.${m[3]}000`}'`;
}

function intLiteral(value: unknown): string {
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new Error("a filter id is not an integer");
  return String(value);
}

function valueSql(type: string, value: unknown): string {
  switch (type) {
    case "time":
      return timeLiteral(value);
    case "bool":
      return value ? "TRUE" : "FALSE";
    case "int":
      return intLiteral(value);
    case "string":
      return literal(String(value));
    case "int_list":
      return `(${(value as unknown[]).map(intLiteral).join(", ")})`;
    case "string_list":
      return `(${(value as unknown[]).map((v) => literal(String(v))).join(", ")})`;
    default:
      throw new Error(`unknown filter type ${type}`);
  }
}

/** Ransack's conditions for the stored filters (and the customer's account), in Yeti's order. */
function conditions(query: ExportQuery, quoted: string): string[] {
  const filters: Filters = { ...query.filters };
  if (query.accountId !== null) filters.customer_acc_id_eq = query.accountId;
  const unknown = Object.keys(filters).filter(
    (key) => !(YETI_FILTER_ORDER as readonly string[]).includes(key),
  );
  if (unknown.length) throw new Error(`unknown stored filter ${unknown.join(", ")}`);
  return YETI_FILTER_ORDER.filter((key) => Object.hasOwn(filters, key)).map((key) => {
    const definition = FILTER_DEFINITIONS[key];
    if (!definition) throw new Error(`unknown stored filter ${key}`);
    const column = `${quoted}.${escapeIdentifier(definition.column)}`;
    return `${column} ${SQL_OP[definition.op]} ${valueSql(definition.type, filters[key])}`;
  });
}

/** `CdrExport#format_time_field`. */
function timeField(column: string, format: TimeFormat, bare: string): string {
  const alias = `"${headerName(column)}"`;
  switch (format) {
    case "with_timezone":
      return `${bare}.${column} AS ${alias}`;
    case "without_timezone":
      return `${bare}.${column}::timestamp AS ${alias}`;
    case "round_to_seconds":
      return `to_char(${bare}.${column}, 'YYYY-MM-DD HH24:MI:SS') AS ${alias}`;
  }
}

/** `CdrExport#transformed_fields`: names come from CDR_COLUMNS only, so they need no quoting. */
function selectList(query: ExportQuery, bare: string): string {
  return query.fields
    .map((field) => {
      if (!Object.hasOwn(CDR_COLUMNS, field)) throw new Error(`unknown export field ${field}`);
      if (field === "id" || field === "uuid") return `${bare}.${field} AS "${headerName(field)}"`;
      if (CDR_COLUMNS[field] === "time") return timeField(field, query.timeFormat, bare);
      return `${field} AS "${headerName(field)}"`;
    })
    .join(", ");
}

/** A time range of one statement, epoch milliseconds, `from` included and `to` not. */
export type TimeRange = { from: number; to: number };

const utcText = createTimeFormatter("with_timezone", null);

/** An instant as a timestamptz literal with its offset: the same instant whatever the session zone. */
function instantLiteral(ms: number): string {
  return `'${utcText(ms * 1000)}'`;
}

/**
 * The export's SQL as `CdrExport#export_sql` builds it; with `range`, one statement's share of it: the
 * same query with two more conditions on time_start, so a run of ranges returns the same rows in the
 * same order (ORDER BY time_start DESC, ranges newest first).
 */
export function exportSql(query: ExportQuery, table: CdrTable, range?: TimeRange): string {
  const { quoted, bare } = tableNames(table);
  const where = conditions(query, quoted);
  let sql = `SELECT ${selectList(query, bare)} FROM ${quoted}`;
  if (where.length) sql += ` WHERE ${where.length > 1 ? `(${where.join(" AND ")})` : where[0]}`;
  if (range) {
    const column = `${quoted}.${escapeIdentifier("time_start")}`;
    sql += `${where.length ? " AND" : " WHERE"} ${column} >= ${instantLiteral(range.from)}`;
    sql += ` AND ${column} < ${instantLiteral(range.to)}`;
  }
  return `${sql} ORDER BY ${bare}.time_start DESC`;
}

/** Yeti's COPY (`Worker::CdrExportJob`); the header line only for the first statement of a file. */
export function copySql(select: string, header: boolean): string {
  return `COPY (${select}) TO STDOUT WITH (FORMAT CSV, ${header ? "HEADER, " : ""}FORCE_QUOTE *)`;
}

/**
 * `SET LOCAL timezone TO '<zone>'`, run in the COPY's transaction: it decides both how times are written
 * and how the filters' zone-less times are read. Yeti leaves the database's default zone when the export
 * has none; here it is UTC whatever the database says, as the API documents times without a zone.
 */
export function timeZoneSql(timeZoneName: string | null): string {
  return `SET LOCAL timezone TO ${literal(timeZoneName || "UTC")}`;
}

const DAY_MS = 86_400_000;
/** Year 1 to the end of year 9999: beyond them the instants' text would need BC or five-digit years. */
const FIRST_MS = Date.parse("0001-01-01T00:00:00Z");
const LAST_MS = Date.parse("9999-12-31T23:59:59Z");

/**
 * Instants that surely hold the export's time filters. The filters are wall-clock times of the export's
 * zone (Yeti inlines them without an offset after SET LOCAL timezone), so without a zone they are UTC
 * instants; with one, a day either side covers any zone's offset (at most ±16 h, historic ones included).
 */
export function timeEnvelope(query: ExportQuery): TimeRange {
  const at = (key: string) => {
    const value = query.filters[key];
    return typeof value === "string" ? Date.parse(value) : null;
  };
  const from = at("time_start_gteq");
  const lt = at("time_start_lt");
  const lteq = at("time_start_lteq");
  const to = Math.min(lt ?? Number.POSITIVE_INFINITY, lteq === null ? Number.POSITIVE_INFINITY : lteq + 1);
  if (from === null || !Number.isFinite(to))
    throw new Error("an export needs time_start_gteq and time_start_lt");
  const pad = query.timeZoneName ? DAY_MS : 0;
  return { from: Math.max(FIRST_MS, from - pad), to: Math.min(LAST_MS, to + pad) };
}
