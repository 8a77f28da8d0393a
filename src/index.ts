// The Worker: HTTP API, the export queue consumer, and the cron (sweeper, retention, clean-up of ended sessions
// and lapsed Idempotency-Keys, backfill of stored CSV tails) behind one entry.
import { app } from "./app";
import { purgeRevokedSessions } from "./auth/revocation";
import { purgeExpiredIdempotencyKeys } from "./cdr-exports/idempotency";
import { backfillCsvTails } from "./cdrs/backfill";
import { handleExportBatch } from "./pipeline/consumer";
import { applyRetention } from "./pipeline/lifecycle";
import { requeueStuckExports } from "./pipeline/sweeper";

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    await handleExportBatch(batch, env);
  },
  async scheduled(controller, env) {
    await requeueStuckExports(env, controller.scheduledTime);
    await applyRetention(env, controller.scheduledTime);
    await purgeRevokedSessions(env, controller.scheduledTime);
    await purgeExpiredIdempotencyKeys(env, controller.scheduledTime);
    await backfillCsvTails(env);
  },
} satisfies ExportedHandler<Env, unknown>;
