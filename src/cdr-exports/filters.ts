// Export filters: which a customer or an operator may send, how values are normalised, and the SQL they become.
import { isoMillis, parseFilterTime, wallClockToInstant } from "../file-format/time-format";

type ValueType = "time" | "bool" | "int" | "string" | "int_list" | "string_list";
type Op = "gteq" | "lt" | "lteq" | "eq" | "in";

type FilterDefinition = { column: string; op: Op; type: ValueType };

const SQL_OP: Record<Op, string> = { gteq: ">=", lt: "<", lteq: "<=", eq: "=", in: "IN" };

function def(column: string, op: Op, type: ValueType): FilterDefinition {
  return { column, op, type };
}

/** Every filter an export may carry (the operator's set); keys are Yeti's ransack-style names. */
export const FILTER_DEFINITIONS: Readonly<Record<string, FilterDefinition>> = {
  time_start_gteq: def("time_start", "gteq", "time"),
  time_start_lt: def("time_start", "lt", "time"),
  time_start_lteq: def("time_start", "lteq", "time"),
  success_eq: def("success", "eq", "bool"),
  duration_eq: def("duration", "eq", "int"),
  duration_gteq: def("duration", "gteq", "int"),
  duration_lteq: def("duration", "lteq", "int"),
  src_prefix_routing_eq: def("src_prefix_routing", "eq", "string"),
  dst_prefix_routing_eq: def("dst_prefix_routing", "eq", "string"),
  customer_id_eq: def("customer_id", "eq", "int"),
  customer_id_in: def("customer_id", "in", "int_list"),
  customer_acc_id_eq: def("customer_acc_id", "eq", "int"),
  customer_acc_id_in: def("customer_acc_id", "in", "int_list"),
  customer_auth_id_eq: def("customer_auth_id", "eq", "int"),
  vendor_id_eq: def("vendor_id", "eq", "int"),
  vendor_id_in: def("vendor_id", "in", "int_list"),
  vendor_acc_id_eq: def("vendor_acc_id", "eq", "int"),
  vendor_acc_id_in: def("vendor_acc_id", "in", "int_list"),
  orig_gw_id_eq: def("orig_gw_id", "eq", "int"),
  term_gw_id_eq: def("term_gw_id", "eq", "int"),
  is_last_cdr_eq: def("is_last_cdr", "eq", "bool"),
  src_prefix_in_eq: def("src_prefix_in", "eq", "string"),
  src_prefix_in_in: def("src_prefix_in", "in", "string_list"),
  dst_prefix_in_eq: def("dst_prefix_in", "eq", "string"),
  dst_prefix_in_in: def("dst_prefix_in", "in", "string_list"),
  src_prefix_out_eq: def("src_prefix_out", "eq", "string"),
  dst_prefix_out_eq: def("dst_prefix_out", "eq", "string"),
  src_country_id_eq: def("src_country_id", "eq", "int"),
  dst_country_id_eq: def("dst_country_id", "eq", "int"),
};

/** What the customer API v1 accepts: CustomerApi::CdrExportForm::ALLOWED_FILTERS, in its order. */
export const CUSTOMER_FILTERS: ReadonlySet<string> = new Set([
  "time_start_gteq",
  "time_start_lt",
  "success_eq",
  "duration_eq",
  "duration_gteq",
  "duration_lteq",
  "src_prefix_routing_eq",
  "dst_prefix_routing_eq",
]);

export const OPERATOR_FILTERS: ReadonlySet<string> = new Set(Object.keys(FILTER_DEFINITIONS));

export const REQUIRED_FILTERS = ["time_start_gteq", "time_start_lt"] as const;

export type Filters = Record<string, string | number | boolean | string[] | number[]>;

/** Yeti's messages (`filters - <message>`), in the order Yeti reports them. */
export function normalizeFilters(
  input: unknown,
  allowed: ReadonlySet<string>,
): { filters: Filters; problems: string[] } {
  const filters: Filters = {};
  if (
    typeof input !== "object" ||
    input === null ||
    Array.isArray(input) ||
    Object.keys(input).length === 0
  ) {
    return { filters, problems: ["can't be blank"] };
  }
  const entries = Object.entries(input);
  const problems: string[] = [];
  const notAllowed = entries.map(([key]) => key).filter((key) => !allowed.has(key));
  for (const key of REQUIRED_FILTERS) {
    if (!(key in input)) problems.push(`requires ${key}`);
  }
  if (notAllowed.length) problems.push(`${notAllowed.join(", ")} not allowed`);
  for (const [key, raw] of entries) {
    const definition = allowed.has(key) ? FILTER_DEFINITIONS[key] : undefined;
    if (!definition) continue;
    const value = normalizeValue(definition.type, raw);
    if (value === undefined) problems.push(`${key} is invalid`);
    else filters[key] = value;
  }
  return { filters, problems };
}

function normalizeValue(type: ValueType, raw: unknown): Filters[string] | undefined {
  switch (type) {
    case "time": {
      const ms = typeof raw === "string" ? parseFilterTime(raw) : null;
      return ms === null ? undefined : isoMillis(ms);
    }
    case "bool":
      if (typeof raw === "boolean") return raw;
      if (raw === "true" || raw === "t") return true;
      if (raw === "false" || raw === "f") return false;
      return undefined;
    case "int":
      return toInt(raw);
    case "string":
      // PostgreSQL text cannot hold NUL, nor can a statement carry it (the postgres source inlines values).
      if (typeof raw === "string") return raw.includes("\u0000") ? undefined : raw;
      return typeof raw === "number" && Number.isFinite(raw) ? String(raw) : undefined;
    case "int_list": {
      const list = toList(raw)?.map(toInt);
      return list?.every((v) => v !== undefined) ? (list as number[]) : undefined;
    }
    case "string_list": {
      const list = toList(raw)?.map((v) => (typeof v === "number" ? String(v) : v));
      return list?.every((v) => typeof v === "string" && !v.includes("\u0000"))
        ? (list as string[])
        : undefined;
    }
  }
}

function toInt(raw: unknown): number | undefined {
  if (typeof raw === "number") return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === "string" && /^-?\d{1,15}$/.test(raw)) return Number(raw);
  return undefined;
}

function toList(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw.length ? raw : undefined;
  if (typeof raw === "string" && raw.length) return raw.split(",").map((v) => v.trim());
  return undefined;
}

/**
 * SQL conditions (bound parameters only) for stored, normalised filters; time values become microseconds.
 * A stored time's digits are a wall-clock time of the export's zone (`timeZone`; null = UTC), as Yeti inlines
 * them without an offset after `SET LOCAL timezone` (the PostgreSQL source does just that).
 */
export function filtersToSql(
  filters: Filters,
  timeZone: string | null = null,
): { conditions: string[]; params: (string | number)[] } {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  for (const [key, value] of Object.entries(filters)) {
    const definition = FILTER_DEFINITIONS[key];
    if (!definition) throw new Error(`unknown stored filter ${key}`);
    const column = `"${definition.column}"`;
    if (definition.op === "in") {
      const list = value as (string | number)[];
      conditions.push(`${column} IN (SELECT value FROM json_each(?))`);
      params.push(JSON.stringify(list));
      continue;
    }
    conditions.push(`${column} ${SQL_OP[definition.op]} ?`);
    if (definition.type === "time")
      params.push(wallClockToInstant(Date.parse(value as string), timeZone) * 1000);
    else if (definition.type === "bool") params.push(value ? 1 : 0);
    else params.push(value as string | number);
  }
  return { conditions, params };
}
