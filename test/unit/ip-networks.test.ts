// Unit tests for the IP/CIDR parser, formatter and allow-list matcher.
import { describe, expect, it } from "vitest";
import {
  addressAllowed,
  containingNetworks,
  formatNetwork,
  parseAddress,
  parseNetwork,
} from "../../src/auth/ip-networks";

const canonical = (text: string) => {
  const net = parseNetwork(text);
  return net === null ? null : formatNetwork(net);
};

describe("parseAddress: IPv4", () => {
  it("parses dotted quads into bits", () => {
    expect(parseAddress("0.0.0.0")).toEqual({ version: 4, bits: 0n });
    expect(parseAddress("255.255.255.255")).toEqual({ version: 4, bits: 0xffffffffn });
    expect(parseAddress("10.1.2.3")).toEqual({ version: 4, bits: 0x0a010203n });
  });

  it.each([
    "01.2.3.4",
    "1.2.3.04",
    "1.2.3.00",
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3.256",
    "1.2.3.1000",
    "1..3.4",
    "1.2.3.",
    ".1.2.3",
    "1.2.3.-4",
    "1.2.3.+4",
    "1.2.3.0x4",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4/32",
    "",
    "a.b.c.d",
    "１.2.3.4",
  ])("rejects %j", (text) => {
    expect(parseAddress(text)).toBeNull();
  });
});

describe("parseAddress: IPv6", () => {
  it.each([
    ["::", 0n],
    ["::1", 1n],
    ["1::", 1n << 112n],
    ["2001:db8::1", (0x2001n << 112n) | (0xdb8n << 96n) | 1n],
    ["2001:DB8:0:0:0:0:0:1", (0x2001n << 112n) | (0xdb8n << 96n) | 1n],
    ["0001:0db8:0000:0000:0000:0000:0000:0001", (1n << 112n) | (0xdb8n << 96n) | 1n],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", (1n << 128n) - 1n],
    ["1:2:3:4:5:6:7::", 0x0001_0002_0003_0004_0005_0006_0007_0000n],
    ["::2:3:4:5:6:7:8", 0x0000_0002_0003_0004_0005_0006_0007_0008n],
    ["::ffff:1.2.3.4", 0xffff_0102_0304n],
    ["0:0:0:0:0:ffff:1.2.3.4", 0xffff_0102_0304n],
    ["::1.2.3.4", 0x0102_0304n],
    ["64:ff9b::192.0.2.33", (0x64n << 112n) | (0xff9bn << 96n) | 0xc000_0221n],
  ])("parses %j", (text, bits) => {
    expect(parseAddress(text)).toEqual({ version: 6, bits });
  });

  it.each([
    ":::1",
    "1::2::3",
    "::1::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "::1:2:3:4:5:6:7:8",
    "1:2:3:4::5:6:7:8",
    "1:2:3:4:5:6::1.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    ":",
    "12345::",
    "::g",
    "fe80::1%eth0",
    "fe80::1%1",
    "::ffff:1.2.3",
    "::ffff:256.1.1.1",
    "::ffff:01.2.3.4",
    "1.2.3.4::",
    "1.2.3.4::1",
    "::1.2.3.4:1",
    "[::1]",
    "1.2.3.4:80",
    ":: ",
  ])("rejects %j", (text) => {
    expect(parseAddress(text)).toBeNull();
  });
});

describe("parseNetwork", () => {
  it("defaults to a host prefix", () => {
    expect(parseNetwork("192.168.1.5")).toEqual({ version: 4, bits: 0xc0a80105n, prefix: 32 });
    expect(parseNetwork("::1")).toEqual({ version: 6, bits: 1n, prefix: 128 });
    expect(parseNetwork("::ffff:10.0.0.1/128")).toEqual({ version: 6, bits: 0xffff_0a00_0001n, prefix: 128 });
  });

  it("masks off host bits", () => {
    expect(parseNetwork("10.1.2.3/8")).toEqual({ version: 4, bits: 0x0a000000n, prefix: 8 });
    expect(parseNetwork("192.168.1.255/23")).toEqual({ version: 4, bits: 0xc0a80000n, prefix: 23 });
    expect(parseNetwork("1.2.3.4/0")).toEqual({ version: 4, bits: 0n, prefix: 0 });
    expect(parseNetwork("2001:db8:ffff::1/32")).toEqual({
      version: 6,
      bits: (0x2001n << 112n) | (0xdb8n << 96n),
      prefix: 32,
    });
    expect(parseNetwork("ffff::1/0")).toEqual({ version: 6, bits: 0n, prefix: 0 });
  });

  it("accepts prefixes at the bounds", () => {
    expect(parseNetwork("0.0.0.0/0")?.prefix).toBe(0);
    expect(parseNetwork("1.2.3.4/32")?.prefix).toBe(32);
    expect(parseNetwork("::/0")?.prefix).toBe(0);
    expect(parseNetwork("::1/128")?.prefix).toBe(128);
  });

  it.each([
    "1.2.3.4/33",
    "::/129",
    "1.2.3.4/",
    "1.2.3.4/-1",
    "1.2.3.4/+8",
    "1.2.3.4/08",
    "1.2.3.4/8/8",
    "1.2.3.4/ 8",
    "1.2.3.4/8 ",
    "1.2.3.4/0x8",
    "1.2.3.4/1e1",
    "::/1000",
    "/8",
    "256.0.0.0/8",
    "1.2.3/24",
    "fe80::%eth0/64",
    "",
  ])("rejects %j", (text) => {
    expect(parseNetwork(text)).toBeNull();
  });
});

