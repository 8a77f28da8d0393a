// The OpenAPI 3.1 document of the customer API v1 (`GET /api/rest/customer/v1/openapi.json`), generated from
// the zod schemas the handlers validate with and the filter/sort tables the list parses with.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { SESSION_COOKIE } from "../auth/customer-auth";
import { customerCreateDocument } from "../cdr-exports/create-document";
import { CDR_EXPORTS } from "../cdr-exports/resource";
import { EXPORT_STATUSES } from "../db/schema";
import { TIME_FORMATS } from "../file-format/time-format";
import { describeFilters } from "../http/jsonapi/filters";
import { ACCOUNTS, CUSTOMER_BASE } from "../routes/customer/account-resource";
import {
  accountLinkageDocument,
  customerAccountDocument,
  customerAccountListDocument,
  customerExportDocument,
  customerExportListDocument,
  downloadHeaders,
  fileResponses,
  jsonApi,
  jsonApiBody,
  pageQuery,
  registerErrors,
  registerSchema,
} from "./schemas";

/** The body of `POST /auth`. */
export const loginRequest = z.object({
  auth: z.object({
    login: z.string().meta({ example: "demo" }),
    password: z.string().meta({ example: "demo-password" }),
    cookie_auth: z
      .boolean()
      .optional()
      .meta({ description: "true: answer with the session cookie instead of a token." }),
  }),
  cookie_auth: z.boolean().optional().meta({ description: "The same as `auth.cookie_auth`." }),
});

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

/** The value of one list filter, by field; an unknown field fails generation (and so the tests). */
const FILTER_VALUES: Record<string, { schema: z.ZodType; what: string }> = {
  status: { schema: z.enum(EXPORT_STATUSES), what: "status" },
  rows_count: { schema: z.number(), what: "rows-count" },
  created_at: {
    schema: z.string().meta({ example: "2024-11-14 00:00:00" }),
    what: `created-at, ${TIME_VALUE}`,
  },
  updated_at: {
    schema: z.string().meta({ example: "2024-11-14 00:00:00" }),
    what: `updated-at, ${TIME_VALUE}`,
  },
  time_zone_name: { schema: z.string(), what: "time-zone-name" },
  account_id: { schema: z.uuid(), what: "the account's uuid" },
  time_format: { schema: z.enum(TIME_FORMATS), what: "time-format" },
};

const ACCOUNT_FILTER_VALUES: Record<string, { schema: z.ZodType; what: string }> = {
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

/** `fields[type]`: the sparse fieldset of a type. */
function fieldsQuery(attributes: readonly string[]) {
  return z
    .string()
    .optional()
    .meta({ description: `Comma-separated fields to render: ${attributes.join(", ")}.` });
}

function filterQuery(
  filters: Parameters<typeof describeFilters>[0] = CDR_EXPORTS.filters,
  values: Record<string, { schema: z.ZodType; what: string }> = FILTER_VALUES,
): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const { name, field, op, list } of describeFilters(filters)) {
    const value = values[field];
    if (!value) throw new Error(`the API description has no value schema for list filter field ${field}`);
    const verb = op === null ? "is one of" : OPERATORS[op];
    if (!verb) throw new Error(`the API description has no wording for list filter operator ${op}`);
    const description = `${value.what} ${verb}${list ? "; comma-separated" : ""}`;
    shape[`filter[${name}]`] = list
      ? z
          .array(value.schema)
          .min(1)
          .optional()
          .openapi({ description, param: { style: "form", explode: false } })
      : value.schema.optional().openapi({ description });
  }
  return shape;
}

const include = z
  .enum(["account"])
  .optional()
  .meta({ description: "`account`: the account in `included` (and as the relationship's `data`)." });

const idempotencyKey = z.object({
  "Idempotency-Key": z.string().optional().meta({
    description:
      'draft-ietf-httpapi-idempotency-key-header: a key of 1 to 255 printable ASCII characters, quoted (`"…"`) or bare. The same key with the same body within 24 hours answers 201 with the export the first request created; with another body, 422. Keys are per customer.',
    example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
  }),
});

const BOOKMARK_DESCRIPTION =
  "A D1 bookmark (from an earlier answer's `x-d1-bookmark`): the request reads data at least that fresh, possibly from a nearby read replica. Without one the request reads from the primary, so it sees every write made before it.";

/**
 * Every customer operation takes `x-d1-bookmark` and answers with it: added to the generated document
 * (error answers are shared components and describe only their body).
 */
