// Export callbacks: a POST to the operator's callback URL when an export ends, retried through the queue, SSRF-safe.
import { eq } from "drizzle-orm";
import { addressAllowed, parseAddress } from "../auth/ip-networks";
import { db } from "../db/client";
import { cdrExports } from "../db/schema";
import { errorFields, log } from "../log";

export type CallbackMessage = { callbackFor: string };

const TIMEOUT_MS = 10_000;

/**
 * Loopback, private, shared, link-local (incl. cloud metadata), multicast, documentation and reserved
 * ranges, and the IPv6 ranges that embed an IPv4 address (IPv4-mapped ::ffff:0:0/96 is folded to IPv4
 * by addressAllowed, so ::ffff:127.0.0.1 is judged as 127.0.0.1).
 */
const BLOCKED_NETWORKS = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "224.0.0.0/4",
  "240.0.0.0/4",
  // Unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d.
  "::/96",
  "64:ff9b::/96",
  "64:ff9b:1::/48",
  "100::/64",
  // Teredo and 6to4 carry an IPv4 address inside.
  "2001::/32",
  "2001:db8::/32",
  "2002::/16",
  "fc00::/7",
  "fe80::/10",
  "fec0::/10",
  "ff00::/8",
];

/** A callback URL longer than this is refused (it is stored and sent on every attempt). */
const MAX_URL_LENGTH = 2000;

const BLOCKED_HOST_SUFFIXES = [".localhost", ".local", ".internal", ".home.arpa"];

function allowHttp(env: Env): boolean {
  return env.CALLBACK_ALLOW_HTTP === "true";
}

/** Why a callback URL is refused, or null when it may be called. */
export function callbackUrlProblem(env: Env, text: string): string | null {
  if (text.length > MAX_URL_LENGTH) return `is too long (maximum is ${MAX_URL_LENGTH} characters)`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a valid URL";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowHttp(env)))
    return "must be an https URL";
  if (url.username || url.password) return "must not carry credentials";
  // URL parsing has already normalised odd IPv4 spellings (e.g. 2130706433, 0x7f.1) to dotted quads.
  // A trailing dot names the same host (`localhost.`, `metadata.internal.`): it is dropped before the checks.
  const host = url.hostname
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.+$/, "")
    .toLowerCase();
  if (parseAddress(host)) {
    return addressAllowed(host, BLOCKED_NETWORKS) ? "must not point to a private or reserved address" : null;
  }
  if (host === "localhost" || BLOCKED_HOST_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".")) {
    return "must not point to a local or internal host";
  }
  return null;
}

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

/** Sends the callback once; true when it was delivered (2xx) or can never be (gone, refused URL). */
export async function deliverCallback(
  env: Env,
  uuid: string,
  fetcher: typeof fetch = fetch,
): Promise<boolean> {
  const row = await db(env).select().from(cdrExports).where(eq(cdrExports.uuid, uuid)).get();
  if (!row?.callbackUrl || (row.status !== "Completed" && row.status !== "Failed")) return true;
  const problem = callbackUrlProblem(env, row.callbackUrl);
  if (problem) {
    log("warn", "callback refused", { exportId: uuid, problem });
    return true;
  }
  try {
    const res = await fetcher(row.callbackUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ export_id: row.id, uuid: row.uuid, status: row.status }),
      // A redirect could lead to an internal address: it is not followed.
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    // The answer's body is of no interest: release the connection.
    await res.body?.cancel().catch(() => {});
    if (res.ok) return true;
    log("warn", "callback answered with an error", { exportId: uuid, status: res.status });
    return false;
  } catch (error) {
    log("warn", "callback failed", { exportId: uuid, ...errorFields(error) });
    return false;
  }
}
