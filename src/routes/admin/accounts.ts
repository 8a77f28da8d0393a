// Operator API `accounts`: a contractor's billing accounts, identified to customers by uuid.
import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { AppContext } from "../../context";
import { db } from "../../db/client";
import { accounts, contractors } from "../../db/schema";
import { jsonApi } from "../../http/json-api";
import {
  accountResource,
  answer,
  documentBody,
  errors,
  jsonApiResponse,
  listDocument,
  showDocument,
  writeDocument,
  writeLinkage,
} from "../../openapi/schemas";
import {
  adminDocument,
  blank,
  clientId,
  decimal,
  findById,
  idTaken,
  invalid,
  isForeignKeyViolation,
  isIdTaken,
  isUniqueViolation,
  linkedId,
  optionalInt,
  pagedList,
  readWrite,
  requiredString,
} from "./admin-resource";
import { adminRouter, idParams, pageParams, SECURITY } from "./openapi";

type Row = typeof accounts.$inferSelect;

export const attributes = z.object({
  name: requiredString(),
  // Lowercase, as Yeti renders uuids and as customers look accounts up.
  uuid: z
    .uuid({ error: "is invalid" })
    .transform((v) => v.toLowerCase())
    .optional(),
  balance: decimal.optional(),
  "min-balance": decimal.optional(),
  "max-balance": decimal.optional(),
  "destination-rate-limit": decimal.nullable().optional(),
  "origination-capacity": optionalInt.optional(),
  "termination-capacity": optionalInt.optional(),
  "total-capacity": optionalInt.optional(),
  currency: z
    .string({ error: "is invalid" })
    .regex(/^[A-Z]{3}$/, "is invalid")
    .optional(),
});

type Attributes = z.output<typeof attributes>;

function columns(a: Partial<Attributes>) {
  return {
    name: a.name,
    uuid: a.uuid,
    balance: a.balance,
    minBalance: a["min-balance"],
    maxBalance: a["max-balance"],
    destinationRateLimit: a["destination-rate-limit"],
    originationCapacity: a["origination-capacity"],
    terminationCapacity: a["termination-capacity"],
    totalCapacity: a["total-capacity"],
    currency: a.currency,
  };
}

function render(c: AppContext, row: Row) {
  return adminDocument(
    c,
    "accounts",
    row,
    {
      name: row.name,
      uuid: row.uuid,
      balance: row.balance,
      "min-balance": row.minBalance,
      "max-balance": row.maxBalance,
      "destination-rate-limit": row.destinationRateLimit,
      "origination-capacity": row.originationCapacity,
      "termination-capacity": row.terminationCapacity,
      "total-capacity": row.totalCapacity,
      currency: row.currency,
    },
    { contractor: { type: "contractors", id: row.contractorId } },
  );
}

async function contractorExists(env: Env, id: number): Promise<boolean> {
  return Boolean(
    await db(env).select({ id: contractors.id }).from(contractors).where(eq(contractors.id, id)).get(),
  );
}

async function write<T>(run: () => Promise<T>, id?: number): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (id !== undefined && isIdTaken(error, "accounts")) throw idTaken("accounts", id);
    if (isUniqueViolation(error)) {
      const key = /accounts\.uuid/.test(String((error as { cause?: unknown }).cause ?? error))
        ? "uuid"
        : "name";
      throw invalid(key, `/data/attributes/${key}`, "has already been taken");
    }
    throw error;
  }
}

const CONTRACTOR = "/data/relationships/contractor";

const tags = ["accounts"];
const one = showDocument(accountResource);
const relationships = { contractor: writeLinkage("contractors") };

export const adminAccounts = adminRouter();

adminAccounts.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Create an account",
    security: SECURITY,
    request: {
      body: documentBody(writeDocument("accounts", attributes.strict(), relationships, false, true)),
    },
    responses: { 201: jsonApiResponse("Created.", one), ...errors(400, 401, 409, 413, 415, 422) },
  }),
  async (c) => {
    const { attributes: a, input } = await readWrite(c, "accounts", attributes, ["contractor"]);
    const contractorId = linkedId(input, "contractor", "contractors");
    if (contractorId === undefined) throw blank("contractor", CONTRACTOR);
    if (!(await contractorExists(c.env, contractorId))) throw invalid("contractor", CONTRACTOR);
    const id = clientId(input);
    const now = Date.now();
    const values = { ...columns(a), name: a.name, uuid: a.uuid ?? crypto.randomUUID(), contractorId };
    const [row] = await write(
      () =>
        db(c.env)
          .insert(accounts)
          .values({ ...(id === undefined ? {} : { id }), ...values, createdAt: now, updatedAt: now })
          .returning(),
      id,
    );
    return answer(jsonApi(c, { data: render(c, row as Row) }, 201));
  },
);

adminAccounts.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List accounts",
    security: SECURITY,
    request: { query: pageParams },
    responses: { 200: jsonApiResponse("A page, by id.", listDocument(accountResource)), ...errors(400, 401) },
  }),
  async (c) => {
    const { rows, ...list } = await pagedList(c, accounts);
    return answer(jsonApi(c, { data: rows.map((row) => render(c, row)), ...list }));
  },
);

adminAccounts.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Show an account",
    security: SECURITY,
    request: { params: idParams },
    responses: { 200: jsonApiResponse("The record.", one), ...errors(401, 404) },
  }),
  async (c) => answer(jsonApi(c, { data: render(c, await findById(c, accounts)) })),
);

adminAccounts.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags,
    summary: "Update an account",
    description: "Only the attributes and relationships given change.",
    security: SECURITY,
    request: {
      params: idParams,
      body: documentBody(writeDocument("accounts", attributes.strict().partial(), relationships, true)),
    },
    responses: { 200: jsonApiResponse("Updated.", one), ...errors(400, 401, 404, 413, 415, 422) },
  }),
  async (c) => {
    const existing = await findById(c, accounts);
    const { attributes: a, input } = await readWrite(c, "accounts", attributes.partial(), ["contractor"]);
    const contractorId = linkedId(input, "contractor", "contractors");
    if (contractorId !== undefined && !(await contractorExists(c.env, contractorId))) {
      throw invalid("contractor", CONTRACTOR);
    }
    const [row] = await write(() =>
      db(c.env)
        .update(accounts)
        .set({
          ...columns(a),
          ...(contractorId !== undefined ? { contractorId } : {}),
          updatedAt: Date.now(),
        })
        .where(eq(accounts.id, existing.id))
        .returning(),
    );
    return answer(jsonApi(c, { data: render(c, row as Row) }));
  },
);

adminAccounts.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Delete an account",
    security: SECURITY,
    request: { params: idParams },
    responses: { 204: { description: "Deleted." }, ...errors(401, 404, 422) },
  }),
  async (c) => {
    const existing = await findById(c, accounts);
    try {
      await db(c.env).delete(accounts).where(eq(accounts.id, existing.id));
    } catch (error) {
      if (isForeignKeyViolation(error))
        throw invalid("account", "/data", "has exports; it cannot be deleted");
      throw error;
    }
    return c.body(null, 204);
  },
);