function withBookmarks<T extends { paths?: object }>(doc: T): T {
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

const exportId = z.object({
  id: z.uuid().openapi({
    param: { description: "The export's uuid." },
    example: "aa3834e6-a26e-11ef-a008-0242ac120003",
  }),
});

function build() {
  const registry = new OpenAPIRegistry();
  const errors = registerErrors(registry);
  const createDocument = registerSchema(registry, "CdrExportCreateDocument", customerCreateDocument);
  const exportDocument = registerSchema(registry, "CdrExportDocument", customerExportDocument);
  const listDocument = registerSchema(registry, "CdrExportListDocument", customerExportListDocument);
  const login = registerSchema(registry, "LoginRequest", loginRequest);

  const jwt = registry.registerComponent("securitySchemes", "customerJwt", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A token from `POST /auth` (or the one `npm start` prints): `Authorization: Bearer <jwt>`; a bare `<jwt>` works too.",
  });
  const cookie = registry.registerComponent("securitySchemes", "customerSession", {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description:
      "The session cookie set by `POST /auth` with `cookie_auth: true`; used only when no `Authorization` header is sent. Each response refreshes it.",
  });
  const security = [{ [jwt.name]: [] }, { [cookie.name]: [] }];
  const path = (p: string) => `${CUSTOMER_BASE}${p}`;

  registry.registerPath({
    method: "post",
    path: path("/auth"),
    tags: ["auth"],
    summary: "Log in",
    description: "A token, or with `cookie_auth: true` the session cookie (and no body).",
    security: [],
    request: { body: { required: true, content: { "application/json": { schema: login } } } },
    responses: {
      201: {
        description:
          'Logged in: `{"jwt": ...}`; with `cookie_auth: true` an empty body and the session cookie.',
        headers: {
          "Set-Cookie": {
            description: `With cookie_auth: \`${SESSION_COOKIE}=<jwt>; path=/; HttpOnly; SameSite=Lax\`.`,
            schema: { type: "string" },
          },
        },
        content: { "application/json": { schema: z.strictObject({ jwt: z.string() }) } },
      },
      ...errors(400, 401, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: "get",
    path: path("/auth"),
    tags: ["auth"],
    summary: "Check the session",
    security,
    responses: {
      200: {
        description: "The session is valid.",
        content: {
          "application/json": {
            schema: z.strictObject({
              "allow-rec": z.boolean().meta({ description: "May listen to recordings." }),
            }),
          },
        },
      },
      ...errors(401),
    },
  });
  registry.registerPath({
    method: "delete",
    path: path("/auth"),
    tags: ["auth"],
    summary: "Log out",
    description:
      "Ends the session of the token sent (the `Authorization` header, else the session cookie): that token, and for a cookie session every refreshed cookie of it, is refused from then on, with the download links it made. Overwrites the session cookie with `logout`, expired. Needs no valid token: 204 either way.",
    security: [],
    responses: {
      204: {
        description: "Logged out.",
        headers: {
          "Set-Cookie": { description: `${SESSION_COOKIE}=logout, expired.`, schema: { type: "string" } },
        },
      },
    },
  });

  registry.registerPath({
    method: "post",
    path: path("/cdr-exports"),
    tags: ["cdr-exports"],
    summary: "Create an export",
    description:
      "Orders an export of the CDRs of one of the caller's accounts. Replace the example's account id with one of yours (`npm start` prints the demo account's uuid in its curl line). The export starts Pending; poll it until Completed, then download the file.",
    security,
    request: { headers: idempotencyKey, body: jsonApiBody(createDocument) },
    responses: {
      201: jsonApi("Created: the export, Pending.", exportDocument),
      ...errors(400, 401, 413, 415, 422, 429),
    },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports"),
    tags: ["cdr-exports"],
    summary: "List exports",
    description: "The caller's exports (of its allowed accounts), newest first unless `sort` says otherwise.",
    security,
    request: {
      query: z.object({
        ...pageQuery,
        sort: z
          .string()
          .optional()
          .meta({
            description: `Comma-separated attributes, \`-\` for descending: ${CDR_EXPORTS.sortable.join(", ")} (dasherized or underscored). Default \`-created-at\`.`,
            example: "-created-at",
          }),
        include,
        "fields[cdr-exports]": fieldsQuery([...CDR_EXPORTS.attributes, "account"]),
        "fields[accounts]": fieldsQuery(ACCOUNTS.attributes),
        ...filterQuery(),
      }),
    },
    responses: {
      200: jsonApi("A page of exports.", listDocument),
      ...errors(400, 401),
    },
  });
  const accountListDocument = registerSchema(registry, "AccountListDocument", customerAccountListDocument);
  const accountDocument = registerSchema(registry, "AccountDocument", customerAccountDocument);
  registry.registerPath({
    method: "get",
    path: path("/accounts"),
    tags: ["accounts"],
    summary: "List accounts",
    description:
      "The caller's accounts (its customer's, within the API access's allowed accounts): where a client finds the account uuid an export needs.",
    security,
    request: {
      query: z.object({
        ...pageQuery,
        "fields[accounts]": fieldsQuery(ACCOUNTS.attributes),
        sort: z
          .string()
          .optional()
          .meta({
            description: `Comma-separated, \`-\` for descending: ${ACCOUNTS.sortable.join(", ")}. Default \`id\`.`,
          }),
        ...filterQuery(ACCOUNTS.filters, ACCOUNT_FILTER_VALUES),
      }),
    },
    responses: { 200: jsonApi("A page of accounts.", accountListDocument), ...errors(400, 401) },
  });
  registry.registerPath({
    method: "get",
    path: path("/accounts/{id}"),
    tags: ["accounts"],
    summary: "Show an account",
    security,
    request: {
      params: z.object({ id: z.uuid().openapi({ param: { description: "The account's uuid." } }) }),
      query: z.object({ "fields[accounts]": fieldsQuery(ACCOUNTS.attributes) }),
    },
    responses: {
      200: jsonApi("The account.", accountDocument),
      ...errors(400, 401, 404),
    },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports/{id}"),
    tags: ["cdr-exports"],
    summary: "Show an export",
    security,
    request: { params: exportId, query: z.object({ include }) },
    responses: {
      200: jsonApi("The export.", exportDocument),
      ...errors(400, 401, 404),
    },
  });
  registry.registerPath({
    method: "delete",
    path: path("/cdr-exports/{id}"),
    tags: ["cdr-exports"],
    summary: "Delete an export",
    description: "Marks the export Deleted and removes its file.",
    security,
    request: { params: exportId },
    responses: { 204: { description: "Deleted." }, ...errors(401, 404) },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports/{id}/relationships/account"),
    tags: ["cdr-exports"],
    summary: "The export's account linkage",
    security,
    request: { params: exportId },
    responses: {
      200: jsonApi(
        "The linkage.",
        registerSchema(registry, "AccountLinkageDocument", accountLinkageDocument),
      ),
      ...errors(401, 404),
    },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports/{id}/account"),
    tags: ["cdr-exports"],
    summary: "The export's account",
    security,
    request: { params: exportId },
    responses: {
      200: jsonApi("The account.", accountDocument),
      ...errors(400, 401, 404),
    },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports/{id}/download"),
    tags: ["cdr-exports"],
    summary: "Download the file",
    description:
      "The gzip CSV of a Completed export. A Pending, Failed or Deleted export: 404 with an empty body; an export that is not the caller's: 404 `Record not found`.",
    security,
    request: { params: exportId, headers: downloadHeaders },
    responses: { ...fileResponses, ...errors(401, 404, 500) },
  });

  for (const method of ["get", "head"] as const) {
    registry.registerPath({
      method,
      path: path("/cdr-export-files/{id}"),
      tags: ["cdr-exports"],
      summary: method === "get" ? "Download through a signed link" : "Check a signed link",
      description: "The URL in a Completed export's `links.download`: short-lived, signed, no token needed.",
      security: [],
      request: {
        params: exportId,
        headers: downloadHeaders,
        query: z.object({
          expires: z.number().int().meta({ description: "Expiry, in seconds since the epoch." }),
          signature: z.string().meta({ description: "The link's signature." }),
        }),
      },
      responses: { ...fileResponses, ...errors(403, 404, 500) },
    });
  }

  const doc = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "CDR Exports — customer API v1",
      version: "v1",
      description:
        "Yeti's customer API v1 CDR Exports resource. Requests and responses use `application/vnd.api+json` (JSON:API); errors are JSON:API error documents. Authenticate with a token (`Authorize` → customerJwt) or the session cookie.",
    },
    tags: [
      { name: "auth", description: "Tokens and sessions." },
      { name: "cdr-exports", description: "Exports of call detail records." },
    ],
  });
  return withBookmarks(doc);
}

let built: ReturnType<typeof build> | undefined;

/** The document, with the request's origin as the server so "Try it out" calls this very deployment. */
export function customerOpenApiDocument(origin: string) {
  built ??= build();
  return { ...built, servers: [{ url: origin, description: "This deployment" }] };
}
