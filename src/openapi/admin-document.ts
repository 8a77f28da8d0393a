// The OpenAPI 3.1 document of the operator API (`GET /api/rest/admin/openapi.json`, behind the operator token),
// generated from the zod schemas the handlers validate with.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { operatorCreateDocument } from "../cdr-exports/create-document";
import { attributes as accountAttributes } from "../routes/admin/accounts";
import { ADMIN_BASE } from "../routes/admin/admin-resource";
import { attributes as apiAccessAttributes } from "../routes/admin/api-accesses";
import { attributes as contractorAttributes } from "../routes/admin/contractors";
import { attributes as customerTokenAttributes } from "../routes/admin/customer-tokens";
import {
  accountResource,
  apiAccessResource,
  contractorResource,
  downloadHeaders,
  fileResponses,
  ingestResult,
  jsonApi,
  jsonApiBody,
  listDocument,
  operatorExportResource,
  pageQuery,
  registerErrors,
  registerSchema,
  showDocument,
  writeDocument,
  writeLinkage,
} from "./schemas";

const recordId = z.object({
  id: z
    .string()
    .regex(/^\d+$/)
    .openapi({ param: { description: "The record's integer id." }, example: "1" }),
});

type Resource = {
  type: string;
  name: string;
  /** The record, in summaries: "Create a contractor". */
  one: string;
  attributes: z.ZodObject;
  relationships?: Record<string, string>;
  resource: z.ZodType;
  description: string;
  /** What `POST /{id}/revoke-tokens` revokes, for resources that have it. */
  revokes?: string;
  /** A create may carry `data.id`: Yeti's id, which CDRs name (customer_acc_id, customer_id). */
  clientIds?: boolean;
};

const RESOURCES: Resource[] = [
  {
    type: "contractors",
    name: "Contractor",
    one: "a contractor",
    attributes: contractorAttributes,
    resource: contractorResource,
    description: "Yeti's customers and vendors. A create may give Yeti's id as `data.id`.",
    clientIds: true,
    revokes:
      'Every token of the customer issued until now: its `sub: "D"` tokens and the tokens of all its API accesses, with the download links they made. Tokens issued afterwards work.',
  },
  {
    type: "accounts",
    name: "Account",
    one: "an account",
    attributes: accountAttributes,
    relationships: { contractor: "contractors" },
    resource: accountResource,
    description:
      "A contractor's billing accounts; customers name them by uuid. A create may give Yeti's id as `data.id` (CDRs name accounts by it: `customer_acc_id`) and Yeti's `uuid`.",
    clientIds: true,
  },
  {
    type: "api-accesses",
    name: "ApiAccess",
    one: "an API access",
    attributes: apiAccessAttributes,
    relationships: { customer: "contractors" },
    resource: apiAccessResource,
    description:
      "Customer API v1 credentials. `password` and `password-digest` (a bcrypt digest of cost 10 at most) are write-only; deleting an access revokes its tokens at once.",
    revokes:
      "Every token of the API access issued until now, with the download links they made. A new login works at once.",
  },
];

