// The customer create's form (Yeti's CustomerApi::CdrExportForm over CdrExport and its FiltersModel): how
// the attributes are cast, which filters are kept, and the 422 messages in the order Yeti reports them.
import type { FieldProblem } from "../errors";
import {
  isoMillis,
  isValidTimeZone,
  parseFilterTime,
  TIME_FORMATS,
  type TimeFormat,
} from "../file-format/time-format";
import { CUSTOMER_FILTERS, type Filters } from "./filters";

type Cast = "datetime" | "integer" | "boolean" | "string" | "list";

/** CdrExport::FiltersModel's attributes, in declaration order (the order Yeti echoes and names them in). */
const FILTERS_MODEL: ReadonlyArray<readonly [string, Cast]> = [
  ["time_start_gteq", "datetime"],
  ["time_start_lteq", "datetime"],
  ["time_start_lt", "datetime"],
  ...["customer_id_eq", "customer_external_id_eq", "customer_acc_id_eq", "customer_acc_external_id_eq"].map(
    (n) => [n, "integer"] as const,
  ),
  ...["vendor_id_eq", "vendor_external_id_eq", "vendor_acc_id_eq", "vendor_acc_external_id_eq"].map(
    (n) => [n, "integer"] as const,
  ),
  ["is_last_cdr_eq", "boolean"],
  ["success_eq", "boolean"],
  ["customer_auth_id_eq", "integer"],
  ["customer_auth_external_id_eq", "integer"],
  ["failed_resource_type_id_eq", "integer"],
  ...[
    "src_prefix_in",
    "dst_prefix_in",
    "src_prefix_routing",
    "dst_prefix_routing",
    "src_prefix_out",
    "dst_prefix_out",
  ].flatMap((n) => [
    [`${n}_contains`, "string"] as const,
    [`${n}_eq`, "string"] as const,
    [`${n}_in`, "list"] as const,
  ]),
  ["src_country_id_eq", "integer"],
  ["dst_country_id_eq", "integer"],
  ["routing_tag_ids_include", "integer"],
  ["routing_tag_ids_exclude", "integer"],
  ["routing_tag_ids_empty", "boolean"],
  ...["orig_gw_id_eq", "orig_gw_external_id_eq", "term_gw_id_eq", "term_gw_external_id_eq"].map(
    (n) => [n, "integer"] as const,
  ),
  ["duration_eq", "integer"],
  ["duration_gteq", "integer"],
  ["duration_lteq", "integer"],
  ["customer_auth_external_type_eq", "string"],
  ["customer_auth_external_type_not_eq", "string"],
  ["customer_auth_external_id_in", "list"],
  ["dst_country_iso_in", "list"],
  ["src_country_iso_in", "list"],
];
const MODEL_TYPES: ReadonlyMap<string, Cast> = new Map(FILTERS_MODEL);

const FALSE_VALUES = new Set<unknown>([false, 0, "0", "f", "F", "false", "FALSE", "off", "OFF"]);

