// Resolving a callback host through DNS over HTTPS (the JSON API Cloudflare's and Google's resolvers serve).
import { errorFields } from "../log";

const RECORD_TYPES = { A: 1, AAAA: 28 } as const;
type RecordType = keyof typeof RECORD_TYPES;
const TIMEOUT_MS = 5_000;
/** DNS response codes a resolver may give, for the error text (RFC 1035 §4.1.1, RFC 6895). */
const RCODES: Record<number, string> = {
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
};

/** Every A and AAAA address of `host`, or why they could not be learned. */
export type Resolution = { addresses: string[] } | { error: string };

type Answer = { addresses: string[] } | { error: string } | { nxdomain: true };

async function query(resolver: URL, host: string, type: RecordType, fetcher: typeof fetch): Promise<Answer> {
  const url = new URL(resolver);
  url.searchParams.set("name", host);
  url.searchParams.set("type", type);
  let res: Response;
  try {
    res = await fetcher(url.href, {
      headers: { Accept: "application/dns-json" },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    return { error: `the resolver could not be reached (${String(errorFields(error).error)})` };
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    return { error: `the resolver answered HTTP ${res.status}` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { error: "the resolver's answer is not DNS JSON" };
  }
  const { Status: status, Answer: answers } = (body ?? {}) as { Status?: unknown; Answer?: unknown };
  if (typeof status !== "number") return { error: "the resolver's answer is not DNS JSON" };
  if (status === 3) return { nxdomain: true };
  if (status !== 0) return { error: `${type} lookup failed (${RCODES[status] ?? `rcode ${status}`})` };
  const addresses: string[] = [];
  // CNAME records come along in the chain; only the addresses at its end are connected to.
  for (const answer of Array.isArray(answers) ? answers : []) {
    const { type: rtype, data } = (answer ?? {}) as { type?: unknown; data?: unknown };
    if (rtype !== RECORD_TYPES[type]) continue;
    if (typeof data !== "string") return { error: "the resolver's answer is not DNS JSON" };
    addresses.push(data);
  }
  return { addresses };
}

/**
 * Both record types, in parallel. Any failed lookup fails the whole: an address that could not be learned
 * could not be checked either.
 */
export async function resolveHost(resolver: URL, host: string, fetcher: typeof fetch): Promise<Resolution> {
  const answers = await Promise.all(
    (Object.keys(RECORD_TYPES) as RecordType[]).map((type) => query(resolver, host, type, fetcher)),
  );
  const addresses: string[] = [];
  for (const answer of answers) {
    if ("error" in answer) return answer;
    if ("addresses" in answer) addresses.push(...answer.addresses);
  }
  if (answers.every((a) => "nxdomain" in a)) return { error: "no such name (NXDOMAIN)" };
  if (!addresses.length) return { error: "no A or AAAA record" };
  return { addresses };
}