function build() {
  const registry = new OpenAPIRegistry();
  const errors = registerErrors(registry);
  const bearer = registry.registerComponent("securitySchemes", "adminBearer", {
    type: "http",
    scheme: "bearer",
    description: "`Authorization: Bearer <ADMIN_API_TOKEN>` (`dev-admin-token` in `.dev.vars.example`).",
  });
  const security = [{ [bearer.name]: [] }];
  const path = (p: string) => `${ADMIN_BASE}${p}`;

  for (const r of RESOURCES) {
    // The handler refuses other attributes (400 `Param not allowed`): say so.
    const attributes = registerSchema(registry, `${r.name}Attributes`, r.attributes, {
      additionalProperties: false,
    });
    const rels = r.relationships
      ? Object.fromEntries(Object.entries(r.relationships).map(([name, type]) => [name, writeLinkage(type)]))
      : undefined;
    const create = registerSchema(
      registry,
      `${r.name}CreateDocument`,
      writeDocument(r.type, attributes, rels, false, r.clientIds),
    );
    const update = registerSchema(
      registry,
      `${r.name}UpdateDocument`,
      writeDocument(r.type, r.attributes.partial().openapi({ additionalProperties: false }), rels, true),
    );
    const resource = registerSchema(registry, `${r.name}Resource`, r.resource);
    const one = registerSchema(registry, `${r.name}Document`, showDocument(resource));
    const many = registerSchema(registry, `${r.name}ListDocument`, listDocument(resource));
    const tags = [r.type];

    registry.registerPath({
      method: "post",
      path: path(`/${r.type}`),
      tags,
      summary: `Create ${r.one}`,
      security,
      request: { body: jsonApiBody(create) },
      responses: {
        201: jsonApi("Created.", one),
        ...errors(400, 401, ...(r.clientIds ? [409] : []), 413, 415, 422),
      },
    });
    registry.registerPath({
      method: "get",
      path: path(`/${r.type}`),
      tags,
      summary: `List ${r.type}`,
      security,
      request: { query: z.object(pageQuery) },
      responses: { 200: jsonApi("A page, by id.", many), ...errors(400, 401) },
    });
    registry.registerPath({
      method: "get",
      path: path(`/${r.type}/{id}`),
      tags,
      summary: `Show ${r.one}`,
      security,
      request: { params: recordId },
      responses: { 200: jsonApi("The record.", one), ...errors(401, 404) },
    });
    registry.registerPath({
      method: "patch",
      path: path(`/${r.type}/{id}`),
      tags,
      summary: `Update ${r.one}`,
      description: "Only the attributes and relationships given change.",
      security,
      request: { params: recordId, body: jsonApiBody(update) },
      responses: { 200: jsonApi("Updated.", one), ...errors(400, 401, 404, 413, 415, 422) },
    });
    registry.registerPath({
      method: "delete",
      path: path(`/${r.type}/{id}`),
      tags,
      summary: `Delete ${r.one}`,
      security,
      request: { params: recordId },
      responses: { 204: { description: "Deleted." }, ...errors(401, 404, 422) },
    });
    if (r.revokes) {
      registry.registerPath({
        method: "post",
        path: path(`/${r.type}/{id}/revoke-tokens`),
        tags,
        summary: `Revoke the tokens of ${r.one}`,
        description: `${r.revokes} No request body.`,
        security,
        request: { params: recordId },
        responses: {
          200: jsonApi("Revoked; the record with its `tokens-revoked-at`.", one),
          ...errors(401, 404),
        },
      });
    }
  }

  registry.registerPath({
    method: "post",
    path: path("/cdrs"),
    tags: ["cdrs"],
    summary: "Ingest CDRs",
    description:
      "One CDR a line, keys = Yeti's column names (`uuid` and `time_start` required). The whole request (up to 32 MiB) is validated before anything is written; idempotent by `uuid`. With `CDR_SOURCE=postgres` exports read Yeti's database and this route answers 409.",
    security,
    request: {
      body: {
        required: true,
        content: {
          "application/x-ndjson": {
            schema: z.string().meta({
              description: "Newline-delimited JSON objects.",
              example:
                '{"id":1,"uuid":"9e5b0c1a-0000-4000-8000-000000000001","customer_acc_id":1,"time_start":"2020-03-28T10:00:00Z","duration":60}\n',
            }),
          },
        },
      },
    },
    responses: {
      200: jsonApi("Stored.", registerSchema(registry, "IngestResult", ingestResult)),
      ...errors(401, 409, 413, 415, 422),
    },
  });

  const exportResource = registerSchema(registry, "CdrExportResource", operatorExportResource);
  const exportDocument = registerSchema(registry, "CdrExportDocument", showDocument(exportResource));
  const tags = ["cdr-exports"];
  registry.registerPath({
    method: "post",
    path: path("/cdr-exports"),
    tags,
    summary: "Create an export",
    description: "Any column list (`fields`), the full filter set, and an optional callback.",
    security,
    request: {
      body: jsonApiBody(registerSchema(registry, "CdrExportCreateDocument", operatorCreateDocument)),
    },
    responses: { 201: jsonApi("Created, Pending.", exportDocument), ...errors(400, 401, 413, 415, 422) },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports"),
    tags,
    summary: "List exports",
    description: "Every export, newest first.",
    security,
    request: { query: z.object(pageQuery) },
    responses: {
      200: jsonApi(
        "A page of exports.",
        registerSchema(registry, "CdrExportListDocument", listDocument(exportResource)),
      ),
      ...errors(400, 401),
    },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports/{id}"),
    tags,
    summary: "Show an export",
    security,
    request: { params: recordId },
    responses: { 200: jsonApi("The export.", exportDocument), ...errors(401, 404) },
  });
  registry.registerPath({
    method: "get",
    path: path("/cdr-exports/{id}/download"),
    tags,
    summary: "Download the file",
    description: "A Pending, Failed or Deleted export: 404 with an empty body.",
    security,
    request: { params: recordId, headers: downloadHeaders },
    responses: { ...fileResponses, ...errors(401, 404, 500) },
  });
  registry.registerPath({
    method: "delete",
    path: path("/cdr-exports/{id}"),
    tags,
    summary: "Delete an export",
    description: "Marks it Deleted and removes its file.",
    security,
    request: { params: recordId },
    responses: { 204: { description: "Deleted." }, ...errors(401, 404) },
  });

  const tokenRequest = z.object({
    data: z.object({
      type: z.literal("customer-tokens"),
      attributes: customerTokenAttributes.optional(),
      relationships: z.strictObject({
        customer: writeLinkage("contractors"),
        accounts: z
          .object({ data: z.array(z.object({ type: z.literal("accounts"), id: z.string().regex(/^\d+$/) })) })
          .optional()
          .meta({ description: "Accounts of the customer the token is limited to; none = all of them." }),
      }),
    }),
  });
  const tokenResource = z.strictObject({
    id: z.string().meta({ description: "The customer's id." }),
    type: z.literal("customer-tokens"),
    links: z.strictObject({ self: z.string() }),
    attributes: z.strictObject({
      token: z.string().meta({ description: 'An HS256 JWT: `aud ["customer-v1"]`, `sub "D"`, `cfg`.' }),
      "expires-at": z
        .string()
        .nullable()
        .meta({ description: "Its `exp`; null when CUSTOMER_V1_TOKEN_LIFETIME is empty (no expiry)." }),
    }),
  });
  registry.registerPath({
    method: "post",
    path: path("/customer-tokens"),
    tags: ["customer-tokens"],
    summary: "Mint a customer token",
    description:
      "A customer API v1 token for a customer without an API access (Yeti's `sub: \"D\"` token): limited to the accounts given (they must be the customer's) and to `allowed-ips` (default everywhere). Revoke it with the customer's `revoke-tokens`.",
    security,
    request: {
      body: jsonApiBody(registerSchema(registry, "CustomerTokenCreateDocument", tokenRequest)),
    },
    responses: {
      201: jsonApi(
        "Minted.",
        registerSchema(registry, "CustomerTokenDocument", z.strictObject({ data: tokenResource })),
      ),
      ...errors(400, 401, 413, 415, 422),
    },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "CDR Exports — operator API",
      version: "v1",
      description:
        "Provisioning (contractors, accounts, API accesses), CDR ingestion and exports. JSON:API (`application/vnd.api+json`) with dasherized attributes and integer ids as strings; errors are JSON:API error documents.",
    },
    tags: [
      ...RESOURCES.map((r) => ({ name: r.type, description: r.description })),
      { name: "cdrs", description: "CDR ingestion." },
      { name: "cdr-exports", description: "Exports with any columns and filters." },
      { name: "customer-tokens", description: 'Customer API v1 tokens without an API access (`sub: "D"`).' },
    ],
  });
}

let built: ReturnType<typeof build> | undefined;

export function adminOpenApiDocument(origin: string) {
  built ??= build();
  return { ...built, servers: [{ url: origin, description: "This deployment" }] };
}
