// The cron's backfill of `cdrs.csv_tail` for rows ingested before the column existed (migration 0005):
// a bounded batch per run, found through the partial index of rows still without it.
import { TAIL_SQL } from "../file-format/csv";
import { log } from "../log";
import { storesCsvTail } from "./ingest";

/** Rows rendered per cron run: ~0.15 s of D1 time locally, far under a query's limits. */
export const BACKFILL_BATCH = 20_000;

export async function backfillCsvTails(env: Env, limit = BACKFILL_BATCH): Promise<number> {
  if (!storesCsvTail(env)) return 0;
  const result = await env.DB.prepare(
    `UPDATE cdrs SET csv_tail = ${TAIL_SQL}
      WHERE id IN (SELECT id FROM cdrs WHERE csv_tail IS NULL LIMIT ?)`,
  )
    .bind(limit)
    .run();
  const count = result.meta.changes ?? 0;
  if (count) log("info", "rendered stored CSV tails", { count });
  return count;
}
