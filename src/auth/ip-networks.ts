// IP addresses and CIDR networks: strict parsing, canonical formatting and allow-list matching.

export type IpNetwork = { version: 4 | 6; bits: bigint; prefix: number };

/** Every address, IPv4 and IPv6: the allowed networks of an access that sets none. */
export const ALL_NETWORKS: readonly string[] = ["0.0.0.0/0", "::/0"];
type IpAddress = { version: 4 | 6; bits: bigint };

const WIDTH = { 4: 32, 6: 128 } as const;
// ::ffff:0:0/96, the IPv4-mapped IPv6 range (RFC 4291 §2.5.5.2).
const V4_MAPPED_PREFIX = 0xffffn << 32n;
const V4_MAPPED_MASK = ((1n << 96n) - 1n) << 32n;

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isHexDigit(c: string): boolean {
  return isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
}

/** A decimal number without sign or leading zeros, at most `max`; null otherwise. */
function parseDecimal(text: string, max: number): number | null {
  if (text.length === 0 || text.length > String(max).length) return null;
  if (text.length > 1 && text[0] === "0") return null;
  for (const c of text) if (!isDigit(c)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

function parseV4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let bits = 0n;
  for (const part of parts) {
    // Leading zeros are refused because some resolvers read them as octal.
    const octet = parseDecimal(part, 255);
    if (octet === null) return null;
    bits = (bits << 8n) | BigInt(octet);
  }
  return bits;
}

/** Hextets of a colon-separated run ("" is no hextets); a dotted quad may only come last. */
function parseHextets(text: string, allowTrailingV4: boolean): number[] | null {
  if (text === "") return [];
  const groups = text.split(":");
  const out: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] ?? "";
    if (allowTrailingV4 && i === groups.length - 1 && group.includes(".")) {
      const v4 = parseV4(group);
      if (v4 === null) return null;
      out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      continue;
    }
    if (group.length === 0 || group.length > 4) return null;
    for (const c of group) if (!isHexDigit(c)) return null;
    out.push(Number.parseInt(group, 16));
  }
  return out;
}

function parseV6(text: string): bigint | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  let hextets: number[];
  if (halves.length === 2) {
    const head = parseHextets(halves[0] ?? "", false);
    const tail = parseHextets(halves[1] ?? "", true);
    if (head === null || tail === null) return null;
    // "::" stands for at least one zero hextet.
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    hextets = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseHextets(text, true);
    if (all === null || all.length !== 8) return null;
    hextets = all;
  }
  let bits = 0n;
  for (const h of hextets) bits = (bits << 16n) | BigInt(h);
  return bits;
}

/** Parses an IPv4 dotted quad or IPv6 address (with "::" and a trailing dotted quad); zone ids are rejected. */
export function parseAddress(text: string): IpAddress | null {
  if (text.includes(":")) {
    const bits = parseV6(text);
    return bits === null ? null : { version: 6, bits };
  }
  const bits = parseV4(text);
  return bits === null ? null : { version: 4, bits };
}

function networkMask(version: 4 | 6, prefix: number): bigint {
  const width = BigInt(WIDTH[version]);
  const hostBits = width - BigInt(prefix);
  return ((1n << width) - 1n) ^ ((1n << hostBits) - 1n);
}

/**
 * Parses "10.0.0.0/8", "192.168.1.5" (= /32), "2001:db8::/32", "::1" (= /128), "::ffff:10.0.0.1/128".
 * Host bits may be set and are masked off. Null for a bad address or a prefix beyond 32/128.
 */
export function parseNetwork(text: string): IpNetwork | null {
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseAddress(addressText);
  if (address === null) return null;
  const width = WIDTH[address.version];
  const prefix = slash === -1 ? width : parseDecimal(text.slice(slash + 1), width);
  if (prefix === null) return null;
  return { version: address.version, bits: address.bits & networkMask(address.version, prefix), prefix };
}

function formatV4(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn)).join(".");
}

