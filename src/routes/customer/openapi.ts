// What the customer route definitions share (routers, auth, the JSON:API query parameters as documented), and
// the customer OpenAPI document generated from the mounted routers.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { SESSION_COOKIE } from "../../auth/customer-auth";
import { CDR_EXPORTS } from "../../cdr-exports/resource";
import type { AppEnv } from "../../context";
import { EXPORT_STATUSES } from "../../db/schema";
import { TIME_FORMATS } from "../../file-format/time-format";
import { badRequest, gemErrors } from "../../http/jsonapi/errors";
import { describeFilters, type FilterSpec } from "../../http/jsonapi/filters";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../../http/paging";
import {
  customerAccountDocument,
  customerAccountListDocument,
  jsonSchema,
  registerErrors,
} from "../../openapi/schemas";
import { ACCOUNTS, CUSTOMER_BASE } from "./account-resource";

/**
 * A router of customer routes. Their definitions declare no value a validator could refuse (query parameters
 * are read the Rails way by the handlers, bodies are validated inside them), so the hook is a safeguard: a
 * failure would still be a JSON:API 400, rendered by app.onError.
 */
export function customerRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      throw badRequest(gemErrors.badRequest(result.error.issues[0]?.message ?? "Invalid request."));
    },
  });
}

/** A token or the session cookie (customerAuth). */
export const SECURITY: Record<string, string[]>[] = [{ customerJwt: [] }, { customerSession: [] }];

/** `{id}`: any text reaches the handler, which answers 400 for one that is not a uuid (after the caller check). */
export function uuidParams(description: string) {
  return z.object({
    id: z
      .string()
      .openapi({ format: "uuid", param: { description }, example: "aa3834e6-a26e-11ef-a008-0242ac120003" }),
  });
}

/** The account documents, components of the document (the accounts and the cdr-exports routes show them). */
export const accountDocument = customerAccountDocument.openapi("AccountDocument");
export const accountListDocument = customerAccountListDocument.openapi("AccountListDocument");

/**
 * A query parameter shown as `schema` but accepted as anything: the handler reads the query the Rails way
 * (railsParams) and answers with the gem's errors, which a validator of its own would pre-empt. `list`: a
 * comma-separated list of `schema` values; `required`: shown as required, still refused by the handler only.
 */
export function queryParam(
  schema: z.ZodType,
  description: string,
  { list = false, required = false }: { list?: boolean; required?: boolean } = {},
) {
  return z
    .unknown()
    .optional()
    .openapi({
      param: {
        description,
        required,
        schema: jsonSchema(list ? z.array(schema).min(1) : schema),
        ...(list ? { style: "form" as const, explode: false } : {}),
      },
    });
}

export const pageQuery = {
  "page[number]": queryParam(z.number().int().min(1), "The page, from 1."),
  "page[size]": queryParam(
    z.number().int().min(1).max(MAX_PAGE_SIZE),
    `Records a page; default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}.`,
  ),
};

/** `fields[type]`: the sparse fieldset of a type. */
export function fieldsQuery(attributes: readonly string[]) {
  return queryParam(z.string(), `Comma-separated fields to render: ${attributes.join(", ")}.`);
}

export function sortQuery(sortable: readonly string[], fallback: string) {
  return queryParam(
    z.string(),
    `Comma-separated attributes, \`-\` for descending: ${sortable.join(", ")} (dasherized or underscored). Default \`${fallback}\`.`,
  );
}

const includeQuery = queryParam(
  z.enum(["account"]),
  "`account`: the account in `included` (and as the relationship's `data`).",
);

const OPERATORS: Record<string, string> = {
  eq: "equals",
  not_eq: "does not equal (or is null)",
  gt: "is greater than",
  gteq: "is at least",
  lt: "is less than",
  lteq: "is at most",
  in: "is one of",
  not_in: "is none of (or is null)",
  cont: "contains",
  start: "starts with",
  end: "ends with",
  cont_any: "contains any of",
};

const TIME_VALUE = "a time: `2024-11-14 09:56:05` (UTC) or RFC 3339";
const time = z.string().meta({ example: "2024-11-14 00:00:00" });

/** The value of one list filter, by field; a field without one fails the document (and so the tests). */
type FilterValues = Record<string, { schema: z.ZodType; what: string }>;

const EXPORT_FILTER_VALUES: FilterValues = {
  status: { schema: z.enum(EXPORT_STATUSES), what: "status" },
  rows_count: { schema: z.number(), what: "rows-count" },
  created_at: { schema: time, what: `created-at, ${TIME_VALUE}` },
  updated_at: { schema: time, what: `updated-at, ${TIME_VALUE}` },
  time_zone_name: { schema: z.string(), what: "time-zone-name" },
  account_id: { schema: z.uuid(), what: "the account's uuid" },
  time_format: { schema: z.enum(TIME_FORMATS), what: "time-format" },
};

