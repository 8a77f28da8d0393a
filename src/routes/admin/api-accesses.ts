// Operator API `api-accesses`: customer API v1 credentials, their allowed accounts and source networks.
import { createRoute } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { ALL_NETWORKS, formatNetwork, parseNetwork } from "../../auth/ip-networks";
import {
  bcryptCost,
  hashPassword,
  isBcryptDigest,
  MAX_BCRYPT_COST,
  MIN_PASSWORD_LENGTH,
} from "../../auth/password";
import { revokeAccessTokens } from "../../auth/revocation";
import type { AppContext } from "../../context";
import { db } from "../../db/client";
import { accounts, apiAccesses, contractors } from "../../db/schema";
import { ApiError, validationError } from "../../errors";
import { isoMillis } from "../../file-format/time-format";
import { jsonApi } from "../../http/json-api";
import {
  answer,
  apiAccessResource,
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
  findById,
  invalid,
  isUniqueViolation,
  linkedId,
  pagedList,
  readWrite,
  requiredString,
} from "./admin-resource";
import { adminRouter, idParams, pageParams, SECURITY } from "./openapi";

type Row = typeof apiAccesses.$inferSelect;

const ACCOUNT_IDS = "must be an array of account ids";

export const attributes = z.object({
  login: requiredString(),
  password: z
    .string({ error: "is invalid" })
    .min(MIN_PASSWORD_LENGTH, `is too short (minimum is ${MIN_PASSWORD_LENGTH} characters)`)
    .max(1024)
    .optional(),
  "password-digest": z
    .string({ error: "is invalid" })
    .superRefine((text, ctx) => {
      const cost = bcryptCost(text);
      if (cost === null)
        ctx.addIssue({ code: "custom", message: "must be a bcrypt digest ($2a$, $2b$ or $2y$)" });
      else if (!isBcryptDigest(text)) {
        ctx.addIssue({
          code: "custom",
          message: `has bcrypt cost ${cost}; at most ${MAX_BCRYPT_COST} is accepted (set a password instead)`,
        });
      }
    })
    .optional(),
  "account-ids": z
    .array(z.number({ error: ACCOUNT_IDS }).int(ACCOUNT_IDS).positive(ACCOUNT_IDS), { error: ACCOUNT_IDS })
    .optional(),
  "allowed-ips": z
    .array(
      z.string({ error: "must be an array of networks" }).transform((text, ctx) => {
        const net = parseNetwork(text.trim());
        if (net) return formatNetwork(net);
        ctx.addIssue({ code: "custom", message: `${text} is not a valid IP network` });
        return z.NEVER;
      }),
      { error: "must be an array of networks" },
    )
    .optional(),
});

type Attributes = z.output<typeof attributes>;

function render(c: AppContext, row: Row) {
  // Password hashes are write-only: never rendered, never logged.
  return adminDocument(
    c,
    "api-accesses",
    row,
    {
      login: row.login,
      "account-ids": row.accountIds,
      "allowed-ips": row.allowedIps,
      "tokens-revoked-at": row.tokensRevokedAt === null ? null : isoMillis(row.tokensRevokedAt),
    },
    { customer: { type: "contractors", id: row.customerId } },
  );
}

const CUSTOMER = "/data/relationships/customer";

async function checkCustomer(env: Env, customerId: number): Promise<void> {
  const row = await db(env)
    .select({ id: contractors.id })
    .from(contractors)
    .where(and(eq(contractors.id, customerId), eq(contractors.customer, true)))
    .get();
  if (!row) throw invalid("customer", CUSTOMER);
}

async function checkAccounts(env: Env, customerId: number, ids: number[]): Promise<void> {
  if (!ids.length) return;
  // All of the customer's account ids, not `id IN (...)`: D1 binds at most 100 parameters per query.
  const owned = await db(env)
    .select({ id: accounts.id })
    .from(accounts)
    .where(eq(accounts.contractorId, customerId))
    .all();
  const ownedIds = new Set(owned.map((r) => r.id));
  const foreign = [...new Set(ids.filter((id) => !ownedIds.has(id)))];
  if (foreign.length) {
    throw invalid(
      "account-ids",
      "/data/attributes/account-ids",
      `${foreign.join(", ")} do not belong to the customer`,
    );
  }
}

async function passwordHash(a: Partial<Attributes>): Promise<string | undefined> {
  if (a.password !== undefined && a["password-digest"] !== undefined) {
    throw validationError([
      {
        key: "password",
        message: "give password or password-digest, not both",
        pointer: "/data/attributes/password",
      },
    ]);
  }
  if (a.password !== undefined) return hashPassword(a.password);
  return a["password-digest"];
}

async function write<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isUniqueViolation(error)) throw invalid("login", "/data/attributes/login", "has already been taken");
    // Drizzle's message lists the query parameters, the password hash among them: log only the cause.
    const cause = (error as { cause?: unknown })?.cause;
    throw new Error(`api_accesses write failed: ${cause instanceof Error ? cause.message : "query error"}`);
  }
}