/** RFC 5952 text: lowercase, no leading zeros, longest zero run (leftmost on ties, length >= 2) as "::". */
function formatV6(bits: bigint): string {
  if (isV4Mapped(bits)) {
    // RFC 5952 §5: mapped addresses read better with the IPv4 part dotted.
    return `::ffff:${formatV4(bits & 0xffffffffn)}`;
  }
  const hextets: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) hextets.push(Number((bits >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (hs: number[]) => hs.map((h) => h.toString(16)).join(":");
  if (bestStart === -1) return hex(hextets);
  return `${hex(hextets.slice(0, bestStart))}::${hex(hextets.slice(bestStart + bestLength))}`;
}

/** Canonical text of a network, e.g. "10.0.0.0/8", "2001:db8::/32" (lowercase, compressed). */
export function formatNetwork(net: IpNetwork): string {
  const bits = net.bits & networkMask(net.version, net.prefix);
  return `${net.version === 4 ? formatV4(bits) : formatV6(bits)}/${net.prefix}`;
}

function isV4Mapped(bits: bigint): boolean {
  return (bits & V4_MAPPED_MASK) === V4_MAPPED_PREFIX;
}

// Mapped addresses and networks inside ::ffff:0:0/96 are folded to IPv4 so that a client is judged the
// same whichever way its address reaches us. Wider IPv6 networks (such as ::/0) stay IPv6-only: an IPv6
// catch-all should not quietly admit every IPv4 client.
function foldAddress(address: IpAddress): IpAddress {
  if (address.version === 6 && isV4Mapped(address.bits))
    return { version: 4, bits: address.bits & 0xffffffffn };
  return address;
}

function foldNetwork(net: IpNetwork): IpNetwork {
  if (net.version === 6 && net.prefix >= 96 && isV4Mapped(net.bits)) {
    return { version: 4, bits: net.bits & 0xffffffffn, prefix: net.prefix - 96 };
  }
  return net;
}

/**
 * True when address is inside any network. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4
 * networks, and IPv4 addresses match IPv6 networks inside ::ffff:0:0/96. Invalid address -> false.
 * Networks that do not parse are skipped, so a bad entry can only narrow the list, never widen it.
 */
export function addressAllowed(address: string, networks: readonly string[]): boolean {
  const parsed = parseAddress(address);
  if (parsed === null) return false;
  const candidate = foldAddress(parsed);
  for (const text of networks) {
    const net = parseNetwork(text);
    if (net === null) continue;
    const folded = foldNetwork(net);
    if (folded.version !== candidate.version) continue;
    if ((candidate.bits & networkMask(folded.version, folded.prefix)) === folded.bits) return true;
  }
  return false;
}

/**
 * The source a per-address rate limit should count: an IPv4 address (IPv4-mapped IPv6 folded to it),
 * or the /64 of an IPv6 address, since one IPv6 client usually holds a whole /64 and could otherwise
 * step through it to escape the limit. Canonical text, so every spelling of an address shares a key.
 * Text that does not parse is returned as given.
 */
export function rateLimitSource(address: string): string {
  const parsed = parseAddress(address);
  if (parsed === null) return address;
  const folded = foldAddress(parsed);
  if (folded.version === 4) return formatNetwork({ version: 4, bits: folded.bits, prefix: 32 });
  return formatNetwork({ version: 6, bits: folded.bits, prefix: 64 });
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
  const parsed = parseAddress(address);
  if (parsed === null) return [];
  const folded = foldAddress(parsed);
  const out: string[] = [];
  if (folded.version === 4) {
    const mapped = V4_MAPPED_PREFIX | folded.bits;
    for (let prefix = 0; prefix <= 32; prefix++) {
      out.push(formatNetwork({ version: 4, bits: folded.bits, prefix }));
      out.push(formatNetwork({ version: 6, bits: mapped, prefix: 96 + prefix }));
    }
    return out;
  }
  for (let prefix = 0; prefix <= 128; prefix++) {
    out.push(formatNetwork({ version: 6, bits: folded.bits, prefix }));
  }
  return out;
}