describe("formatNetwork", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.168.1.5", "192.168.1.5/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"],
    ["::1", "::1/128"],
    ["::", "::/128"],
    ["::/0", "::/0"],
    ["1::", "1::/128"],
    ["1:0:0:0:0:0:0:0", "1::/128"],
    ["0:0:0:0:0:0:0:1", "::1/128"],
    // A single zero hextet is not compressed (RFC 5952 §4.2.2).
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1/128"],
    // The longest run wins; on a tie the first one does (RFC 5952 §4.2.3).
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1/128"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128"],
    ["ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789/128"],
    ["::ffff:10.0.0.1/128", "::ffff:10.0.0.1/128"],
    ["::ffff:a00:1", "::ffff:10.0.0.1/128"],
    ["::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"],
    ["::1.2.3.4", "::102:304/128"],
    ["fe80::1:2/64", "fe80::/64"],
  ])("%j -> %j", (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  it("round-trips through parseNetwork", () => {
    for (const text of ["10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120", "fe80::/10", "::/0"]) {
      expect(canonical(text)).toBe(text);
    }
  });

  it("masks host bits of a hand-built network", () => {
    expect(formatNetwork({ version: 4, bits: 0x0a0000ffn, prefix: 24 })).toBe("10.0.0.0/24");
  });
});

describe("addressAllowed", () => {
  const list = ["10.0.0.0/8", "192.168.1.5", "2001:db8::/32"];

  it("matches addresses inside a network", () => {
    expect(addressAllowed("10.255.0.1", list)).toBe(true);
    expect(addressAllowed("192.168.1.5", list)).toBe(true);
    expect(addressAllowed("2001:db8:1::42", list)).toBe(true);
    expect(addressAllowed("2001:DB8::", list)).toBe(true);
  });

  it("rejects addresses outside every network", () => {
    expect(addressAllowed("11.0.0.1", list)).toBe(false);
    expect(addressAllowed("192.168.1.6", list)).toBe(false);
    expect(addressAllowed("2001:db9::1", list)).toBe(false);
    expect(addressAllowed("1.2.3.4", [])).toBe(false);
  });

  it("checks the network boundaries", () => {
    expect(addressAllowed("192.168.0.0", ["192.168.0.0/23"])).toBe(true);
    expect(addressAllowed("192.168.1.255", ["192.168.0.0/23"])).toBe(true);
    expect(addressAllowed("192.168.2.0", ["192.168.0.0/23"])).toBe(false);
    expect(addressAllowed("192.167.255.255", ["192.168.0.0/23"])).toBe(false);
  });

  it("treats invalid addresses as not allowed", () => {
    for (const address of ["", "01.2.3.4", "1.2.3", "fe80::1%eth0", "unknown", "1.2.3.4/32", " 10.0.0.1"]) {
      expect(addressAllowed(address, ["0.0.0.0/0", "::/0"])).toBe(false);
    }
  });

  it("skips networks that do not parse", () => {
    expect(addressAllowed("10.0.0.1", ["nonsense", "10.0.0.0/33", "10.0.0.0/8"])).toBe(true);
    expect(addressAllowed("10.0.0.1", ["nonsense", "10.0.0.0/33"])).toBe(false);
  });

  it("0.0.0.0/0 matches every IPv4 address and no native IPv6 one", () => {
    for (const address of ["0.0.0.0", "1.2.3.4", "255.255.255.255"]) {
      expect(addressAllowed(address, ["0.0.0.0/0"])).toBe(true);
    }
    for (const address of ["::", "::1", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]) {
      expect(addressAllowed(address, ["0.0.0.0/0"])).toBe(false);
    }
  });

  it("::/0 matches every native IPv6 address and no IPv4 one", () => {
    for (const address of ["::", "::1", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]) {
      expect(addressAllowed(address, ["::/0"])).toBe(true);
    }
    expect(addressAllowed("1.2.3.4", ["::/0"])).toBe(false);
    // A mapped address is an IPv4 client and is judged as one.
    expect(addressAllowed("::ffff:1.2.3.4", ["::/0"])).toBe(false);
  });

  it("matches IPv4-mapped IPv6 addresses against IPv4 networks", () => {
    expect(addressAllowed("::ffff:10.0.0.1", ["10.0.0.0/8"])).toBe(true);
    expect(addressAllowed("::ffff:a00:1", ["10.0.0.0/8"])).toBe(true);
    expect(addressAllowed("0:0:0:0:0:FFFF:10.0.0.1", ["10.0.0.0/8"])).toBe(true);
    expect(addressAllowed("::ffff:11.0.0.1", ["10.0.0.0/8"])).toBe(false);
    expect(addressAllowed("::ffff:10.0.0.1", ["0.0.0.0/0"])).toBe(true);
  });

  it("matches IPv4 addresses against mapped IPv6 networks", () => {
    expect(addressAllowed("10.0.0.1", ["::ffff:0:0/96"])).toBe(true);
    expect(addressAllowed("10.0.0.1", ["::ffff:10.0.0.0/104"])).toBe(true);
    expect(addressAllowed("11.0.0.1", ["::ffff:10.0.0.0/104"])).toBe(false);
    expect(addressAllowed("10.0.0.1", ["::ffff:10.0.0.1/128"])).toBe(true);
    expect(addressAllowed("10.0.0.2", ["::ffff:10.0.0.1/128"])).toBe(false);
    expect(addressAllowed("::ffff:10.0.0.1", ["::ffff:10.0.0.0/104"])).toBe(true);
  });

  it("does not treat other IPv6 networks as IPv4", () => {
    // IPv4-compatible (::a.b.c.d) and NAT64 addresses are ordinary IPv6 addresses.
    expect(addressAllowed("1.2.3.4", ["::1.2.3.4/128"])).toBe(false);
    expect(addressAllowed("::1.2.3.4", ["1.2.3.4/32"])).toBe(false);
    expect(addressAllowed("1.2.3.4", ["64:ff9b::/96"])).toBe(false);
    // ::/80 holds ::ffff:0:0/96 but is wider, so it is not read as an IPv4 network.
    expect(addressAllowed("1.2.3.4", ["::/80"])).toBe(false);
    expect(addressAllowed("::ffff:1.2.3.4", ["::/80"])).toBe(false);
    expect(addressAllowed("::ffff:1.2.3.4", ["::1.2.3.4/128"])).toBe(false);
  });
});

