// zod schemas of the response documents, and the pieces both OpenAPI documents share (errors, file
// downloads). Request bodies are the schemas the handlers use, shown by the route definitions (src/routes/).
import {
  extendZodWithOpenApi,
  type OpenAPIRegistry,
  type ResponseConfig,
} from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { CALLBACK_STATUSES, EXPORT_STATUSES } from "../db/schema";
import { TIME_FORMATS } from "../file-format/time-format";
import { JSON_API } from "../http/json-api";

// `.openapi(...)` on zod schemas (the registry names components with it). Idempotent.
extendZodWithOpenApi(z);

// ---- JSON:API errors -------------------------------------------------------------------------------------

const errorObject = z.strictObject({
  status: z.string().meta({ description: "The HTTP status, as a string." }),
  title: z.string(),
  detail: z.string().optional(),
  code: z.string().optional(),
  source: z
    .strictObject({
      pointer: z.string().optional().meta({ description: "A JSON Pointer into the request body." }),
      parameter: z.string().optional().meta({ description: "The query parameter at fault." }),
      header: z.string().optional().meta({ description: "The request header at fault." }),
    })
    .optional(),
});

export const errorDocument = z.strictObject({ errors: z.array(errorObject).min(1) });

type ErrorExample = Omit<z.input<typeof errorObject>, "status">;

/** Each error status: what it means, and one error object it may carry. */
const ERROR_RESPONSES: Record<number, [string, ErrorExample]> = {
  400: [
    "Bad request: the body is not JSON or not a JSON object, the document's frame is wrong (no `data`, a wrong `type`, an attribute or relationship that is not allowed), or a query parameter is not valid.",
    {
      title: "Param not allowed",
      detail: "foo is not allowed.",
      source: { pointer: "/data/attributes/foo" },
    },
  ],
  401: [
    "Unauthorized: no valid credentials.",
    { title: "Authorization failed", detail: "Authorization token expired or incorrect.", code: "401" },
  ],
  403: ["Forbidden.", { title: "Forbidden", detail: "The download link has expired." }],
  404: ["Not found.", { title: "Record not found", detail: "Record not found" }],
  409: [
    "Conflict: a client-generated id that is taken, or CDR ingestion while exports read PostgreSQL (CDR_SOURCE=postgres).",
    { title: "Conflict", detail: "contractors 7101 already exists", source: { pointer: "/data/id" } },
  ],
  413: [
    "Payload too large.",
    { title: "Payload Too Large", detail: "The request body exceeds 1048576 bytes." },
  ],
  415: [
    "Unsupported media type.",
    {
      title: "Unsupported media type",
      detail: `All requests that create or update must use the '${JSON_API}' Content-Type. This request specified 'text/plain'.`,
    },
  ],
  422: [
    "Validation failed: one error object per problem, `detail` as `<key> - <message>`, `source.pointer` into the body.",
    {
      title: "can't be blank",
      detail: "account - can't be blank",
      source: { pointer: "/data/relationships/account" },
    },
  ],
  429: [
    "Too many requests: rate limited; `Retry-After` says when to try again.",
    { title: "Too Many Requests", detail: "Rate limit exceeded; retry in 60 seconds." },
  ],
  500: ["Internal server error.", { title: "Internal Server Error", detail: "Internal Server Error" }],
};

/** Registers the error document and one reusable response per error status; returns the references. */
export function registerErrors(registry: OpenAPIRegistry) {
  registry.register("ErrorDocument", errorDocument);
  const refs: Record<number, { $ref: string }> = {};
  for (const [status, [description, example]] of Object.entries(ERROR_RESPONSES)) {
    const name = `Error${status}`;
    registry.registerComponent("responses", name, {
      description,
      ...(status === "429"
        ? { headers: { "Retry-After": { description: "Seconds to wait.", schema: { type: "integer" } } } }
        : {}),
      content: {
        [JSON_API]: {
          schema: { $ref: "#/components/schemas/ErrorDocument" },
          example: { errors: [{ status, ...example }] },
        },
      },
    });
    refs[Number(status)] = { $ref: `#/components/responses/${name}` };
  }
  return (...statuses: number[]) =>
    Object.fromEntries(
      statuses.map((s) => {
        const ref = refs[s];
        if (!ref) throw new Error(`no error response for ${s}`);
        return [String(s), ref];
      }),
    );
}

