// What jsonapi-resources 0.9's RequestParser reads from a GET's query (lib/jsonapi/request_parser.rb,
// paginator.rb): sparse fieldsets, include, sort, paged paging; each resource declares what it allows.
import { ApiError } from "../../errors";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../paging";
import { badRequest, type GemError, gemErrors } from "./errors";
import { type FilterSpec, parseFilters, type RequestedFilter } from "./filters";
import { csvLine, dasherize, type Param, railsParams, rubyToI, toQuery, underscore } from "./params";

/** A resource as the API exposes it: its type, members, sort keys and filters (underscored names). */
export type ResourceSpec = {
  type: string;
  /** Attributes, dasherized, in render order (`id` is implicit). */
  attributes: readonly string[];
  /** To-one relationships (dasherized name → the related resource's type). */
  relationships: Readonly<Record<string, string>>;
  /** Every attribute and `id`, underscored. */
  sortable: readonly string[];
  filters: Readonly<Record<string, FilterSpec>>;
};

/** Requested fields per type: absent = every field. */
export type Fieldsets = ReadonlyMap<string, ReadonlySet<string>>;

/** `fields[type]=a,b` (ParameterParser#parse_fields): 400 for a non-hash, an unknown type or field. */
export function parseFields(param: Param | undefined, resources: readonly ResourceSpec[]): Fieldsets {
  const fieldsets = new Map<string, Set<string>>();
  if (param === undefined) return fieldsets;
  if (typeof param === "string") throw badRequest(gemErrors.invalidFieldFormat());
  for (const [type, value] of Object.entries(param)) {
    const resource = resources.find((r) => r.type === type);
    if (dasherize(underscore(type)) !== type || !resource) throw badRequest(gemErrors.invalidResource(type));
    if (value === "") throw badRequest(gemErrors.invalidField(type, "nil"));
    const valid = new Set(["id", ...resource.attributes, ...Object.keys(resource.relationships)]);
    const fields = new Set<string>();
    for (const field of value.split(",")) {
      if (!valid.has(field)) throw badRequest(gemErrors.invalidField(type, field));
      fields.add(field);
    }
    fieldsets.set(type, fields);
  }
  return fieldsets;
}

/** Whether a fieldset asks for `field` of `type`. */
export function wants(fieldsets: Fieldsets, type: string, field: string): boolean {
  return fieldsets.get(type)?.has(field) ?? true;
}

/**
 * `include=account` (check_include): the included relationship names; an error object (collected, like the
 * gem) for a name that is not a relationship, nested paths checked against the related resource.
 */
export function parseInclude(
  raw: Param | undefined,
  resource: ResourceSpec,
  resources: readonly ResourceSpec[],
  errors: GemError[],
): Set<string> {
  const included = new Set<string>();
  if (raw === undefined) return included;
  const names = typeof raw === "string" ? csvLine(raw) : null;
  if (typeof raw !== "string") {
    errors.push(gemErrors.invalidInclude(resource.type, String(raw)));
    return included;
  }
  for (const name of names ?? []) {
    if (name === null) continue;
    const problem = checkInclude(resource, name, resources);
    if (problem) {
      errors.push(problem);
      return new Set();
    }
    included.add(name.split(".")[0] as string);
  }
  return included;
}

function checkInclude(
  resource: ResourceSpec,
  path: string,
  resources: readonly ResourceSpec[],
): GemError | null {
  const dot = path.indexOf(".");
  const first = dot === -1 ? path : path.slice(0, dot);
  const related = Object.hasOwn(resource.relationships, first) ? resource.relationships[first] : undefined;
  if (!related) return gemErrors.invalidInclude(resource.type, first);
  const rest = dot === -1 ? "" : path.slice(dot + 1);
  if (rest === "") return null;
  const next = resources.find((r) => r.type === related);
  return next ? checkInclude(next, rest, resources) : gemErrors.invalidInclude(related, rest);
}

export type SortCriterion = { field: string; descending: boolean };

