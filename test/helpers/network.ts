// A fake network for callback delivery, passed as the fetcher: a DNS-over-HTTPS resolver at
// CALLBACK_DNS_RESOLVER answering from a table, and callback receivers answering as each test says.
import { env } from "cloudflare:workers";

export type Call = { url: string; init: RequestInit };

/** A host's DNS answer: its addresses, or the failure a resolver can report. */
export type DnsEntry = string[] | "NXDOMAIN" | "SERVFAIL" | "HTTP 503" | "unreachable" | "not json";

/** A public address pair for hosts the tests call (example.com's). */
export const PUBLIC_ADDRESSES = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"];

/** What a receiver answers: a status (3xx ones with `location`), an error to throw, or a function. */
export type Answer = number | Error | ((url: string) => Response);

function dnsJson(status: number, host: string, type: "A" | "AAAA", addresses: string[]) {
  const code = type === "A" ? 1 : 28;
  const data = addresses.filter((a) => (type === "A" ? !a.includes(":") : a.includes(":")));
  return Response.json(
    {
      Status: status,
      Question: [{ name: `${host}.`, type: code }],
      Answer: data.map((address) => ({ name: `${host}.`, type: code, TTL: 300, data: address })),
    },
    { headers: { "Content-Type": "application/dns-json" } },
  );
}

/**
 * `dns` maps hosts to answers; an unlisted host resolves to PUBLIC_ADDRESSES. `posts` records the calls to
 * receivers, `lookups` the DNS queries ("host A", "host AAAA"), `queries` the resolver requests themselves.
 */
export function fakeNetwork(
  answer: Answer = 200,
  dns: Record<string, DnsEntry> = {},
  options: { resolver?: string; location?: string } = {},
) {
  const resolver = new URL(options.resolver ?? env.CALLBACK_DNS_RESOLVER);
  const posts: Call[] = [];
  const lookups: string[] = [];
  const queries: Call[] = [];
  const fetcher = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    if (url.origin === resolver.origin && url.pathname === resolver.pathname) {
      queries.push({ url: url.href, init });
      const host = url.searchParams.get("name") ?? "";
      const type = url.searchParams.get("type") as "A" | "AAAA";
      lookups.push(`${host} ${type}`);
      const entry = dns[host] ?? PUBLIC_ADDRESSES;
      if (entry === "unreachable") throw new TypeError("Network connection lost.");
      if (entry === "HTTP 503") return new Response("unavailable", { status: 503 });
      if (entry === "not json") return new Response("<html>", { headers: { "Content-Type": "text/html" } });
      if (entry === "NXDOMAIN") return dnsJson(3, host, type, []);
      if (entry === "SERVFAIL") return dnsJson(2, host, type, []);
      return dnsJson(0, host, type, entry);
    }
    posts.push({ url: url.href, init });
    if (answer instanceof Error) throw answer;
    if (typeof answer === "function") return answer(url.href);
    return new Response(answer === 204 || answer === 304 ? null : "answer", {
      status: answer,
      headers:
        answer >= 300 && answer < 400 ? { Location: options.location ?? "http://169.254.169.254/" } : {},
    });
  }) as typeof fetch;
  return { fetcher, posts, lookups, queries };
}