/** The shared error responses (components registered by registerErrors when a document is built). */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: `#/components/responses/Error${s}` }]));
}

/** A JSON:API response of `schema`. */
export function jsonApiResponse(description: string, schema: z.ZodType): ResponseConfig {
  return { description, content: { [JSON_API]: { schema } } };
}

/** A handler's Response as the route's declared answer (built by the serializers the schemas describe). */
export function answer(response: Response | Promise<Response>): never {
  return response as never;
}

/**
 * zod's JSON Schema (draft 2020-12, which OpenAPI 3.1 uses). Typed `never` to fit where zod-to-openapi takes a
 * schema object: its type is a union of the 3.0 and 3.1 forms that no one value satisfies.
 */
export function jsonSchema(schema: z.ZodType): never {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return json as never;
}

/**
 * A JSON:API request body described by the zod schema its handler validates with; with `component`, as that
 * named schema of the router's document. As JSON Schema, not as zod: a zod body would be validated before the
 * handler, all issues at once, while jsonapi-resources (and this API) answers the document's frame (400s)
 * before the attributes' values (422s), in its own order.
 */
export function documentBody(schema: z.ZodType, component?: { registry: OpenAPIRegistry; name: string }) {
  let shown = jsonSchema(schema);
  if (component) {
    component.registry.registerComponent("schemas", component.name, shown);
    shown = { $ref: `#/components/schemas/${component.name}` } as never;
  }
  return {
    required: true,
    content: { [JSON_API]: { schema: shown }, "application/json": { schema: shown } },
  };
}

const fileHeaders = {
  "Content-Disposition": { description: 'attachment; filename="<uuid>.csv.gz"', schema: { type: "string" } },
  ETag: { description: "The file's entity tag (for If-None-Match).", schema: { type: "string" } },
  "Accept-Ranges": { description: "bytes", schema: { type: "string" } },
} as const;

/** The request headers of a download: a single byte range (maybe conditional), and a conditional GET. */
export const downloadHeaders = z.object({
  Range: z
    .string()
    .optional()
    .meta({ description: "One byte range, `bytes=<first>-<last>` (either may be absent)." }),
  "If-None-Match": z.string().optional().meta({ description: "A previous ETag: 304 when unchanged." }),
  "If-Range": z
    .string()
    .optional()
    .meta({ description: "An ETag: the Range applies only while the file has it (else the whole file)." }),
});

/** The answers of a download with a file: the file, a part of it, not modified, a range outside it. */
export const fileResponses: Record<number, ResponseConfig> = {
  200: {
    description: "The export's gzip-compressed CSV file (no Content-Encoding: the body is the .gz file).",
    headers: fileHeaders,
    content: { "application/gzip": { schema: { type: "string", contentMediaType: "application/gzip" } } },
  },
  206: {
    description: "The requested byte range of the file.",
    headers: {
      ...fileHeaders,
      "Content-Range": { description: "bytes <first>-<last>/<size>", schema: { type: "string" } },
    },
    content: { "application/gzip": { schema: { type: "string", contentMediaType: "application/gzip" } } },
  },
  304: { description: "Not modified (If-None-Match names the file's ETag).", headers: fileHeaders },
  416: {
    description: "The range lies outside the file.",
    headers: { "Content-Range": { description: "bytes */<size>", schema: { type: "string" } } },
  },
};

// ---- values, links, paging ---------------------------------------------------------------------------------

const isoTime = z.iso.datetime().meta({ example: "2024-11-14T09:56:05.767Z" });
const link = z.url();

const pagingLinks = z.strictObject({
  first: link,
  prev: link.optional(),
  next: link.optional(),
  last: link,
});

