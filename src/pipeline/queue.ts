// Messages of the `cdr-exports` queue: `{ exportId, step? }`; `step` tells a continuation from a stale duplicate.
import { errorFields, log } from "../log";

export type ExportMessage = { exportId: string; step?: number };

/**
 * Sends the export to the consumer. A failed send is logged, not raised: the row is stored, and the
 * sweeper re-enqueues Pending exports that make no progress.
 */
export async function enqueueExport(
  env: Env,
  exportId: string,
  requestId?: string,
  step?: number,
): Promise<void> {
  const body: ExportMessage = step ? { exportId, step } : { exportId };
  try {
    await env.EXPORTS_QUEUE.send(body);
  } catch (error) {
    log("error", "enqueue failed", { exportId, requestId, ...errorFields(error) });
  }
}

export function isExportMessage(body: unknown): body is ExportMessage {
  if (typeof body !== "object" || body === null) return false;
  const { exportId, step } = body as Record<string, unknown>;
  return typeof exportId === "string" && (step === undefined || Number.isSafeInteger(step));
}
