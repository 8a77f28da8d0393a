// Idempotency-Key on `POST /cdr-exports` (draft-ietf-httpapi-idempotency-key-header): the header's value,
// the fingerprint of a request body, how long a key counts, and the cron's clean-up of lapsed keys.
import { inArray, lte, sql } from "drizzle-orm";
import { db } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import { ApiError } from "../errors";
import { log } from "../log";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
/** A key counts for 24 hours after the request that first used it; a retry within that returns its export. */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
const MAX_KEY_LENGTH = 255;
/** The draft's key is a Structured Field String: printable ASCII in quotes, `\\` and `\"` escaped. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;
/** Many clients (after Stripe's convention) send the bare key: accepted as visible ASCII without quotes. */
const BARE_KEY = /^[\x21\x23-\x7e]+$/;

function invalidKey(): ApiError {
  return new ApiError(400, [
    {
      title: "Invalid Idempotency-Key",
      detail: `${IDEMPOTENCY_KEY_HEADER} - must be a string of 1 to ${MAX_KEY_LENGTH} printable ASCII characters`,
      source: { header: IDEMPOTENCY_KEY_HEADER },
    },
  ]);
}

/** The key of the header (null without one); 400 for a value that is no key. */
export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  const value = header.trim();
  const quoted = SF_STRING.exec(value);
  const key = quoted
    ? (quoted[1] as string).replace(/\\(["\\])/g, "$1")
    : BARE_KEY.test(value)
      ? value
      : null;
  if (!key || key.length > MAX_KEY_LENGTH) throw invalidKey();
  return key;
}

/** Hex SHA-256 of the request body as sent: equal bodies are the same request. */
export async function bodyFingerprint(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The answer to a key used again with another body (the draft's 422). */
export function keyReused(): ApiError {
  return new ApiError(422, [
    {
      title: "is already used for another request",
      detail: `${IDEMPOTENCY_KEY_HEADER} - is already used for another request`,
      source: { header: IDEMPOTENCY_KEY_HEADER },
    },
  ]);
}

const PURGE_BATCH = 10_000;

/** The cron's clean-up: keys past their lifetime (a create treats them as absent already), oldest first. */
export async function purgeExpiredIdempotencyKeys(env: Env, now = Date.now()): Promise<number> {
  const d = db(env);
  const lapsed = d
    .select({ rowid: sql`rowid` })
    .from(idempotencyKeys)
    .where(lte(idempotencyKeys.createdAt, now - KEY_LIFETIME_MS))
    .orderBy(idempotencyKeys.createdAt)
    .limit(PURGE_BATCH);
  const result = await d.delete(idempotencyKeys).where(inArray(sql`rowid`, lapsed)).run();
  const removed = result.meta.changes ?? 0;
  if (removed) log("info", "idempotency keys purged", { removed });
  return removed;
}
