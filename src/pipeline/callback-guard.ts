// Where a callback may go: the URL's form, and the addresses its host has now (checked before every hop).
import { isPublicAddress, parseAddress } from "../auth/ip-networks";
import { config } from "../config";
import { resolveHost } from "./callback-dns";

/**
 * Which addresses a callback may reach: isPublicAddress (src/auth/ip-networks.ts), i.e. none of ipaddr.js's
 * special ranges. IPv4: this network 0/8, private 10/8, 172.16/12, 192.168/16, shared (CGNAT) 100.64/10,
 * loopback 127/8, link-local 169.254/16 (cloud metadata), IETF protocol assignments 192.0.0/24,
 * documentation 192.0.2/24, 198.51.100/24, 203.0.113/24, 6to4 relay 192.88.99/24, benchmarking 198.18/15,
 * multicast 224/4, reserved 240/4 and broadcast, and the anycast services AS112 and AMT. IPv6 only inside
 * global unicast 2000::/3 (which alone refuses ::, ::1, IPv4-compatible ::a.b.c.d, IPv4-translated
 * ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, discard 100::/64, unique-local fc00::/7,
 * link-local fe80::/10, site-local fec0::/10 and multicast ff00::/8), and inside it not IETF protocol
 * assignments 2001::/23 (Teredo 2001::/32 among them, which carries an IPv4 address), documentation
 * 2001:db8::/32 and 3fff::/20, 6to4 2002::/16 (an IPv4 address again) or AS112 2620:4f:8000::/48.
 * IPv4-mapped addresses (::ffff:0:0/96) are judged as the IPv4 address they carry.
 */

/** A callback URL longer than this is refused (it is stored and sent on every attempt). */
const MAX_URL_LENGTH = 2000;

const BLOCKED_HOST_SUFFIXES = [".localhost", ".localdomain", ".local", ".internal", ".home.arpa"];

/** The URL's host as the checks see it: no brackets, no trailing dots (`localhost.` is localhost), lower case. */
export function callbackHost(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.+$/, "")
    .toLowerCase();
}

/** Why a callback URL is refused by its form alone, or null when its host may be resolved and called. */
export function callbackUrlProblem(env: Env, text: string): string | null {
  if (text.length > MAX_URL_LENGTH) return `is too long (maximum is ${MAX_URL_LENGTH} characters)`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a valid URL";
  }
  const allowHttp = config(env).CALLBACK_ALLOW_HTTP;
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowHttp)) return "must be an https URL";
  if (url.username || url.password) return "must not carry credentials";
  // URL parsing has already normalised odd IPv4 spellings (e.g. 2130706433, 0x7f.1) to dotted quads.
  const host = callbackHost(url);
  if (parseAddress(host)) {
    return isPublicAddress(host) ? null : "must not point to a private or reserved address";
  }
  if (host === "localhost" || BLOCKED_HOST_SUFFIXES.some((s) => host.endsWith(s)) || !host.includes(".")) {
    return "must not point to a local or internal host";
  }
  return null;
}

/** The operator's resolver (CALLBACK_DNS_RESOLVER), or null when it is not an https URL. */
function resolverUrl(env: Env): URL | null {
  try {
    const url = new URL(config(env).CALLBACK_DNS_RESOLVER);
    return url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

/**
 * Whether `host` may be called now. A name is resolved (A and AAAA) right before the call, and every
 * address must be public: the check is on the addresses, not the name, so `127.0.0.1.nip.io` or a name
 * an attacker points at an internal address is refused. `refused` problems are final (never retried);
 * the others (the resolver failed, no such name) may pass later.
 */
export async function vetCallbackHost(
  env: Env,
  host: string,
  fetcher: typeof fetch,
): Promise<{ problem: string; refused: boolean } | null> {
  if (parseAddress(host)) {
    return isPublicAddress(host)
      ? null
      : { problem: `${host} is a private or reserved address`, refused: true };
  }
  const resolver = resolverUrl(env);
  if (!resolver) return { problem: "CALLBACK_DNS_RESOLVER is not an https URL", refused: false };
  const resolution = await resolveHost(resolver, host, fetcher);
  if ("error" in resolution)
    return { problem: `${host} could not be resolved: ${resolution.error}`, refused: false };
  const blocked = resolution.addresses.filter((a) => !isPublicAddress(a));
  if (blocked.length) {
    return {
      problem: `${host} resolves to a private or reserved address (${blocked.join(", ")})`,
      refused: true,
    };
  }
  return null;
}
