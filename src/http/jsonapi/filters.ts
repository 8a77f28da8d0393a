// `filter[...]` as Yeti declares its filters (`ransack_filter`, app/services/ransack_filter_builder.rb) and
// jsonapi-resources reads them (parse_filters, verify_filter): the checks and the SQL each predicate is.
import { type SQL, sql } from "drizzle-orm";
import { parseFilterTime } from "../../file-format/time-format";
import { badRequest, type GemError, gemErrors } from "./errors";
import { csvLine, type Param, underscore } from "./params";

type RansackType = "number" | "datetime" | "string" | "uuid" | "enum";

const SUFFIXES: Record<RansackType, readonly string[]> = {
  number: ["eq", "not_eq", "gt", "gteq", "lt", "lteq", "in", "not_in"],
  datetime: ["eq", "not_eq", "gt", "gteq", "lt", "lteq", "in", "not_in"],
  string: ["eq", "not_eq", "cont", "start", "end", "in", "not_in", "cont_any"],
  uuid: ["eq", "not_eq", "in", "not_in"],
  enum: ["eq", "not_eq", "in", "not_in"],
};
const ARRAY_SUFFIXES = new Set(["in", "not_in", "cont_any"]);
/** Bounds on the SQL one list request can build (SQLite's expression depth, D1's statement size). */
const MAX_FILTERS = 20;
const MAX_LIST_VALUES = 100;

/** One filter: a ransack predicate on a column, or a list filter with its own check (`time_format`). */
export type FilterSpec =
  | { kind: "ransack"; column: SQL; type: RansackType; op: string; collection?: readonly string[] }
  | { kind: "list"; column: SQL; verify: (value: string) => boolean; errorName: string };

/** Every filter of `ransack_filter attr, type:` (one per suffix of its type). */
export function ransackFilters(
  attr: string,
  type: RansackType,
  column: SQL,
  collection?: readonly string[],
): Record<string, FilterSpec> {
  return Object.fromEntries(
    SUFFIXES[type].map((op) => [`${attr}_${op}`, { kind: "ransack", column, type, op, collection }]),
  );
}

export type RequestedFilter = { name: string; spec: FilterSpec; raw: string };

/**
 * The request's filters (parse_filters): `filter=foo` → invalid filters syntax; keys dasherized or not;
 * the first filter the resource does not have → filter not allowed (collected, as the gem does).
 */
export function parseFilters(
  param: Param | undefined,
  filters: Readonly<Record<string, FilterSpec>>,
  errors: GemError[],
): RequestedFilter[] {
  if (param === undefined) return [];
  if (typeof param === "string") {
    errors.push(gemErrors.invalidFiltersSyntax(param));
    return [];
  }
  const requested: RequestedFilter[] = [];
  for (const [key, raw] of Object.entries(param)) {
    const name = underscore(key);
    const spec = Object.hasOwn(filters, name) ? filters[name] : undefined;
    if (!spec) {
      const shown = name.includes(".") ? (name.split(".")[1] ?? "") : name;
      errors.push(gemErrors.filterNotAllowed(shown));
      return [];
    }
    requested.push({ name, spec, raw });
  }
  if (requested.length > MAX_FILTERS) {
    errors.push(gemErrors.filterNotAllowed(`More than ${MAX_FILTERS} filters`));
    return [];
  }
  return requested;
}

function like(raw: string): string {
  return raw.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

type Cast = string | number;

/** A value as the column compares it; undefined when it is not one (a 400 naming the whole value). */
function cast(type: RansackType, raw: string): Cast | undefined {
  switch (type) {
    case "number":
      return /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) ? Number(raw) : undefined;
    case "datetime": {
      const ms = parseFilterTime(raw);
      return ms === null ? undefined : ms;
    }
    case "uuid":
      return raw.toLowerCase();
    default:
      return raw;
  }
}

/** The SQL of every requested filter (verify_filters, then ransack); the first invalid value is a 400. */
export function filterConditions(requested: readonly RequestedFilter[]): SQL[] {
  return requested.flatMap(({ name, spec, raw }) => {
    const values = raw === "" ? [] : (csvLine(raw) ?? []);
    if (values.length > MAX_LIST_VALUES) throw invalid(name, `${values.length} values`);
    if (spec.kind === "list") {
      const given = values.map((v) => v ?? "");
      for (const value of given) if (!spec.verify(value)) throw invalid(spec.errorName, value);
      return [sql`${spec.column} IN (SELECT value FROM json_each(${JSON.stringify(given)}))`];
    }
    const whole = values.map((v) => v ?? "").join(",");
    if (spec.collection && values.some((v) => v === null || !spec.collection?.includes(v))) {
      throw invalid(name, whole);
    }
    const list = ARRAY_SUFFIXES.has(spec.op);
    if (!list && values.length !== 1) throw invalid(name, whole);
    // ransack leaves out a predicate whose values are all blank.
    const present = values.filter((v): v is string => v !== null && v.trim() !== "");
    if (present.length === 0) return [];
    const casts = present.map((v) => {
      const value = cast(spec.type, v);
      if (value === undefined) throw invalid(name, whole);
      return value;
    });
    return [predicate(spec.column, spec.op, casts)];
  });
}

function invalid(filter: string, value: string) {
  return badRequest(gemErrors.invalidFilterValue(filter, value));
}

/** ransack's predicates as PostgreSQL runs them: NULLs match no comparison, `cont`/`start`/`end` are ILIKE. */
function predicate(column: SQL, op: string, values: Cast[]): SQL {
  const one = values[0] as Cast;
  const json = JSON.stringify(values);
  switch (op) {
    case "eq":
      return sql`${column} = ${one}`;
    case "not_eq":
      return sql`${column} <> ${one}`;
    case "gt":
      return sql`${column} > ${one}`;
    case "gteq":
      return sql`${column} >= ${one}`;
    case "lt":
      return sql`${column} < ${one}`;
    case "lteq":
      return sql`${column} <= ${one}`;
    // Lists travel as one JSON parameter: D1 binds at most 100 values per statement.
    case "in":
      return sql`${column} IN (SELECT value FROM json_each(${json}))`;
    case "not_in":
      return sql`${column} NOT IN (SELECT value FROM json_each(${json}))`;
    case "cont":
      return sql`${column} LIKE ${`%${like(String(one))}%`} ESCAPE '\\'`;
    case "start":
      return sql`${column} LIKE ${`${like(String(one))}%`} ESCAPE '\\'`;
    case "end":
      return sql`${column} LIKE ${`%${like(String(one))}`} ESCAPE '\\'`;
    case "cont_any":
      return sql`(${sql.join(
        values.map((v) => sql`${column} LIKE ${`%${like(String(v))}%`} ESCAPE '\\'`),
        sql` OR `,
      )})`;
    default:
      throw new Error(`unhandled filter predicate ${op}`);
  }
}

/** Every filter of a resource (for the API description): its field, operator, and whether it takes a list. */
export function describeFilters(
  filters: Readonly<Record<string, FilterSpec>>,
): { name: string; field: string; op: string | null; list: boolean }[] {
  return Object.entries(filters).map(([name, spec]) =>
    spec.kind === "list"
      ? { name, field: name, op: null, list: true }
      : { name, field: name.slice(0, -spec.op.length - 1), op: spec.op, list: ARRAY_SUFFIXES.has(spec.op) },
  );
}
