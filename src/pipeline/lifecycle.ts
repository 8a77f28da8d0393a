// Ending an export's life: delete (operator, retention; the customer's marks in its own round trip, then
// removes the files here) and the retention sweep.
import { and, asc, eq, inArray, isNotNull, lt, or } from "drizzle-orm";
import { config } from "../config";
import { db } from "../db/client";
import type { ExportRow } from "../db/queries/cdr-exports";
import { cdrExports } from "../db/schema";
import type { D1Handle } from "../db/statement";
import { errorFields, log } from "../log";
import { abortUpload } from "./part-writer";
import { objectKey } from "./run-export";

const RETENTION_BATCH = 100;
const DAY_MS = 86_400_000;

/** Storage an export may still hold: its file, an open multipart upload, a checkpoint tail. */
const holdsStorage = or(
  isNotNull(cdrExports.objectKey),
  isNotNull(cdrExports.uploadId),
  isNotNull(cdrExports.tailKey),
);

/**
 * Marks the export Deleted first — a running consumer sees that at its next step and stops — then
 * removes the file, any open upload and checkpoint tail. A missing object is not an error. Deleting an
 * export that is already Deleted retries the clean-up an earlier delete could not finish.
 * True when this call marked it Deleted.
 */
export async function deleteExport(env: Env, row: ExportRow, now = Date.now()): Promise<boolean> {
  const [deleted] = await db(env)
    .update(cdrExports)
    .set({ status: "Deleted", updatedAt: now, leaseOwner: null, leaseUntil: null })
    .where(and(eq(cdrExports.id, row.id), inArray(cdrExports.status, ["Pending", "Completed", "Failed"])))
    .returning();
  if (deleted) {
    await removeFiles(env, deleted);
    return true;
  }
  const leftover = await db(env)
    .select()
    .from(cdrExports)
    .where(and(eq(cdrExports.id, row.id), eq(cdrExports.status, "Deleted"), holdsStorage))
    .get();
  if (leftover) await removeFiles(env, leftover);
  return false;
}

/** True while a Deleted export's clean-up is not finished (a storage error, or a crash, interrupted it). */
export function holdsFiles(row: Pick<ExportRow, "objectKey" | "uploadId" | "tailKey">): boolean {
  return row.objectKey !== null || row.uploadId !== null || row.tailKey !== null;
}

/** Removes the export's file, open upload and checkpoint tails, then records that they are gone. */
export async function removeFiles(env: Env, row: ExportRow, d1: D1Handle = env.DB): Promise<void> {
  const bucket = env.EXPORTS_BUCKET;
  const key = objectKey(row.uuid);
  await abortUpload(bucket, key, row.uploadId);
  // The file and every checkpoint tail (`<key>.tail-<step>`), also one a best-effort clean-up missed.
  const listed = await bucket.list({ prefix: key, limit: 1000 });
  const keys = new Set([key, ...(row.tailKey ? [row.tailKey] : []), ...listed.objects.map((o) => o.key)]);
  await bucket.delete([...keys]);
  await db(env, d1)
    .update(cdrExports)
    .set({ objectKey: null, objectSize: null, uploadId: null, parts: [], tailKey: null, tailSize: 0 })
    .where(eq(cdrExports.id, row.id));
}

/**
 * Deletes Completed exports older than the retention (oldest first, RETENTION_BATCH a run), aborts
 * uploads Failed exports left open, and finishes clean-ups of Deleted exports a storage error
 * interrupted. One export's failure is logged and does not stop the others.
 */
export async function applyRetention(
  env: Env,
  now = Date.now(),
): Promise<{ expired: number; aborted: number }> {
  const before = now - config(env).EXPORT_RETENTION_DAYS * DAY_MS;
  const expired = await db(env)
    .select()
    .from(cdrExports)
    .where(and(eq(cdrExports.status, "Completed"), lt(cdrExports.updatedAt, before)))
    .orderBy(asc(cdrExports.updatedAt))
    .limit(RETENTION_BATCH)
    .all();
  let expiredCount = 0;
  for (const row of expired) {
    try {
      if (await deleteExport(env, row, now)) expiredCount++;
    } catch (error) {
      log("error", "retention: delete failed", { exportId: row.uuid, ...errorFields(error) });
    }
  }
  const abandoned = await db(env)
    .select()
    .from(cdrExports)
    .where(and(inArray(cdrExports.status, ["Failed", "Deleted"]), holdsStorage))
    .limit(RETENTION_BATCH)
    .all();
  let abortedCount = 0;
  for (const row of abandoned) {
    try {
      await removeFiles(env, row);
      abortedCount++;
    } catch (error) {
      log("error", "retention: clean-up failed", { exportId: row.uuid, ...errorFields(error) });
    }
  }
  if (expired.length || abandoned.length) {
    log("info", "retention sweep", { expired: expiredCount, aborted: abortedCount });
  }
  return { expired: expiredCount, aborted: abortedCount };
}