const listMeta = z.strictObject({
  "total-count": z.number().int().meta({ description: "Records across all pages." }),
});

/** The filters as stored and echoed (times normalised to ISO 8601 UTC with milliseconds). */
const storedFilters = z
  .record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]),
  )
  .meta({
    example: {
      time_start_gteq: "2019-01-01T00:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
      success_eq: true,
    },
  });

const exportStatus = z.enum(EXPORT_STATUSES);
const timeFormat = z.enum(TIME_FORMATS);
const progress = z
  .strictObject({ "rows-written": z.number().int().meta({ description: "Rows written so far." }) })
  .optional()
  .meta({ description: "Only while the export is Pending: its progress (an addition to Yeti)." });

// ---- customer API v1 -----------------------------------------------------------------------------------------

const accountIdentifier = z.strictObject({ type: z.literal("accounts"), id: z.uuid() });

const customerAccountResource = z.strictObject({
  id: z.uuid(),
  type: z.literal("accounts"),
  links: z.strictObject({ self: link }),
  attributes: z.strictObject({
    name: z.string(),
    balance: z
      .string()
      .meta({ description: "A decimal, as Ruby's BigDecimal renders it.", example: "100.0" }),
    "min-balance": z.string(),
    "max-balance": z.string(),
    "destination-rate-limit": z.string().nullable(),
    "origination-capacity": z.number().int().nullable(),
    "termination-capacity": z.number().int().nullable(),
    "total-capacity": z.number().int().nullable(),
    currency: z.string().meta({ example: "USD" }),
  }),
});

const customerExportResource = z.strictObject({
  id: z.uuid(),
  type: z.literal("cdr-exports"),
  links: z.strictObject({
    self: link,
    download: link.optional().meta({
      description:
        "Completed exports only: a short-lived download URL that needs no token (an addition to Yeti).",
    }),
  }),
  attributes: z.strictObject({
    filters: storedFilters,
    status: exportStatus,
    "rows-count": z
      .number()
      .int()
      .nullable()
      .meta({ description: "Data lines of the file; null until Completed." }),
    "created-at": isoTime,
    "updated-at": isoTime,
    "time-format": timeFormat,
    "time-zone-name": z.string().nullable(),
  }),
  relationships: z.strictObject({
    account: z.strictObject({
      links: z.strictObject({ self: link, related: link }),
      data: accountIdentifier
        .nullable()
        .optional()
        .meta({ description: "Present in lists and with `include=account`." }),
    }),
  }),
  meta: progress,
});

export const customerExportDocument = z.strictObject({
  data: customerExportResource,
  included: z.array(customerAccountResource).optional(),
});

export const customerExportListDocument = z.strictObject({
  data: z.array(customerExportResource),
  included: z.array(customerAccountResource).optional(),
  meta: listMeta,
  links: pagingLinks,
});

export const accountLinkageDocument = z.strictObject({
  links: z.strictObject({ self: link, related: link }),
  data: accountIdentifier.nullable(),
});

export const customerAccountDocument = z.strictObject({ data: customerAccountResource.nullable() });

export const customerAccountListDocument = z.strictObject({
  data: z.array(customerAccountResource),
  meta: listMeta,
  links: pagingLinks,
});

// ---- operator API ------------------------------------------------------------------------------------------

const recordId = z.string().regex(/^\d+$/).meta({ description: "An integer id, as a string.", example: "1" });

function linkage(type: string) {
  return z.strictObject({ data: z.strictObject({ type: z.literal(type), id: recordId }) });
}

function adminResource<A extends z.ZodRawShape, R extends z.ZodRawShape>(
  type: string,
  attributes: A,
  relationships?: R,
) {
  return z.strictObject({
    id: recordId,
    type: z.literal(type),
    links: z.strictObject({ self: link }),
    attributes: z.strictObject({ ...attributes, "created-at": isoTime, "updated-at": isoTime }),
    ...(relationships ? { relationships: z.strictObject(relationships) } : {}),
  });
}

