// The operator routes as definitions: each route a createRoute (path, parameters, body, responses, docs)
// beside its handler, and the operator OpenAPI document generated from the mounted routers.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../context";
import { ApiError } from "../../errors";
import { registerErrors } from "../../openapi/schemas";
import { ADMIN_BASE } from "./admin-resource";

/**
 * A router of operator routes. Request bodies are not validated by the definitions (see `documentBody`), so a
 * failing hook can only come from a parameter: a path id that cannot name a record is a 404, as before.
 */
export function adminRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      if (result.target === "param") throw ApiError.notFound();
      throw ApiError.badRequest("Bad Request", result.error.issues[0]?.message ?? "Invalid parameter.");
    },
  });
}

export const SECURITY = [{ adminBearer: [] }];

/** `{id}`: any text reaches the handler, whose lookup answers 404 for one that names no record. */
export const idParams = z.object({
  id: z.string().openapi({ param: { description: "The record's integer id." }, example: "1" }),
});

/** `page[number]`, `page[size]` as sent (a repeated key arrives as a list), read by parsePage. */
const pageValue = z.union([z.string(), z.array(z.string())]).optional();
export const pageParams = z.object({
  "page[number]": pageValue.openapi({ description: "The page, from 1.", example: "1" }),
  "page[size]": pageValue.openapi({
    description: "Records a page; default 50, at most 1000.",
    example: "50",
  }),
});

const TAGS = [
  {
    name: "contractors",
    description: "Yeti's customers and vendors. A create may give Yeti's id as `data.id`.",
  },
  {
    name: "accounts",
    description:
      "A contractor's billing accounts; customers name them by uuid. A create may give Yeti's id as `data.id` (CDRs name accounts by it: `customer_acc_id`) and Yeti's `uuid`.",
  },
  {
    name: "api-accesses",
    description:
      "Customer API v1 credentials. `password` and `password-digest` (a bcrypt digest of cost 10 at most) are write-only; deleting an access revokes its tokens at once.",
  },
  { name: "cdrs", description: "CDR ingestion." },
  { name: "cdr-exports", description: "Exports with any columns and filters." },
  { name: "customer-tokens", description: 'Customer API v1 tokens without an API access (`sub: "D"`).' },
];

const documents = new WeakMap<OpenAPIHono<AppEnv>, ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>>();

/** The operator document of `admin` (the router mounted at ADMIN_BASE), its paths under ADMIN_BASE. */
export function adminOpenApiDocument(admin: OpenAPIHono<AppEnv>, origin: string) {
  let document = documents.get(admin);
  if (!document) {
    registerErrors(admin.openAPIRegistry);
    admin.openAPIRegistry.registerComponent("securitySchemes", "adminBearer", {
      type: "http",
      scheme: "bearer",
      description: "`Authorization: Bearer <ADMIN_API_TOKEN>` (`dev-admin-token` in `.dev.vars.example`).",
    });
    const generated = admin.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "CDR Exports — operator API",
        version: "v1",
        description:
          "Provisioning (contractors, accounts, API accesses), CDR ingestion and exports. JSON:API (`application/vnd.api+json`) with dasherized attributes and integer ids as strings; errors are JSON:API error documents.",
      },
      tags: TAGS,
    });
    document = {
      ...generated,
      paths: Object.fromEntries(
        Object.entries(generated.paths ?? {}).map(([path, item]) => [`${ADMIN_BASE}${path}`, item]),
      ),
    };
    documents.set(admin, document);
  }
  return { ...document, servers: [{ url: origin, description: "This deployment" }] };
}
