// Operator API `contractors`: Yeti's customers and vendors.
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { revokeCustomerTokens } from "../../auth/revocation";
import type { AppContext, AppEnv } from "../../context";
import { db } from "../../db/client";
import { apiAccesses, contractors } from "../../db/schema";
import { ApiError } from "../../errors";
import { isoMillis } from "../../file-format/time-format";
import { jsonApi } from "../../http/json-api";
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

export const adminContractors = new Hono<AppEnv>()
  .post("/", async (c) => {
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
    return jsonApi(c, { data: render(c, row as Row) }, 201);
  })
  .get("/", async (c) => {
    const { rows, ...list } = await pagedList(c, contractors);
    return jsonApi(c, { data: rows.map((row) => render(c, row)), ...list });
  })
  .get("/:id", async (c) => jsonApi(c, { data: render(c, await findById(c, contractors)) }))
  .patch("/:id", async (c) => {
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
    return jsonApi(c, { data: render(c, row as Row) });
  })
  .post("/:id/revoke-tokens", async (c) => {
    const existing = await findById(c, contractors);
    // Its `sub: "D"` tokens and its API accesses' tokens stop working at once, with their download links.
    const row = await revokeCustomerTokens(c.env, existing.id);
    if (!row) throw ApiError.notFound();
    return jsonApi(c, { data: render(c, row) });
  })
  .delete("/:id", async (c) => {
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
  });
