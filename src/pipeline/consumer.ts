// Queue handlers: `cdr-exports` runs export slices; its dead-letter queue marks what it gave up on Failed.
import { errorFields, log } from "../log";
import { type CallbackMessage, deliverCallback, isCallbackMessage } from "./callbacks";
import { isExportMessage } from "./queue";
import {
  exportSettings,
  failExport,
  maxAttempts,
  PermanentExportError,
  type RunOptions,
  runExport,
} from "./run-export";

export const DEAD_LETTER_QUEUE = "cdr-exports-dlq";

/** 10 s, 20 s, 40 s ... capped at 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 10 * 2 ** Math.max(0, attempts - 1));
}

export async function handleExportMessage(
  env: Env,
  message: Message<unknown>,
  options: RunOptions = {},
): Promise<void> {
  if (!isExportMessage(message.body)) {
    log("warn", "dropping malformed export message", { messageId: message.id });
    message.ack();
    return;
  }
  const { exportId } = message.body;
  try {
    const outcome = await runExport(env, message.body, options);
    log("info", "export slice", {
      exportId,
      step: message.body.step ?? 0,
      outcome,
      attempts: message.attempts,
    });
    // "busy": another invocation holds the lease. Come back after one lease: if it died, its lease has run
    // out by then and this message takes over; if it lives on, the step moves and this message is skipped.
    if (outcome === "busy")
      message.retry({ delaySeconds: Math.ceil(exportSettings(env, options).leaseMs / 1000) });
    else message.ack();
  } catch (error) {
    const permanent = error instanceof PermanentExportError;
    if (permanent || message.attempts >= maxAttempts(env)) {
      log("error", "export failed", { exportId, attempts: message.attempts, ...errorFields(error) });
      await failExport(env, exportId, permanent ? String(error.message) : "retries exhausted");
      message.ack();
      return;
    }
    log("warn", "export slice failed, retrying", {
      exportId,
      attempts: message.attempts,
      ...errorFields(error),
    });
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

const CALLBACK_MAX_ATTEMPTS = 5;

/** One callback delivery; failures retry with backoff, and after the last attempt it is given up (logged). */
export async function handleCallbackMessage(
  env: Env,
  message: Message<CallbackMessage>,
  fetcher?: typeof fetch,
): Promise<void> {
  let delivered: boolean;
  try {
    delivered = await deliverCallback(env, message.body.callbackFor, fetcher);
  } catch (error) {
    // E.g. D1 unavailable: retried with backoff like a failed delivery, not thrown out of the batch.
    log("warn", "callback could not be sent", { exportId: message.body.callbackFor, ...errorFields(error) });
    delivered = false;
  }
  if (delivered) {
    message.ack();
  } else if (message.attempts >= CALLBACK_MAX_ATTEMPTS) {
    log("error", "callback given up", { exportId: message.body.callbackFor, attempts: message.attempts });
    message.ack();
  } else {
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
  }
}

export async function handleExportBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    if (isCallbackMessage(message.body)) {
      // A callback never changes the export; in the dead-letter queue it is simply dropped.
      if (batch.queue === DEAD_LETTER_QUEUE) message.ack();
      else await handleCallbackMessage(env, message as Message<CallbackMessage>);
    } else if (batch.queue === DEAD_LETTER_QUEUE) {
      // Only at the message's step: a stale message must not fail an export that has moved on.
      if (isExportMessage(message.body)) {
        await failExport(env, message.body.exportId, "dead-lettered", message.body.step ?? 0);
      }
      message.ack();
    } else {
      await handleExportMessage(env, message);
    }
  }
}