const tags = ["api-accesses"];
const one = showDocument(apiAccessResource);
const relationships = { customer: writeLinkage("contractors") };

export const adminApiAccesses = adminRouter();

adminApiAccesses.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Create an API access",
    security: SECURITY,
    request: { body: documentBody(writeDocument("api-accesses", attributes.strict(), relationships, false)) },
    responses: { 201: jsonApiResponse("Created.", one), ...errors(400, 401, 413, 415, 422) },
  }),
  async (c) => {
    const { attributes: a, input } = await readWrite(c, "api-accesses", attributes, ["customer"]);
    const customerId = linkedId(input, "customer", "contractors");
    if (customerId === undefined) throw blank("customer", CUSTOMER);
    await checkCustomer(c.env, customerId);
    await checkAccounts(c.env, customerId, a["account-ids"] ?? []);
    const hash = await passwordHash(a);
    if (!hash) throw blank("password", "/data/attributes/password");
    const now = Date.now();
    const [row] = await write(() =>
      db(c.env)
        .insert(apiAccesses)
        .values({
          login: a.login,
          passwordHash: hash,
          customerId,
          accountIds: a["account-ids"] ?? [],
          ...(a["allowed-ips"]?.length ? { allowedIps: a["allowed-ips"] } : {}),
          createdAt: now,
          updatedAt: now,
        })
        .returning(),
    );
    return answer(jsonApi(c, { data: render(c, row as Row) }, 201));
  },
);

adminApiAccesses.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List api-accesses",
    security: SECURITY,
    request: { query: pageParams },
    responses: {
      200: jsonApiResponse("A page, by id.", listDocument(apiAccessResource)),
      ...errors(400, 401),
    },
  }),
  async (c) => {
    const { rows, ...list } = await pagedList(c, apiAccesses);
    return answer(jsonApi(c, { data: rows.map((row) => render(c, row)), ...list }));
  },
);

adminApiAccesses.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Show an API access",
    security: SECURITY,
    request: { params: idParams },
    responses: { 200: jsonApiResponse("The record.", one), ...errors(401, 404) },
  }),
  async (c) => answer(jsonApi(c, { data: render(c, await findById(c, apiAccesses)) })),
);

adminApiAccesses.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags,
    summary: "Update an API access",
    description: "Only the attributes and relationships given change.",
    security: SECURITY,
    request: {
      params: idParams,
      body: documentBody(writeDocument("api-accesses", attributes.strict().partial(), relationships, true)),
    },
    responses: { 200: jsonApiResponse("Updated.", one), ...errors(400, 401, 404, 413, 415, 422) },
  }),
  async (c) => {
    const existing = await findById(c, apiAccesses);
    const { attributes: a, input } = await readWrite(c, "api-accesses", attributes.partial(), ["customer"]);
    const customerId = linkedId(input, "customer", "contractors") ?? existing.customerId;
    if (customerId !== existing.customerId) await checkCustomer(c.env, customerId);
    await checkAccounts(c.env, customerId, a["account-ids"] ?? existing.accountIds);
    const hash = await passwordHash(a);
    const [row] = await write(() =>
      db(c.env)
        .update(apiAccesses)
        .set({
          login: a.login,
          passwordHash: hash,
          customerId,
          accountIds: a["account-ids"],
          allowedIps: a["allowed-ips"] && !a["allowed-ips"].length ? [...ALL_NETWORKS] : a["allowed-ips"],
          updatedAt: Date.now(),
        })
        .where(eq(apiAccesses.id, existing.id))
        .returning(),
    );
    return answer(jsonApi(c, { data: render(c, row as Row) }));
  },
);

adminApiAccesses.openapi(
  createRoute({
    method: "post",
    path: "/{id}/revoke-tokens",
    tags,
    summary: "Revoke the tokens of an API access",
    description:
      "Every token of the API access issued until now, with the download links they made. A new login works at once. No request body.",
    security: SECURITY,
    request: { params: idParams },
    responses: {
      200: jsonApiResponse("Revoked; the record with its `tokens-revoked-at`.", one),
      ...errors(401, 404),
    },
  }),
  async (c) => {
    const existing = await findById(c, apiAccesses);
    // Every token issued for the access so far stops working at once, and the download links they made.
    const row = await revokeAccessTokens(c.env, existing.id);
    if (!row) throw ApiError.notFound();
    return answer(jsonApi(c, { data: render(c, row) }));
  },
);

adminApiAccesses.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Delete an API access",
    security: SECURITY,
    request: { params: idParams },
    responses: { 204: { description: "Deleted." }, ...errors(401, 404, 422) },
  }),
  async (c) => {
    const existing = await findById(c, apiAccesses);
    // Tokens name the access by id and every request looks it up, so deleting it revokes them at once.
    await db(c.env).delete(apiAccesses).where(eq(apiAccesses.id, existing.id));
    return c.body(null, 204);
  },
);
