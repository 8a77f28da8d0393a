// IP addresses and CIDR networks: strict parsing, canonical formatting and allow-list matching (on ipaddr.js).
import ipaddr from "ipaddr.js";

export type IpNetwork = { version: 4 | 6; bits: bigint; prefix: number };

/** Every address, IPv4 and IPv6: the allowed networks of an access that sets none. */
export const ALL_NETWORKS: readonly string[] = ["0.0.0.0/0", "::/0"];
type IpAddress = { version: 4 | 6; bits: bigint };
type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

const WIDTH = { 4: 32, 6: 128 } as const;

/**
 * ipaddr.js parses leniently (01.2.3.4, 0x7f.1, 1.2.3 and zone ids are addresses to it): the text must
 * first have the strict form. IPv4 is four decimal parts without leading zeros (some resolvers read
 * those as octal); IPv6 has no zone id, and a dotted quad at its end follows the IPv4 rule.
 */
function strictlyParsed(text: string): Parsed | null {
  if (!text.includes(":")) return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : null;
  if (text.includes("%")) return null;
  // ipaddr.js reads any trailing dotted quad as IPv4-mapped (::1.2.3.4 as ::ffff:1.2.3.4): give it hextets.
  const colon = text.lastIndexOf(":");
  const last = text.slice(colon + 1);
  let hextets = text;
  if (last.includes(".")) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(last)) return null;
    const [a, b, c, d] = ipaddr.IPv4.parse(last).octets as [number, number, number, number];
    hextets = `${text.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  return ipaddr.IPv6.isValid(hextets) ? ipaddr.IPv6.parse(hextets) : null;
}

function toBits(address: Parsed): bigint {
  let bits = 0n;
  for (const byte of address.toByteArray()) bits = (bits << 8n) | BigInt(byte);
  return bits;
}

function fromBits(version: 4 | 6, bits: bigint): Parsed {
  const bytes = new Array<number>(version === 4 ? 4 : 16);
  for (let i = bytes.length - 1, rest = bits; i >= 0; i--, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  return ipaddr.fromByteArray(bytes);
}

/** Parses an IPv4 dotted quad or IPv6 address (with "::" and a trailing dotted quad); zone ids are rejected. */
export function parseAddress(text: string): IpAddress | null {
  const address = strictlyParsed(text);
  return address === null ? null : { version: address.kind() === "ipv4" ? 4 : 6, bits: toBits(address) };
}

function networkMask(version: 4 | 6, prefix: number): bigint {
  const width = BigInt(WIDTH[version]);
  const hostBits = width - BigInt(prefix);
  return ((1n << width) - 1n) ^ ((1n << hostBits) - 1n);
}

/** A decimal prefix without sign or leading zeros, at most `max`; null otherwise. */
function parsePrefix(text: string, max: number): number | null {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

/**
 * Parses "10.0.0.0/8", "192.168.1.5" (= /32), "2001:db8::/32", "::1" (= /128), "::ffff:10.0.0.1/128".
 * Host bits may be set and are masked off. Null for a bad address or a prefix beyond 32/128.
 */
export function parseNetwork(text: string): IpNetwork | null {
  const slash = text.indexOf("/");
  const address = parseAddress(slash === -1 ? text : text.slice(0, slash));
  if (address === null) return null;
  const width = WIDTH[address.version];
  const prefix = slash === -1 ? width : parsePrefix(text.slice(slash + 1), width);
  if (prefix === null) return null;
  return { version: address.version, bits: address.bits & networkMask(address.version, prefix), prefix };
}

/** RFC 5952 text (ipaddr.js), mapped addresses with their IPv4 part dotted (RFC 5952 §5). */
function formatAddress(address: Parsed): string {
  if (address.kind() === "ipv4") return address.toString();
  const v6 = address as ipaddr.IPv6;
  return v6.isIPv4MappedAddress() ? `::ffff:${v6.toIPv4Address().toString()}` : v6.toRFC5952String();
}

/** Canonical text of a network, e.g. "10.0.0.0/8", "2001:db8::/32" (lowercase, compressed). */
export function formatNetwork(net: IpNetwork): string {
  return `${formatAddress(fromBits(net.version, net.bits & networkMask(net.version, net.prefix)))}/${net.prefix}`;
}

// Mapped addresses and networks inside ::ffff:0:0/96 are folded to IPv4 so that a client is judged the
// same whichever way its address reaches us. Wider IPv6 networks (such as ::/0) stay IPv6-only: an IPv6
// catch-all should not quietly admit every IPv4 client.
function foldAddress(address: Parsed): Parsed {
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function parseCidr(text: string): [Parsed, number] | null {
  const net = parseNetwork(text);
  if (net === null) return null;
  const address = fromBits(net.version, net.bits);
  if (net.version === 6 && net.prefix >= 96 && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    return [(address as ipaddr.IPv6).toIPv4Address(), net.prefix - 96];
  }
  return [address, net.prefix];
}

/** The address as matching sees it (mapped IPv6 folded to IPv4), or null for text that is no address. */
function candidate(text: string): Parsed | null {
  const parsed = strictlyParsed(text);
  return parsed === null ? null : foldAddress(parsed);
}

/**
 * True when address is inside any network. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4
 * networks, and IPv4 addresses match IPv6 networks inside ::ffff:0:0/96. Invalid address -> false.
 * Networks that do not parse are skipped, so a bad entry can only narrow the list, never widen it.
 */
export function addressAllowed(address: string, networks: readonly string[]): boolean {
  const parsed = candidate(address);
  if (parsed === null) return false;
  for (const text of networks) {
    const net = parseCidr(text);
    if (net !== null && net[0].kind() === parsed.kind() && parsed.match(net)) return true;
  }
  return false;
}

/**
 * Whether an address is on the public internet: not in any of ipaddr.js's special ranges (`range()` is
 * "unicast"), and for IPv6 inside global unicast 2000::/3. Mapped addresses are judged as their IPv4.
 * See src/pipeline/callback-guard.ts for what those ranges are.
 */
export function isPublicAddress(text: string): boolean {
  const parsed = candidate(text);
  if (parsed === null || parsed.range() !== "unicast") return false;
  return parsed.kind() === "ipv4" || parsed.match(ipaddr.IPv6.parse("2000::"), 3);
}

/**
 * The source a per-address rate limit should count: an IPv4 address (IPv4-mapped IPv6 folded to it),
 * or the /64 of an IPv6 address, since one IPv6 client usually holds a whole /64 and could otherwise
 * step through it to escape the limit. Canonical text, so every spelling of an address shares a key.
 * Text that does not parse is returned as given.
 */
export function rateLimitSource(address: string): string {
  const parsed = candidate(address);
  if (parsed === null) return address;
  if (parsed.kind() === "ipv4") return formatNetwork({ version: 4, bits: toBits(parsed), prefix: 32 });
  return formatNetwork({ version: 6, bits: toBits(parsed), prefix: 64 });
}

/**
 * Every network, in canonical text, that `addressAllowed` would match the address with: the address's own
 * prefixes /0 to /32 (IPv4, also written inside ::ffff:0:0/96) or /0 to /128 (IPv6). An allowed-networks
 * list of canonical entries (the operator API stores them so) admits the address exactly when it holds
 * one of these, so SQL can decide it with a set lookup. An unknown source ("") gets the catch-alls, as
 * `sourceAllowed` judges it; an address that does not parse gets none.
 */
export function containingNetworks(address: string): string[] {
  if (address === "") return [...ALL_NETWORKS];
  const parsed = candidate(address);
  if (parsed === null) return [];
  const bits = toBits(parsed);
  const out: string[] = [];
  if (parsed.kind() === "ipv4") {
    const mapped = (0xffffn << 32n) | bits;
    for (let prefix = 0; prefix <= 32; prefix++) {
      out.push(formatNetwork({ version: 4, bits, prefix }));
      out.push(formatNetwork({ version: 6, bits: mapped, prefix: 96 + prefix }));
    }
    return out;
  }
  for (let prefix = 0; prefix <= 128; prefix++) out.push(formatNetwork({ version: 6, bits, prefix }));
  return out;
}
