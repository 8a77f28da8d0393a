// callbackUrlProblem: which callback URLs an operator export may carry (https, no credentials, no local,
// private or reserved address in any spelling, no local or internal names).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callbackUrlProblem } from "../../src/pipeline/callback-guard";

const PRIVATE = "must not point to a private or reserved address";
const LOCAL = "must not point to a local or internal host";

describe("callbackUrlProblem: accepted", () => {
  for (const url of [
    "https://hooks.example.com/cdr-exports",
    "https://hooks.example.com:8443/path?x=1#frag",
    "https://8.8.8.8/hook",
    "https://1.1.1.1/",
    "https://[2606:4700:4700::1111]/hook",
    "https://172.32.0.1/",
    "https://100.128.0.1/",
    "https://192.169.0.1/",
    "https://bücher.example/hook",
    "https://EXAMPLE.com./hook",
  ]) {
    it(`accepts ${url}`, () => expect(callbackUrlProblem(env, url)).toBeNull());
  }
});

describe("callbackUrlProblem: scheme, syntax and credentials", () => {
  for (const [url, problem] of [
    ["http://hooks.example.com/", "must be an https URL"],
    ["ftp://hooks.example.com/", "must be an https URL"],
    ["javascript:alert(1)", "must be an https URL"],
    ["data:text/plain,hi", "must be an https URL"],
    ["", "is not a valid URL"],
    ["hooks.example.com/cdr", "is not a valid URL"],
    ["https://", "is not a valid URL"],
    ["https://user:pw@example.com/", "must not carry credentials"],
    ["https://user@example.com/", "must not carry credentials"],
    ["https://:pw@example.com/", "must not carry credentials"],
    [`https://example.com/${"a".repeat(2000)}`, "is too long (maximum is 2000 characters)"],
  ] as const) {
    it(`refuses ${url.slice(0, 60) || "(empty)"}: ${problem}`, () => {
      expect(callbackUrlProblem(env, url)).toBe(problem);
    });
  }

  it("accepts http only with CALLBACK_ALLOW_HTTP=true, and never for a private address", () => {
    const e = { ...env, CALLBACK_ALLOW_HTTP: "true" } as Env;
    expect(callbackUrlProblem(e, "http://hooks.example.com/")).toBeNull();
    expect(callbackUrlProblem(e, "http://127.0.0.1:8787/")).toBe(PRIVATE);
    expect(callbackUrlProblem(e, "http://localhost:8787/")).toBe(LOCAL);
    expect(callbackUrlProblem({ ...env, CALLBACK_ALLOW_HTTP: "TRUE" } as Env, "http://a.example/")).toBe(
      "must be an https URL",
    );
  });
});

describe("callbackUrlProblem: private and reserved addresses in any spelling", () => {
  for (const url of [
    // IPv4 ranges.
    "https://127.0.0.1/",
    "https://127.255.255.254/",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://172.31.255.255/",
    "https://192.168.1.1/",
    "https://100.64.0.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://0.0.0.0/",
    "https://192.0.0.1/",
    "https://192.0.2.1/",
    "https://198.18.0.1/",
    "https://198.51.100.7/",
    "https://203.0.113.9/",
    "https://224.0.0.1/",
    "https://239.255.255.250/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    // Odd IPv4 spellings the URL parser turns into dotted quads.
    "https://2130706433/",
    "https://0x7f.0.0.1/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://017700000001/",
    "https://127.1/",
    "https://127.0.1/",
    "https://127.0.0.1./",
    "https://0/",
    "https://0xA9FEA9FE/",
    "https://2852039166/",
    // IPv6, and IPv6 carrying an IPv4 address.
    "https://[::1]/",
    "https://[0:0:0:0:0:0:0:1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:0:0]/",
    "https://[::127.0.0.1]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:7f00:1::]/",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://[fc00::1]/",
    "https://[ff02::1]/",
    "https://[2001:db8::1]/",
    "https://[100::1]/",
    "https://[fec0::1]/",
    // IPv4-translated ::ffff:0:0:0/96 (not the mapped ::ffff:0:0/96), and ranges inside 2000::/3.
    "https://[::ffff:0:127.0.0.1]/",
    "https://[::ffff:0:a9fe:a9fe]/",
    "https://[::ffff:0:0:0]/",
    "https://[2001:2::1]/",
    "https://[3fff::1]/",
    "https://[5f00::1]/",
    // Anycast services in ipaddr.js's special ranges: AS112 (blackhole DNS) and AMT relays.
    "https://192.175.48.1/",
    "https://192.31.196.1/",
    "https://192.52.193.1/",
    "https://[2620:4f:8000::1]/",
  ]) {
    it(`refuses ${url}`, () => expect(callbackUrlProblem(env, url)).toBe(PRIVATE));
  }
});

describe("callbackUrlProblem: local and internal names", () => {
  for (const url of [
    "https://localhost/",
    "https://LOCALHOST:443/",
    "https://localhost./",
    "https://localhost../",
    "https://api.localhost/",
    "https://printer.local/",
    "https://foo.internal/",
    "https://foo.internal./",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://router.home.arpa/",
    "https://localhost.localdomain/",
    "https://LOCALHOST.LOCALDOMAIN./",
    "https://box.localdomain/",
    "https://intranet/",
    "https://intranet./",
  ]) {
    it(`refuses ${url}`, () => expect(callbackUrlProblem(env, url)).toBe(LOCAL));
  }
});