describe("containingNetworks: the set SQL matches allowed networks against", () => {
  /** A random IPv4 or IPv6 address. */
  function randomAddress(version: 4 | 6): string {
    const bytes = crypto.getRandomValues(new Uint8Array(version === 4 ? 4 : 16));
    if (version === 4) return bytes.join(".");
    const hextets = Array.from(
      { length: 8 },
      (_, i) => ((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number),
    );
    return hextets.map((h) => h.toString(16)).join(":");
  }

  /** The address with `flips` random bits changed: networks of some widths hold both, wider ones only. */
  function nearby(address: string, flips: number): string {
    const parsed = parseAddress(address);
    if (!parsed) throw new Error(address);
    const width = parsed.version === 4 ? 32 : 128;
    let bits = parsed.bits;
    for (let i = 0; i < flips; i++) bits ^= 1n << BigInt(Math.floor(Math.random() * width));
    const net = formatNetwork({ version: parsed.version, bits, prefix: width });
    return net.slice(0, net.indexOf("/"));
  }

  it("holds a canonical network exactly when addressAllowed admits the address with it", () => {
    let admitted = 0;
    for (let i = 0; i < 400; i++) {
      const version = i % 2 === 0 ? 4 : 6;
      const address = randomAddress(version);
      const spellings = [address, ...(version === 4 ? [`::ffff:${address}`] : [])];
      const candidate = nearby(address, i % 3);
      const prefixes = Array.from({ length: version === 4 ? 33 : 129 }, (_, p) => p);
      const networks = prefixes.map((p) => `${candidate}/${p}`);
      if (version === 4) networks.push(...prefixes.map((p) => `::ffff:${candidate}/${96 + p}`));
      for (const text of networks) {
        const net = parseNetwork(text);
        if (!net) throw new Error(text);
        const canonical = formatNetwork(net);
        for (const spelling of spellings) {
          const allowed = addressAllowed(spelling, [canonical]);
          expect(containingNetworks(spelling).includes(canonical), `${spelling} in ${canonical}`).toBe(
            allowed,
          );
          if (allowed) admitted++;
        }
      }
    }
    expect(admitted).toBeGreaterThan(1000);
  });

  it("an unknown source gets the catch-alls; an address that does not parse, nothing", () => {
    expect(containingNetworks("")).toEqual(["0.0.0.0/0", "::/0"]);
    expect(containingNetworks("not-an-ip")).toEqual([]);
    expect(containingNetworks("10.1.2.3")).toEqual(
      expect.arrayContaining(["10.0.0.0/8", "::ffff:10.0.0.0/104"]),
    );
    expect(containingNetworks("10.1.2.3")).not.toContain("::/0");
    expect(containingNetworks("2001:db8::1")).toEqual(expect.arrayContaining(["2001:db8::/32", "::/0"]));
  });
});
