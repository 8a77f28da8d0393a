// Export callbacks: a signed POST to the operator's callback URL when an export ends, retried through the
// queue; each hop's host is resolved and its addresses vetted right before it is called.
import { eq } from "drizzle-orm";
import { db } from "../db/client";
import { type CallbackStatus, cdrExports } from "../db/schema";
import { errorFields, log } from "../log";
import { callbackHost, callbackUrlProblem, vetCallbackHost } from "./callback-guard";
import { signatureHeaders } from "./callback-signature";

export type CallbackMessage = { callbackFor: string };

const TIMEOUT_MS = 10_000;
/** Redirects that are followed, re-POSTing the same signed body; each hop is checked like the first. */
const FOLLOWED_REDIRECTS = new Set([301, 302, 307, 308]);
const MAX_REDIRECTS = 3;

export function isCallbackMessage(body: unknown): body is CallbackMessage {
  return (
    typeof body === "object" && body !== null && typeof (body as CallbackMessage).callbackFor === "string"
  );
}

/** Queues the callback of an export that has ended, if it has one; never fails the caller. */
export async function enqueueCallback(env: Env, uuid: string, callbackUrl: string | null): Promise<void> {
  if (!callbackUrl) return;
  try {
    await env.EXPORTS_QUEUE.send({ callbackFor: uuid } satisfies CallbackMessage);
  } catch (error) {
    log("error", "callback enqueue failed", { exportId: uuid, ...errorFields(error) });
  }
}

/** What one delivery attempt came to. Problems name hosts, never whole URLs (their queries may hold secrets). */
type Outcome = { status: CallbackStatus; error: string | null };

const delivered: Outcome = { status: "Delivered", error: null };
const refused = (error: string): Outcome => ({ status: "Refused", error });
const failed = (error: string): Outcome => ({ status: "Error", error });

/** POSTs `body` to `url`, following up to MAX_REDIRECTS redirects, vetting every hop before it is called. */
async function post(env: Env, url: string, body: string, fetcher: typeof fetch): Promise<Outcome> {
  const headers = { "Content-Type": "application/json", ...(await signatureHeaders(env, body)) };
  let target = url;
  for (let hop = 0; ; hop++) {
    const problem = callbackUrlProblem(env, target);
    if (problem) return refused(hop ? `a redirect's target ${problem}` : `the URL ${problem}`);
    const host = callbackHost(new URL(target));
    const vetted = await vetCallbackHost(env, host, fetcher);
    if (vetted) return vetted.refused ? refused(vetted.problem) : failed(vetted.problem);
    let res: Response;
    try {
      res = await fetcher(target, {
        method: "POST",
        headers,
        body,
        // Redirects are followed here, hop by hop, so that each target is vetted before it is called.
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      return failed(`${host}: ${String(errorFields(error).error)}`);
    }
    // The answer's body is of no interest: release the connection.
    await res.body?.cancel().catch(() => {});
    if (res.ok) return delivered;
    const location = res.headers.get("Location");
    if (!FOLLOWED_REDIRECTS.has(res.status) || !location)
      return failed(`${host} answered HTTP ${res.status}`);
    if (hop === MAX_REDIRECTS) return failed(`more than ${MAX_REDIRECTS} redirects`);
    try {
      target = new URL(location, target).href;
    } catch {
      return failed(`${host} redirected to an invalid URL`);
    }
  }
}

/**
 * Sends the callback once, signed when CALLBACK_SIGNING_SECRET is set, and records the outcome on the export
 * (`callback-status`, `callback-error`). True when it was delivered (2xx) or can never be (gone, refused).
 */
export async function deliverCallback(
  env: Env,
  uuid: string,
  fetcher: typeof fetch = fetch,
): Promise<boolean> {
  const row = await db(env).select().from(cdrExports).where(eq(cdrExports.uuid, uuid)).get();
  if (!row?.callbackUrl || (row.status !== "Completed" && row.status !== "Failed")) return true;
  const body = JSON.stringify({ export_id: row.id, uuid: row.uuid, status: row.status });
  const outcome = await post(env, row.callbackUrl, body, fetcher);
  if (outcome.status === "Refused")
    log("warn", "callback refused", { exportId: uuid, problem: outcome.error });
  if (outcome.status === "Error") log("warn", "callback failed", { exportId: uuid, problem: outcome.error });
  try {
    await db(env)
      .update(cdrExports)
      .set({ callbackStatus: outcome.status, callbackError: outcome.error })
      .where(eq(cdrExports.id, row.id));
  } catch (error) {
    // The delivery stands: a failed note must not send the callback again.
    log("error", "callback outcome not recorded", { exportId: uuid, ...errorFields(error) });
  }
  return outcome.status !== "Error";
}