/** Ruby's `to_s` of a JSON scalar (ActiveModel's String cast: true → "t"). */
function rubyString(value: unknown): string {
  if (value === true) return "t";
  if (value === false) return "f";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function rubyToI(text: string): number {
  const match = /^\s*([+-]?\d+(?:_\d+)*)/.exec(text);
  return match ? Number((match[1] as string).replaceAll("_", "")) : 0;
}

/** ActiveModel's casts; null = the attribute stays nil (dropped from the filters). */
function cast(type: Cast, value: unknown): Filters[string] | null {
  if (value === null || value === undefined) return null;
  switch (type) {
    case "datetime": {
      const ms = typeof value === "string" ? parseFilterTime(value) : null;
      return ms === null ? null : isoMillis(ms);
    }
    case "boolean":
      return value === "" ? null : !FALSE_VALUES.has(value);
    case "integer": {
      if (value === true) return 1;
      if (value === false) return 0;
      const n =
        typeof value === "number"
          ? Math.trunc(value)
          : typeof value === "string" && value.trim() !== ""
            ? rubyToI(value)
            : null;
      return n !== null && Number.isSafeInteger(n) ? n : null;
    }
    case "string": {
      if (typeof value === "object") return null;
      const text = rubyString(value);
      return text.trim() === "" ? null : text;
    }
    case "list": {
      const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(/[,\r\n]+/) : [];
      const kept = items
        .map((v) => (typeof v === "object" ? "" : rubyString(v).trim()))
        .filter((v) => v !== "");
      return kept.length ? kept : null;
    }
  }
}

export type CustomerFormValues = { filters: Filters; timeFormat: TimeFormat; timeZoneName: string | null };

/** The form's outcome before the account is looked up: problems before and after the account's place. */
export type CustomerForm = {
  values: CustomerFormValues;
  beforeAccount: FieldProblem[];
  afterAccount: FieldProblem[];
};

const FILTERS_POINTER = "/data/attributes/filters";

function filtersProblem(message: string): FieldProblem {
  return { key: "filters", message, pointer: FILTERS_POINTER };
}

/** Decodes `filters` as Yeti's JSON attribute type does: an object, or a string holding one. */
function filtersInput(raw: unknown): Record<string, unknown> | null {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/**
 * Yeti's validations in its order: the model's (filters: blank, unknown keys, required times; the time zone),
 * then the form's (account, known filters that are not allowed, time format). Messages of one attribute are
 * grouped where that attribute first appeared, as ActiveModel::Errors#messages groups them.
 */
export function customerForm(attributes: Record<string, unknown>): CustomerForm {
  const input = filtersInput(attributes.filters);
  const filled = new Map<string, Filters[string]>();
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(input ?? {})) {
    const type = MODEL_TYPES.get(key);
    if (!type) {
      unknown.push(key);
      continue;
    }
    const cast_ = cast(type, value);
    if (cast_ !== null) filled.set(key, cast_);
  }
  // PostgreSQL text cannot hold NUL (Yeti's statement would fail on it): refused, never silently dropped.
  const unstorable = [...filled].filter(([, v]) => JSON.stringify(v).includes("\\u0000")).map(([k]) => k);
  const modelFilters: FieldProblem[] = [];
  // FiltersModel#blank?: every attribute blank (false is blank in Ruby).
  const blank = [...filled.values()].every((v) => v === false);
  if (!input || blank) modelFilters.push(filtersProblem("can't be blank"));
  else {
    if (unknown.length) modelFilters.push(filtersProblem(`${unknown.join(", ")} not allowed`));
    if (!filled.has("time_start_gteq")) modelFilters.push(filtersProblem("requires time_start_gteq"));
    if (!filled.has("time_start_lt") && !filled.has("time_start_lteq")) {
      modelFilters.push(filtersProblem("requires time_start_lt"));
    }
  }
  for (const key of unstorable) modelFilters.push(filtersProblem(`${key} is invalid`));

  const zone = attributes["time-zone-name"];
  const timeZoneName = zone === undefined || zone === null ? null : rubyString(zone);
  const zoneProblems: FieldProblem[] =
    timeZoneName && timeZoneName.trim() !== "" && !isValidTimeZone(timeZoneName)
      ? [
          {
            key: "time-zone-name",
            message: "is not included in the list",
            pointer: "/data/attributes/time-zone-name",
          },
        ]
      : [];

  const notAllowed = FILTERS_MODEL.map(([name]) => name).filter(
    (name) => filled.has(name) && !CUSTOMER_FILTERS.has(name),
  );
  const formFilters = notAllowed.length ? [filtersProblem(`${notAllowed.join(", ")} not allowed`)] : [];

  const format = "time-format" in attributes ? attributes["time-format"] : "with_timezone";
  const formatText = format === null || format === undefined ? "" : rubyString(format);
  const formatProblems: FieldProblem[] = [];
  const pointer = "/data/attributes/time-format";
  if (formatText.trim() === "")
    formatProblems.push({ key: "time-format", message: "can't be blank", pointer });
  const formats: readonly string[] = TIME_FORMATS;
  if (!formats.includes(formatText)) {
    formatProblems.push({
      key: "time-format",
      message: `is not included in the list: ${TIME_FORMATS.join(", ")}`,
      pointer,
    });
  }

  // The resource's `filters` is `as_json.slice(*ALLOWED_FILTERS)`: in the list's order.
  const filters: Filters = {};
  for (const name of CUSTOMER_FILTERS) {
    const value = filled.get(name);
    if (value !== undefined) filters[name] = value;
  }
  const grouped = modelFilters.length > 0;
  return {
    values: { filters, timeFormat: formatText as TimeFormat, timeZoneName },
    beforeAccount: [...modelFilters, ...(grouped ? formFilters : []), ...zoneProblems],
    afterAccount: [...(grouped ? [] : formFilters), ...formatProblems],
  };
}
