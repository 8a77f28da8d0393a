// What the operator routes share: integer ids as strings, paged lists, write-body parsing and value schemas.
import { count, eq, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import type { AppContext } from "../../context";
import { db } from "../../db/client";
import { ApiError, validationError } from "../../errors";
import { isoMillis } from "../../file-format/time-format";
import { type ResourceInput, readJsonBody, resourceFromDocument, toOneLinkage } from "../../http/json-api";
import { pageLinks, parsePage } from "../../http/paging";
import { parseWith } from "../../http/validation";

export const ADMIN_BASE = "/api/rest/admin";

export function adminDocument(
  c: AppContext,
  type: string,
  row: { id: number; createdAt: number; updatedAt: number },
  attributes: Record<string, unknown>,
  relationships?: Record<string, { type: string; id: number | string }>,
) {
  return {
    id: String(row.id),
    type,
    links: { self: `${new URL(c.req.url).origin}${ADMIN_BASE}/${type}/${row.id}` },
    attributes: {
      ...attributes,
      "created-at": isoMillis(row.createdAt),
      "updated-at": isoMillis(row.updatedAt),
    },
    ...(relationships
      ? {
          relationships: Object.fromEntries(
            Object.entries(relationships).map(([name, ref]) => [
              name,
              { data: { type: ref.type, id: String(ref.id) } },
            ]),
          ),
        }
      : {}),
  };
}

/** `:id` as a positive integer; anything else cannot name a record. */
export function idParam(c: AppContext): number {
  const raw = c.req.param("id") ?? "";
  if (!/^\d{1,15}$/.test(raw)) throw ApiError.notFound();
  return Number(raw);
}

/** The operator resources' tables: each has an integer `id`. */
type IdTable = SQLiteTable & { id: SQLiteColumn };

/** The record `:id` names in `table`, or 404. */
export async function findById<T extends IdTable>(c: AppContext, table: T): Promise<T["$inferSelect"]> {
  const row = await db(c.env)
    .select()
    .from(table as SQLiteTable)
    .where(eq(table.id, idParam(c)))
    .get();
  if (!row) throw ApiError.notFound();
  return row as T["$inferSelect"];
}

/** One page of `table` in `order` (page[number], page[size]), with meta.total-count and page links. */
export async function pagedList<T extends IdTable>(
  c: AppContext,
  table: T,
  order: SQL | SQLiteColumn = table.id,
): Promise<{ rows: T["$inferSelect"][]; meta: { "total-count": number }; links: Record<string, string> }> {
  const url = new URL(c.req.url);
  const page = parsePage(url.searchParams);
  const d = db(c.env);
  const [rows, totals] = await Promise.all([
    d
      .select()
      .from(table as SQLiteTable)
      .orderBy(order)
      .limit(page.size)
      .offset(page.offset),
    d.select({ n: count() }).from(table as SQLiteTable),
  ]);
  const total = totals[0]?.n ?? 0;
  return {
    rows: rows as T["$inferSelect"][],
    meta: { "total-count": total },
    links: pageLinks(url, page, total),
  };
}

/** Reads a create/update document and validates its attributes with `schema` (422s point into the body). */
export async function readWrite<S extends z.ZodType>(
  c: AppContext,
  type: string,
  schema: S,
  relationships: readonly string[] = [],
): Promise<{ attributes: z.output<S>; input: ResourceInput }> {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  const input = resourceFromDocument(await readJsonBody(c), type, Object.keys(shape), relationships);
  return { attributes: parseWith(schema, input.attributes, "/data/attributes"), input };
}

/**
 * A client-generated id (`data.id` on POST): a positive integer as a string, so that records can carry
 * the ids Yeti gave them (CDRs name accounts by Yeti's id). Absent = the next free id.
 */
export function clientId(input: ResourceInput): number | undefined {
  if (input.id === undefined || input.id === null) return undefined;
  if (typeof input.id !== "string" || !/^[1-9]\d{0,14}$/.test(input.id)) {
    throw invalid("id", "/data/id", "must be a positive integer as a string");
  }
  return Number(input.id);
}

/** True when D1 refused a write because `table`'s id is taken (a client-generated id). */
export function isIdTaken(error: unknown, table: string): boolean {
  const text = `${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  return text.includes(`UNIQUE constraint failed: ${table}.id`);
}

/** JSON:API's answer to a client-generated id that exists already. */
export function idTaken(type: string, id: number): ApiError {
  return new ApiError(409, [
    { title: "Conflict", detail: `${type} ${id} already exists`, source: { pointer: "/data/id" } },
  ]);
}

/** The integer id of a to-one linkage of `type`; 422 `<name> - can't be blank` / `is invalid`. */
export function linkedId(input: ResourceInput, name: string, type: string): number | undefined {
  const linkage = toOneLinkage(input.relationships, name);
  if (!linkage.present) return undefined;
  const id =
    typeof linkage.id === "string" && /^\d{1,15}$/.test(linkage.id) ? Number(linkage.id) : linkage.id;
  if (linkage.type !== type || !Number.isSafeInteger(id)) throw invalid(name, `/data/relationships/${name}`);
  return id as number;
}

export function invalid(key: string, pointer: string, message = "is invalid"): ApiError {
  return validationError([{ key, message, pointer }]);
}

export function blank(key: string, pointer: string): ApiError {
  return invalid(key, pointer, "can't be blank");
}

/** A required, trimmed, non-empty string; a value of another type says so rather than "can't be blank". */
export function requiredString() {
  return z
    .string({ error: (issue) => (issue.input == null ? "can't be blank" : "must be a string") })
    .trim()
    .min(1, "can't be blank")
    .max(255, "is too long (maximum is 255 characters)");
}

const DECIMAL = /^-?\d{1,20}(\.\d{1,20})?$/;

/** A number as plain decimal text: String(1e-7) is "1e-7", this gives "0.0000001". */
function plainDecimal(n: number): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(String(n));
  if (!m) return String(n);
  const [, sign = "", int = "", frac = "", exp = "0"] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A decimal as text, kept as written ("0.0100" stays "0.0100"); numbers are accepted too. */
export const decimal = z
  .union([z.string(), z.number().finite()], { error: "is not a number" })
  .transform((v) => (typeof v === "number" ? plainDecimal(v) : v))
  .refine((v) => DECIMAL.test(v), "is not a number");

export const optionalInt = z
  .number({ error: "must be an integer" })
  .int("must be an integer")
  .min(0)
  .nullable();

/** True when D1 refused a write for a UNIQUE constraint. */
export function isUniqueViolation(error: unknown): boolean {
  const text = String((error as { cause?: unknown })?.cause ?? error);
  return /UNIQUE constraint failed/i.test(text) || /UNIQUE constraint failed/i.test(String(error));
}

export function isForeignKeyViolation(error: unknown): boolean {
  const text = `${String(error)} ${String((error as { cause?: unknown })?.cause ?? "")}`;
  return /FOREIGN KEY constraint failed/i.test(text);
}
