// The cron side of the pipeline: re-enqueue Pending exports that made no progress (their message may be lost).
import { and, eq, isNull, lt, or } from "drizzle-orm";
import { config } from "../config";
import { db } from "../db/client";
import { cdrExports } from "../db/schema";
import { log } from "../log";
import { enqueueExport } from "./queue";

const SWEEP_BATCH = 100;

export async function requeueStuckExports(env: Env, now = Date.now()): Promise<number> {
  const stuckBefore = now - config(env).EXPORT_STUCK_MINUTES * 60_000;
  const stuck = await db(env)
    .select({ uuid: cdrExports.uuid, step: cdrExports.step })
    .from(cdrExports)
    .where(
      and(
        eq(cdrExports.status, "Pending"),
        lt(cdrExports.progressAt, stuckBefore),
        or(isNull(cdrExports.leaseUntil), lt(cdrExports.leaseUntil, now)),
      ),
    )
    .limit(SWEEP_BATCH)
    .all();
  for (const row of stuck) {
    await enqueueExport(env, row.uuid, undefined, row.step);
    // Counts as progress so the next sweep waits another period before sending it again.
    await db(env).update(cdrExports).set({ progressAt: now }).where(eq(cdrExports.uuid, row.uuid));
  }
  if (stuck.length) log("warn", "re-enqueued stuck exports", { count: stuck.length });
  return stuck.length;
}