export const ACCOUNT_FILTER_VALUES: FilterValues = {
  name: { schema: z.string(), what: "name" },
  uuid: { schema: z.uuid(), what: "the account's uuid" },
  ...Object.fromEntries(
    ["balance", "min_balance", "max_balance", "destination_rate_limit"].map((f) => [
      f,
      { schema: z.number(), what: f.replaceAll("_", "-") },
    ]),
  ),
  ...Object.fromEntries(
    ["origination_capacity", "termination_capacity", "total_capacity"].map((f) => [
      f,
      { schema: z.number().int(), what: f.replaceAll("_", "-") },
    ]),
  ),
};

/** `filter[<name>]` for every filter the list parses with. */
export function filterQuery(filters: Readonly<Record<string, FilterSpec>>, values: FilterValues) {
  const shape: Record<string, z.ZodType> = {};
  for (const { name, field, op, list } of describeFilters(filters)) {
    const value = values[field];
    if (!value) throw new Error(`the API description has no value schema for list filter field ${field}`);
    const verb = op === null ? "is one of" : OPERATORS[op];
    if (!verb) throw new Error(`the API description has no wording for list filter operator ${op}`);
    shape[`filter[${name}]`] = queryParam(
      value.schema,
      `${value.what} ${verb}${list ? "; comma-separated" : ""}`,
      { list },
    );
  }
  return shape;
}

/** The query of the export list: paging, sort, include, both sparse fieldsets, every filter. */
export const exportListQuery = z.object({
  ...pageQuery,
  sort: sortQuery(CDR_EXPORTS.sortable, "-created-at"),
  include: includeQuery,
  "fields[cdr-exports]": fieldsQuery([...CDR_EXPORTS.attributes, "account"]),
  "fields[accounts]": fieldsQuery(ACCOUNTS.attributes),
  ...filterQuery(CDR_EXPORTS.filters, EXPORT_FILTER_VALUES),
});

/** The query of an export read: include and the sparse fieldsets. */
export const exportQuery = z.object({
  include: includeQuery,
  "fields[cdr-exports]": fieldsQuery([...CDR_EXPORTS.attributes, "account"]),
  "fields[accounts]": fieldsQuery(ACCOUNTS.attributes),
});

const BOOKMARK_DESCRIPTION =
  "A D1 bookmark (from an earlier answer's `x-d1-bookmark`): the request reads data at least that fresh, possibly from a nearby read replica. Without one the request reads from the primary, so it sees every write made before it.";

type Document = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;

/**
 * Every customer operation takes `x-d1-bookmark` and answers with it (the d1Session middleware of every
 * customer route, not of one definition); error answers are shared components and describe only their body.
 */
function withBookmarks(doc: Document): Document {
  type Operation = {
    parameters?: unknown[];
    responses?: Record<string, { $ref?: string; headers?: Record<string, unknown> }>;
  };
  for (const item of Object.values(doc.paths ?? {}) as Record<string, Operation>[]) {
    for (const op of Object.values(item)) {
      op.parameters = [
        ...(op.parameters ?? []),
        {
          in: "header",
          name: "x-d1-bookmark",
          required: false,
          description: BOOKMARK_DESCRIPTION,
          schema: { type: "string" },
        },
      ];
      for (const response of Object.values(op.responses ?? {})) {
        if (response.$ref) continue;
        response.headers = {
          ...response.headers,
          "x-d1-bookmark": {
            description:
              "The D1 bookmark this request reached: send it with the next request to read at least this fresh.",
            schema: { type: "string" },
          },
        };
      }
    }
  }
  return doc;
}

const TAGS = [
  { name: "auth", description: "Tokens and sessions." },
  { name: "accounts", description: "The caller's accounts: where the account uuid of an export comes from." },
  { name: "cdr-exports", description: "Exports of call detail records." },
];

const documents = new WeakMap<OpenAPIHono<AppEnv>, Document>();

/** The customer document of `customer` (the routers mounted at CUSTOMER_BASE), its paths under CUSTOMER_BASE. */
export function customerApiDocument(customer: OpenAPIHono<AppEnv>, origin: string) {
  let document = documents.get(customer);
  if (!document) {
    registerErrors(customer.openAPIRegistry);
    customer.openAPIRegistry.registerComponent("securitySchemes", "customerJwt", {
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
      description:
        "A token from `POST /auth` (or the one `npm start` prints): `Authorization: Bearer <jwt>`; a bare `<jwt>` works too.",
    });
    customer.openAPIRegistry.registerComponent("securitySchemes", "customerSession", {
      type: "apiKey",
      in: "cookie",
      name: SESSION_COOKIE,
      description:
        "The session cookie set by `POST /auth` with `cookie_auth: true`; used only when no `Authorization` header is sent. Each response refreshes it.",
    });
    const generated = customer.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "CDR Exports — customer API v1",
        version: "v1",
        description:
          "Yeti's customer API v1 CDR Exports resource. Requests and responses use `application/vnd.api+json` (JSON:API); errors are JSON:API error documents. Authenticate with a token (`Authorize` → customerJwt) or the session cookie.",
      },
      tags: TAGS,
    });
    document = withBookmarks({
      ...generated,
      paths: Object.fromEntries(
        Object.entries(generated.paths ?? {}).map(([path, item]) => [`${CUSTOMER_BASE}${path}`, item]),
      ),
    });
    documents.set(customer, document);
  }
  return { ...document, servers: [{ url: origin, description: "This deployment" }] };
}
