// Ending an export's life: delete (customer, operator, retention) and the retention sweep.
import { and, eq, inArray, isNotNull, lt } from "drizzle-orm";
import { db } from "../db/client";
import { cdrExports } from "../db/schema";
import { log } from "../log";
import type { ExportRow } from "./export-store";
import { abortUpload } from "./part-writer";
import { objectKey } from "./run-export";

const RETENTION_BATCH = 100;
const DAY_MS = 86_400_000;

/**
 * Marks the export Deleted first — a running consumer sees that at its next step and stops — then
 * removes the file, any open upload and checkpoint tail. A missing object is not an error.
 */
export async function deleteExport(env: Env, row: ExportRow, now = Date.now()): Promise<boolean> {
  const [deleted] = await db(env)
    .update(cdrExports)
    .set({ status: "Deleted", updatedAt: now, leaseOwner: null, leaseUntil: null })
    .where(and(eq(cdrExports.id, row.id), inArray(cdrExports.status, ["Pending", "Completed", "Failed"])))
    .returning();
  if (!deleted) return false;
  await removeFiles(env, deleted);
  return true;
}

async function removeFiles(env: Env, row: ExportRow): Promise<void> {
  const bucket = env.EXPORTS_BUCKET;
  await abortUpload(bucket, objectKey(row.uuid), row.uploadId);
  await bucket.delete([objectKey(row.uuid), ...(row.tailKey ? [row.tailKey] : [])]);
  await db(env)
    .update(cdrExports)
    .set({ objectKey: null, objectSize: null, uploadId: null, parts: [], tailKey: null, tailSize: 0 })
    .where(eq(cdrExports.id, row.id));
}

function retentionDays(env: Env): number {
  const n = Number(env.EXPORT_RETENTION_DAYS);
  return Number.isFinite(n) && n > 0 ? n : 7;
}

/** Deletes Completed exports older than the retention, and aborts uploads Failed exports left open. */
export async function applyRetention(
  env: Env,
  now = Date.now(),
): Promise<{ expired: number; aborted: number }> {
  const before = now - retentionDays(env) * DAY_MS;
  const expired = await db(env)
    .select()
    .from(cdrExports)
    .where(and(eq(cdrExports.status, "Completed"), lt(cdrExports.updatedAt, before)))
    .limit(RETENTION_BATCH)
    .all();
  for (const row of expired) await deleteExport(env, row, now);
  const abandoned = await db(env)
    .select()
    .from(cdrExports)
    .where(and(eq(cdrExports.status, "Failed"), isNotNull(cdrExports.uploadId)))
    .limit(RETENTION_BATCH)
    .all();
  for (const row of abandoned) await removeFiles(env, row);
  if (expired.length || abandoned.length) {
    log("info", "retention sweep", { expired: expired.length, aborted: abandoned.length });
  }
  return { expired: expired.length, aborted: abandoned.length };
}
