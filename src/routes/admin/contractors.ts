// Operator API `contractors`: Yeti's customers and vendors.
import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { revokeCustomerTokens } from "../../auth/revocation";
import type { AppContext } from "../../context";
import { db } from "../../db/client";
import { apiAccesses, contractors } from "../../db/schema";
import { ApiError } from "../../errors";
import { isoMillis } from "../../file-format/time-format";
import { jsonApi } from "../../http/json-api";
import {
  answer,
  contractorResource,
  documentBody,
  errors,
  jsonApiResponse,
  listDocument,
  showDocument,
  writeDocument,
} from "../../openapi/schemas";
import {
  adminDocument,
  clientId,
  findById,
  idTaken,
  invalid,
  isForeignKeyViolation,
  isIdTaken,
  isUniqueViolation,
  pagedList,
  readWrite,
  requiredString,
} from "./admin-resource";
import { adminRouter, idParams, pageParams, SECURITY } from "./openapi";

type Row = typeof contractors.$inferSelect;

export const attributes = z.object({
  name: requiredString(),
  customer: z.boolean({ error: "must be true or false" }).optional(),
  vendor: z.boolean({ error: "must be true or false" }).optional(),
});

function render(c: AppContext, row: Row) {
  return adminDocument(c, "contractors", row, {
    name: row.name,
    customer: row.customer,
    vendor: row.vendor,
    "tokens-revoked-at": row.tokensRevokedAt === null ? null : isoMillis(row.tokensRevokedAt),
  });
}

async function write<T>(run: () => Promise<T>, id?: number): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (id !== undefined && isIdTaken(error, "contractors")) throw idTaken("contractors", id);
    if (isUniqueViolation(error)) throw invalid("name", "/data/attributes/name", "has already been taken");
    throw error;
  }
}

const tags = ["contractors"];
const one = showDocument(contractorResource);
const strictAttributes = attributes.strict();

export const adminContractors = adminRouter();

adminContractors.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Create a contractor",
    security: SECURITY,
    request: { body: documentBody(writeDocument("contractors", strictAttributes, undefined, false, true)) },
    responses: { 201: jsonApiResponse("Created.", one), ...errors(400, 401, 409, 413, 415, 422) },
  }),
  async (c) => {
    const { attributes: a, input } = await readWrite(c, "contractors", attributes);
    const id = clientId(input);
    const now = Date.now();
    const [row] = await write(
      () =>
        db(c.env)
          .insert(contractors)
          .values({
            ...(id === undefined ? {} : { id }),
            name: a.name,
            customer: a.customer ?? false,
            vendor: a.vendor ?? false,
            createdAt: now,
            updatedAt: now,
          })
          .returning(),
      id,
    );
    return answer(jsonApi(c, { data: render(c, row as Row) }, 201));
  },
);

adminContractors.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List contractors",
    security: SECURITY,
    request: { query: pageParams },
    responses: {
      200: jsonApiResponse("A page, by id.", listDocument(contractorResource)),
      ...errors(400, 401),
    },
  }),
  async (c) => {
    const { rows, ...list } = await pagedList(c, contractors);
    return answer(jsonApi(c, { data: rows.map((row) => render(c, row)), ...list }));
  },
);

adminContractors.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Show a contractor",
    security: SECURITY,
    request: { params: idParams },
    responses: { 200: jsonApiResponse("The record.", one), ...errors(401, 404) },
  }),
  async (c) => answer(jsonApi(c, { data: render(c, await findById(c, contractors)) })),
);

adminContractors.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags,
    summary: "Update a contractor",
    description: "Only the attributes given change.",
    security: SECURITY,
    request: {
      params: idParams,
      body: documentBody(writeDocument("contractors", strictAttributes.partial(), undefined, true)),
    },
    responses: { 200: jsonApiResponse("Updated.", one), ...errors(400, 401, 404, 413, 415, 422) },
  }),
  async (c) => {
    const existing = await findById(c, contractors);
    const { attributes: a } = await readWrite(c, "contractors", attributes.partial());
    // API accesses belong to customers only (as on create), so the flag stays while any exist.
    if (a.customer === false && existing.customer) {
      const access = await db(c.env)
        .select({ id: apiAccesses.id })
        .from(apiAccesses)
        .where(eq(apiAccesses.customerId, existing.id))
        .get();
      if (access)
        throw invalid("customer", "/data/attributes/customer", "has API accesses; delete them first");
    }
    const [row] = await write(() =>
      db(c.env)
        .update(contractors)
        .set({ ...a, updatedAt: Date.now() })
        .where(eq(contractors.id, existing.id))
        .returning(),
    );
    return answer(jsonApi(c, { data: render(c, row as Row) }));
  },
);

adminContractors.openapi(
  createRoute({
    method: "post",
    path: "/{id}/revoke-tokens",
    tags,
    summary: "Revoke the tokens of a contractor",
    description:
      'Every token of the customer issued until now: its `sub: "D"` tokens and the tokens of all its API accesses, with the download links they made. Tokens issued afterwards work. No request body.',
    security: SECURITY,
    request: { params: idParams },
    responses: {
      200: jsonApiResponse("Revoked; the record with its `tokens-revoked-at`.", one),
      ...errors(401, 404),
    },
  }),
  async (c) => {
    const existing = await findById(c, contractors);
    // Its `sub: "D"` tokens and its API accesses' tokens stop working at once, with their download links.
    const row = await revokeCustomerTokens(c.env, existing.id);
    if (!row) throw ApiError.notFound();
    return answer(jsonApi(c, { data: render(c, row) }));
  },
);

adminContractors.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Delete a contractor",
    security: SECURITY,
    request: { params: idParams },
    responses: { 204: { description: "Deleted." }, ...errors(401, 404, 422) },
  }),
  async (c) => {
    const existing = await findById(c, contractors);
    try {
      await db(c.env).delete(contractors).where(eq(contractors.id, existing.id));
    } catch (error) {
      if (isForeignKeyViolation(error)) {
        throw invalid("contractor", "/data", "has accounts or API accesses; delete them first");
      }
      throw error;
    }
    return c.body(null, 204);
  },
);