/** `sort=-created-at,status` (parse_sort_criteria): underscored fields; 400 naming the first unknown one. */
export function parseSort(raw: Param | undefined, resource: ResourceSpec): SortCriterion[] | null {
  if (raw === undefined || raw === "" || typeof raw !== "string") return null;
  let text = raw;
  try {
    text = decodeURIComponent(raw);
  } catch {
    // URI::DEFAULT_PARSER.unescape leaves a malformed escape as it is.
  }
  const items = csvLine(text) ?? [];
  return items.map((item) => {
    const value = item ?? "";
    const descending = value.startsWith("-");
    const field = underscore(descending ? value.slice(1) : value);
    if (!resource.sortable.includes(field)) {
      throw badRequest(gemErrors.invalidSortCriteria(resource.type, field));
    }
    return { field, descending };
  });
}

export type Page = { number: number; size: number; offset: number };

/** The paged paginator: `page[number]`, `page[size]` read with `to_i`; `page=2` is a number. */
export function parsePage(raw: Param | undefined, errors: GemError[]): Page {
  let number = 1;
  let size = DEFAULT_PAGE_SIZE;
  if (typeof raw === "string") number = rubyToI(raw);
  else if (raw) {
    if (raw.size !== undefined) size = rubyToI(raw.size);
    if (raw.number !== undefined) number = rubyToI(raw.number);
  }
  const fallback = { number: 1, size: DEFAULT_PAGE_SIZE, offset: 0 };
  if (size < 1) {
    errors.push(gemErrors.invalidPageValue("size", size));
    return fallback;
  }
  if (size > MAX_PAGE_SIZE) {
    errors.push(
      gemErrors.invalidPageValue("size", size, `size exceeds maximum page size of ${MAX_PAGE_SIZE}.`),
    );
    return fallback;
  }
  if (number < 1) {
    errors.push(gemErrors.invalidPageValue("number", number));
    return fallback;
  }
  return { number, size, offset: Math.min((number - 1) * size, Number.MAX_SAFE_INTEGER) };
}

/**
 * The paged paginator's links (links_page_params): first always, prev when number > 1, next unless
 * number >= the page count, last; each `<resource url>?<to_query>` keeping fields, filter, include, sort.
 */
export function pageLinks(
  resourceUrl: string,
  params: ReadonlyMap<string, Param>,
  page: Page,
  total: number,
): Record<string, string> {
  const pageCount = Math.ceil(total / page.size);
  const link = (number: number) => {
    const query: Record<string, string | Record<string, string>> = {
      page: { number: String(number), size: String(page.size) },
    };
    for (const name of ["fields", "include", "sort", "filter"]) {
      const value = params.get(name);
      if (value !== undefined) query[name] = value;
    }
    return `${resourceUrl}?${toQuery(query)}`;
  };
  const links: Record<string, string> = { first: link(1) };
  if (page.number > 1) links.prev = link(page.number - 1);
  if (page.number < pageCount) links.next = link(page.number + 1);
  links.last = link(pageCount === 0 ? 1 : pageCount);
  return links;
}

export type ReadQuery = {
  params: ReadonlyMap<string, Param>;
  fieldsets: Fieldsets;
  include: Set<string>;
  filters: RequestedFilter[];
  sort: SortCriterion[] | null;
  page: Page;
};

/**
 * A GET's query read in the gem's order: fields and sort fail at once, include, filter and page errors are
 * collected and answered together. Filter values are checked later (`filterConditions`), as the gem does.
 */
export function readQuery(
  url: URL,
  resource: ResourceSpec,
  resources: readonly ResourceSpec[],
  { list }: { list: boolean },
): ReadQuery {
  const params = railsParams(url.searchParams);
  const fieldsets = parseFields(params.get("fields"), resources);
  const errors: GemError[] = [];
  const include = parseInclude(params.get("include"), resource, resources, errors);
  const filters = parseFilters(params.get("filter"), resource.filters, errors);
  // A show reads neither (setup_show_action).
  const sort = list ? parseSort(params.get("sort"), resource) : null;
  const page = list
    ? parsePage(params.get("page"), errors)
    : { number: 1, size: DEFAULT_PAGE_SIZE, offset: 0 };
  if (errors.length) throw new ApiError(400, errors);
  return { params, fieldsets, include, filters, sort, page };
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** The gem's `verify_key` for a UUID key: 400 invalid field value; lower-cased (PostgreSQL `uuid`). */
export function verifyUuid(id: string): string {
  if (!UUID.test(id)) throw badRequest(gemErrors.invalidFieldValue("id", id));
  return id.toLowerCase();
}
