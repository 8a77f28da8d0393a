// The list's `filter[...]` and `sort` parameters, as jsonapi-resources validates them, turned into Drizzle SQL.
import { inArray, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { accounts, cdrExports, EXPORT_STATUSES } from "../db/schema";
import { ApiError } from "../errors";
import { parseFilterTime, TIME_FORMATS } from "../file-format/time-format";

const NUMBER_OPS = ["eq", "not_eq", "gt", "gteq", "lt", "lteq", "in", "not_in"] as const;
const ENUM_OPS = ["eq", "not_eq", "in", "not_in"] as const;
const STRING_OPS = ["eq", "not_eq", "cont", "start", "end", "in", "not_in", "cont_any"] as const;
const LIST_OPS = new Set(["in", "not_in", "cont_any"]);
/** Bounds on the SQL one list request can build (SQLite's expression depth, D1's statement size). */
const MAX_FILTERS = 20;
const MAX_LIST_VALUES = 100;

type Field = {
  column: SQLiteColumn;
  ops: readonly string[];
  /** Turns one raw value into the SQL value, or undefined when it is not valid. */
  parse: (raw: string) => string | number | undefined;
};

const statuses: readonly string[] = EXPORT_STATUSES;
const formats: readonly string[] = TIME_FORMATS;

const FIELDS: Record<string, Field> = {
  status: { column: cdrExports.status, ops: ENUM_OPS, parse: (v) => (statuses.includes(v) ? v : undefined) },
  rows_count: { column: cdrExports.rowsCount, ops: NUMBER_OPS, parse: parseNumber },
  created_at: {
    column: cdrExports.createdAt,
    ops: NUMBER_OPS,
    parse: (v) => parseFilterTime(v) ?? undefined,
  },
  updated_at: {
    column: cdrExports.updatedAt,
    ops: NUMBER_OPS,
    parse: (v) => parseFilterTime(v) ?? undefined,
  },
  time_zone_name: { column: cdrExports.timeZoneName, ops: STRING_OPS, parse: (v) => v },
  account_id: { column: accounts.uuid, ops: ENUM_OPS, parse: (v) => v },
};

function parseNumber(raw: string): number | undefined {
  return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : undefined;
}

function invalidValue(value: string, filter: string): ApiError {
  return ApiError.badRequest("Invalid filter value", `${value} is not a valid value for ${filter}.`, {
    parameter: `filter[${filter}]`,
  });
}

function like(raw: string): string {
  return raw.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

function condition(field: Field, op: string, values: (string | number)[]): SQL {
  const c = field.column;
  const one = values[0] as string | number;
  switch (op) {
    case "eq":
      return sql`${c} = ${one}`;
    case "not_eq":
      return sql`(${c} IS NULL OR ${c} <> ${one})`;
    case "gt":
      return sql`${c} > ${one}`;
    case "gteq":
      return sql`${c} >= ${one}`;
    case "lt":
      return sql`${c} < ${one}`;
    case "lteq":
      return sql`${c} <= ${one}`;
    // Lists travel as one JSON parameter: D1 binds at most 100 values per statement.
    case "in":
      return sql`${c} IN (SELECT value FROM json_each(${JSON.stringify(values)}))`;
    case "not_in":
      return sql`(${c} IS NULL OR ${c} NOT IN (SELECT value FROM json_each(${JSON.stringify(values)})))`;
    case "cont":
      return sql`${c} LIKE ${`%${like(String(one))}%`} ESCAPE '\\'`;
    case "start":
      return sql`${c} LIKE ${`${like(String(one))}%`} ESCAPE '\\'`;
    case "end":
      return sql`${c} LIKE ${`%${like(String(one))}`} ESCAPE '\\'`;
    case "cont_any":
      return sql`(${sql.join(
        values.map((v) => sql`${c} LIKE ${`%${like(String(v))}%`} ESCAPE '\\'`),
        sql` OR `,
      )})`;
    default:
      throw new Error(`unhandled filter op ${op}`);
  }
}

/** Conditions for every `filter[name]=value` of the query; 400 for unknown filters and bad values. */
export function listFilterConditions(query: URLSearchParams): SQL[] {
  const conditions: SQL[] = [];
  for (const [param, rawValue] of query) {
    if (conditions.length >= MAX_FILTERS) {
      throw ApiError.badRequest("Filter not allowed", `At most ${MAX_FILTERS} filters are allowed.`, {
        parameter: param,
      });
    }
    // `(.*)`, not `(.+)`: an empty `filter[]` is refused like any unknown filter, never silently ignored.
    const match = /^filter\[(.*)\]$/.exec(param);
    if (!match) continue;
    const name = match[1] as string;
    if (name === "time_format") {
      const values = rawValue.split(",").map((v) => v.trim());
      const bad = values.find((v) => !formats.includes(v));
      if (bad !== undefined) throw invalidValue(bad, name);
      conditions.push(inArray(cdrExports.timeFormat, values as (typeof TIME_FORMATS)[number][]));
      continue;
    }
    const split = splitName(name);
    if (!split)
      throw ApiError.badRequest("Filter not allowed", `${name} is not allowed.`, { parameter: param });
    const [field, op] = split;
    const raws = LIST_OPS.has(op) ? rawValue.split(",").map((v) => v.trim()) : [rawValue];
    if (raws.length > MAX_LIST_VALUES) throw invalidValue(`${raws.length} values`, name);
    const values = raws.map((raw) => {
      const value = field.parse(raw);
      if (value === undefined) throw invalidValue(raw, name);
      return value;
    });
    conditions.push(condition(field, op, values));
  }
  return conditions;
}

/**
 * Every `filter[...]` the list accepts (for the API description): the field, the operator, and whether the
 * value is a comma-separated list. `time_format` has no operator and always takes a list.
 */
export function listFilters(): { name: string; field: string; op: string | null; list: boolean }[] {
  const filters = Object.entries(FIELDS).flatMap(([field, { ops }]) =>
    ops.map((op) => ({ name: `${field}_${op}`, field, op, list: LIST_OPS.has(op) })),
  );
  return [...filters, { name: "time_format", field: "time_format", op: null, list: true }];
}

function splitName(name: string): [Field, string] | null {
  for (const [fieldName, field] of Object.entries(FIELDS)) {
    if (!name.startsWith(`${fieldName}_`)) continue;
    const op = name.slice(fieldName.length + 1);
    if (field.ops.includes(op)) return [field, op];
  }
  return null;
}

export const SORTABLE: Record<string, SQLiteColumn> = {
  id: cdrExports.id,
  status: cdrExports.status,
  "rows-count": cdrExports.rowsCount,
  "created-at": cdrExports.createdAt,
  "updated-at": cdrExports.updatedAt,
  "time-format": cdrExports.timeFormat,
  "time-zone-name": cdrExports.timeZoneName,
};

export type SortKey = { column: SQLiteColumn; descending: boolean };

/** `sort=-created-at,status`; newest first when absent; `id` breaks ties so pages are stable. */
export function listOrder(sortParam: string | null): SortKey[] {
  const byId = { column: cdrExports.id, descending: true };
  if (!sortParam) return [{ column: cdrExports.createdAt, descending: true }, byId];
  const order = sortParam.split(",").map((item) => {
    const descending = item.startsWith("-");
    const name = descending ? item.slice(1) : item;
    const column = Object.hasOwn(SORTABLE, name) ? SORTABLE[name] : undefined;
    if (!column) {
      throw ApiError.badRequest(
        "Invalid sort criteria",
        `${name} is not a valid sort criteria for cdr-exports`,
        {
          parameter: "sort",
        },
      );
    }
    return { column, descending };
  });
  return [...order, byId];
}