const tokensRevokedAt = isoTime
  .nullable()
  .meta({ description: "The last `revoke-tokens`: tokens issued up to then are refused. Read-only." });

export const contractorResource = adminResource("contractors", {
  name: z.string(),
  customer: z.boolean(),
  vendor: z.boolean(),
  "tokens-revoked-at": tokensRevokedAt,
});

export const accountResource = adminResource(
  "accounts",
  {
    name: z.string(),
    uuid: z.uuid(),
    balance: z.string(),
    "min-balance": z.string(),
    "max-balance": z.string(),
    "destination-rate-limit": z.string().nullable(),
    "origination-capacity": z.number().int().nullable(),
    "termination-capacity": z.number().int().nullable(),
    "total-capacity": z.number().int().nullable(),
    currency: z.string(),
  },
  { contractor: linkage("contractors") },
);

export const apiAccessResource = adminResource(
  "api-accesses",
  {
    login: z.string(),
    "account-ids": z.array(z.number().int()).meta({ description: "Empty = every account of the customer." }),
    "allowed-ips": z.array(z.string()).meta({ example: ["0.0.0.0/0", "::/0"] }),
    "tokens-revoked-at": tokensRevokedAt,
  },
  { customer: linkage("contractors") },
);

export const operatorExportResource = z.strictObject({
  id: recordId,
  type: z.literal("cdr-exports"),
  links: z.strictObject({ self: link, download: link.optional() }),
  attributes: z.strictObject({
    uuid: z.uuid(),
    fields: z.array(z.string()),
    filters: storedFilters,
    status: exportStatus,
    "rows-count": z.number().int().nullable(),
    "callback-url": z.string().nullable(),
    "callback-status": z.enum(CALLBACK_STATUSES).nullable().meta({
      description:
        "The last callback attempt: `Delivered`, `Refused` (never sent: the URL or an address its host resolves to is not allowed), `Error` (retried with backoff, 5 attempts in all); null before the first.",
    }),
    "callback-error": z
      .string()
      .nullable()
      .meta({ description: "Why the last attempt did not get through; null once delivered." }),
    "time-format": timeFormat,
    "time-zone-name": z.string().nullable(),
    "created-at": isoTime,
    "updated-at": isoTime,
  }),
  meta: progress,
});

export function showDocument(resource: z.ZodType) {
  return z.strictObject({ data: resource });
}

export function listDocument(resource: z.ZodType) {
  return z.strictObject({ data: z.array(resource), meta: listMeta, links: pagingLinks });
}

export const ingestResult = z.strictObject({
  meta: z.strictObject({
    received: z.number().int().meta({ description: "Lines received." }),
    inserted: z.number().int(),
    "already-present": z
      .number()
      .int()
      .meta({ description: "CDRs whose uuid was already stored (skipped)." }),
  }),
});

/** A to-one relationship in an operator write document: an integer id, as a string or a number. */
export function writeLinkage(type: string) {
  return z.object({
    data: z.object({
      type: z.literal(type),
      id: z.union([z.string().regex(/^\d{1,15}$/), z.number().int()]),
    }),
  });
}

/**
 * An operator create (`update: false`) or update document around the attribute schema its handler validates
 * with; on update, the attributes, the relationships and each relationship are optional. `clientIds`: a
 * create may name the record's id.
 */
export function writeDocument(
  type: string,
  attributes: z.ZodType,
  relationships: Record<string, z.ZodType> | undefined,
  update: boolean,
  clientIds = false,
) {
  const rels = relationships ? z.strictObject(relationships) : undefined;
  const id = z
    .string()
    .regex(/^[1-9]\d{0,14}$/)
    .meta({
      description: "A client-generated id (Yeti's id of the record); absent = the next free id. Taken → 409.",
      example: "7101",
    });
  return z.object({
    data: z.object({
      ...(clientIds && !update ? { id: id.optional() } : {}),
      type: z.literal(type),
      attributes: update ? attributes.optional() : attributes,
      ...(rels ? { relationships: update ? rels.partial().optional() : rels } : {}),
    }),
  });
}
