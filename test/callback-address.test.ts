// Callback delivery judged by address: the host is resolved (DNS over HTTPS, CALLBACK_DNS_RESOLVER) right
// before each hop, any private or reserved answer refuses it, a failed resolution is retried, redirects are
// followed hop by hop with the same checks; callbacks are signed under CALLBACK_SIGNING_SECRET; the operator
// sees the outcome. The resolver and the receivers are a fake network (test/helpers/network.ts).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliverCallback } from "../src/pipeline/callbacks";
import { admin, json, seedExport } from "./helpers/api";
import { exportRow } from "./helpers/exports";
import { type Answer, type DnsEntry, fakeNetwork, PUBLIC_ADDRESSES } from "./helpers/network";

const SECRET = "whsec-test-0123456789";

/** A Completed operator export with this callback URL (no file needed to call back). */
async function completedWith(callbackUrl: string) {
  return seedExport(null, { status: "Completed", callbackUrl, rowsCount: 0 });
}

/** One delivery attempt over a fake network; returns whether it is done and what the export records. */
async function attempt(
  url: string,
  dns: Record<string, DnsEntry> = {},
  answer: Answer = 200,
  options: { env?: Partial<Env>; location?: string; resolver?: string } = {},
) {
  const row = await completedWith(url);
  const network = fakeNetwork(answer, dns, options);
  const done = await deliverCallback({ ...env, ...options.env } as Env, row.uuid, network.fetcher);
  const stored = await exportRow(row.uuid);
  return {
    row,
    done,
    status: stored.callback_status,
    error: stored.callback_error as string | null,
    ...network,
  };
}

describe("the callback host is resolved before delivery, and judged by its addresses", () => {
  it("asks the resolver for A and AAAA as DNS JSON, then delivers to a host with public addresses", async () => {
    const r = await attempt("https://hooks.example.com/done?token=abc");
    expect(r.done).toBe(true);
    expect(r.status).toBe("Delivered");
    expect(r.error).toBeNull();
    expect(r.lookups.sort()).toEqual(["hooks.example.com A", "hooks.example.com AAAA"]);
    for (const q of r.queries) {
      const url = new URL(q.url);
      expect(`${url.origin}${url.pathname}`).toBe(env.CALLBACK_DNS_RESOLVER);
      expect(new Headers(q.init.headers).get("Accept")).toBe("application/dns-json");
    }
    expect(r.posts.map((p) => p.url)).toEqual(["https://hooks.example.com/done?token=abc"]);
  });

  it("uses the resolver CALLBACK_DNS_RESOLVER names", async () => {
    const resolver = "https://dns.example.net/resolve";
    const r = await attempt("https://hooks.example.com/", {}, 200, {
      env: { CALLBACK_DNS_RESOLVER: resolver },
      resolver,
    });
    expect(r.status).toBe("Delivered");
    expect(r.queries.map((q) => new URL(q.url).host)).toEqual(["dns.example.net", "dns.example.net"]);
  });

  for (const [host, answer] of [
    ["cb-direct.example.test", ["127.0.0.1"]],
    ["127.0.0.1.nip.io", ["127.0.0.1"]],
    ["localtest.me", ["127.0.0.1", "::1"]],
    ["metadata.example.com", ["169.254.169.254"]],
    ["intranet.example.com", ["10.1.2.3"]],
    ["cgnat.example.com", ["100.64.1.1"]],
    ["v6-only.example.com", ["fd00::1"]],
    ["link-local6.example.com", ["fe80::1"]],
    ["mapped.example.com", ["::ffff:127.0.0.1"]],
    ["translated.example.com", ["::ffff:0:7f00:1"]],
    ["nat64.example.com", ["64:ff9b::a9fe:a9fe"]],
    ["6to4.example.com", ["2002:7f00:1::1"]],
    ["teredo.example.com", ["2001:0:4136:e378:8000:63bf:3fff:fdd2"]],
    // One private address among public ones is enough to refuse: the connection could go to any.
    ["mixed.example.com", [...PUBLIC_ADDRESSES, "192.168.1.10"]],
  ] as const) {
    it(`refuses ${host} (${answer.join(", ")}) without calling it, for good`, async () => {
      const r = await attempt(`https://${host}/hook`, { [host]: [...answer] });
      expect(r.done).toBe(true); // never retried
      expect(r.posts).toEqual([]);
      expect(r.status).toBe("Refused");
      expect(r.error).toMatch(
        new RegExp(`^${host.replaceAll(".", "\\.")} resolves to a private or reserved address \\(`),
      );
    });
  }

  for (const [entry, reason] of [
    ["NXDOMAIN", "no such name (NXDOMAIN)"],
    ["SERVFAIL", "A lookup failed (SERVFAIL)"],
    ["HTTP 503", "the resolver answered HTTP 503"],
    ["unreachable", "the resolver could not be reached (Network connection lost.)"],
    ["not json", "the resolver's answer is not DNS JSON"],
    [[], "no A or AAAA record"],
  ] as const) {
    it(`does not deliver when resolution fails (${Array.isArray(entry) ? "no records" : entry}); retried later`, async () => {
      const r = await attempt("https://flaky.example.com/hook", { "flaky.example.com": entry as DnsEntry });
      expect(r.done).toBe(false);
      expect(r.posts).toEqual([]);
      expect(r.status).toBe("Error");
      expect(r.error).toBe(`flaky.example.com could not be resolved: ${reason}`);
    });
  }

  it("refuses an address literal in a blocked range without asking the resolver (::ffff:0:0:0/96 too)", async () => {
    for (const url of [
      "https://[::ffff:0:127.0.0.1]/",
      "https://[::ffff:0:a9fe:a9fe]/",
      "https://10.0.0.1/",
    ]) {
      const r = await attempt(url);
      expect(r.done, url).toBe(true);
      expect(r.status, url).toBe("Refused");
      expect(r.error, url).toBe("the URL must not point to a private or reserved address");
      expect(r.queries, url).toEqual([]);
      expect(r.posts, url).toEqual([]);
    }
  });

  it("calls a public address literal without asking the resolver", async () => {
    const r = await attempt("https://93.184.215.14/hook");
    expect(r.status).toBe("Delivered");
    expect(r.queries).toEqual([]);
    expect(r.posts.map((p) => p.url)).toEqual(["https://93.184.215.14/hook"]);
  });

  it("does not resolve through a resolver that is not an https URL", async () => {
    const r = await attempt("https://hooks.example.com/", {}, 200, {
      env: { CALLBACK_DNS_RESOLVER: "dns.test" },
    });
    expect(r.done).toBe(false);
    expect(r.error).toBe("CALLBACK_DNS_RESOLVER is not an https URL");
    expect(r.posts).toEqual([]);
  });
});

describe("redirects are followed hop by hop, each target checked and resolved like the first", () => {
  it("follows a 307 to a public host, re-POSTing the same body and signature", async () => {
    const answer = (url: string) =>
      url.startsWith("https://old.example.com/")
        ? new Response(null, { status: 307, headers: { Location: "https://new.example.com/hook?x=1" } })
        : new Response("ok");
    const r = await attempt("https://old.example.com/hook", {}, answer, {
      env: { CALLBACK_SIGNING_SECRET: SECRET },
    });
    expect(r.status).toBe("Delivered");
    expect(r.posts.map((p) => p.url)).toEqual([
      "https://old.example.com/hook",
      "https://new.example.com/hook?x=1",
    ]);
    const [first, second] = r.posts;
    expect(second?.init.method).toBe("POST");
    expect(second?.init.body).toBe(first?.init.body);
    expect(new Headers(second?.init.headers).get("X-Yeti-Signature")).toBe(
      new Headers(first?.init.headers).get("X-Yeti-Signature"),
    );
    expect(r.lookups.sort()).toEqual([
      "new.example.com A",
      "new.example.com AAAA",
      "old.example.com A",
      "old.example.com AAAA",
    ]);
  });

  it("refuses a redirect to a host that resolves to a private address, without calling it", async () => {
    const r = await attempt("https://hooks.example.com/", { "internal.example.com": ["10.0.0.7"] }, 302, {
      location: "https://internal.example.com/admin",
    });
    expect(r.done).toBe(true);
    expect(r.status).toBe("Refused");
    expect(r.error).toBe("internal.example.com resolves to a private or reserved address (10.0.0.7)");
    expect(r.posts.map((p) => new URL(p.url).host)).toEqual(["hooks.example.com"]);
  });

  it("refuses a redirect to a private literal, to http, or to a local name", async () => {
    for (const [location, error] of [
      ["http://169.254.169.254/latest", "a redirect's target must be an https URL"],
      ["https://[::1]/", "a redirect's target must not point to a private or reserved address"],
      ["https://localhost.localdomain/", "a redirect's target must not point to a local or internal host"],
    ] as const) {
      const r = await attempt("https://hooks.example.com/", {}, 308, { location });
      expect(r.status, location).toBe("Refused");
      expect(r.error, location).toBe(error);
      expect(r.posts.length, location).toBe(1);
    }
  });

  it("gives up after 3 redirects (a loop), and retries later", async () => {
    const r = await attempt("https://loop.example.com/a", {}, 302, { location: "/a" });
    expect(r.done).toBe(false);
    expect(r.status).toBe("Error");
    expect(r.error).toBe("more than 3 redirects");
    expect(r.posts.length).toBe(4);
  });

  it("treats a 3xx other than 301/302/307/308, or one without Location, as a failed attempt", async () => {
    const seeOther = (url: string) => new Response(null, { status: 303, headers: { Location: `${url}x` } });
    const r = await attempt("https://hooks.example.com/", {}, seeOther);
    expect(r.done).toBe(false);
    expect(r.error).toBe("hooks.example.com answered HTTP 303");
    expect(r.posts.length).toBe(1);
    const bare = await attempt("https://hooks.example.com/", {}, () => new Response(null, { status: 302 }));
    expect(bare.error).toBe("hooks.example.com answered HTTP 302");
  });
});

describe("callback signatures (CALLBACK_SIGNING_SECRET)", () => {
  async function hmacHex(secret: string, text: string): Promise<string> {
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
    return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  it("signs `<timestamp>.<body>` with HMAC-SHA256: X-Yeti-Timestamp and X-Yeti-Signature: v1=<hex>", async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await attempt("https://hooks.example.com/", {}, 200, {
      env: { CALLBACK_SIGNING_SECRET: SECRET },
    });
    const [post] = r.posts;
    const headers = new Headers(post?.init.headers);
    const timestamp = headers.get("X-Yeti-Timestamp") ?? "";
    expect(timestamp).toMatch(/^\d{10}$/);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    const body = post?.init.body as string;
    expect(JSON.parse(body)).toEqual({ export_id: r.row.id, uuid: r.row.uuid, status: "Completed" });
    expect(headers.get("X-Yeti-Signature")).toBe(`v1=${await hmacHex(SECRET, `${timestamp}.${body}`)}`);
    expect(headers.get("Content-Type")).toBe("application/json");
  });

  it("carries one v1= per secret while rotating (comma-separated secrets)", async () => {
    const r = await attempt("https://hooks.example.com/", {}, 200, {
      env: { CALLBACK_SIGNING_SECRET: `${SECRET}, next-secret` },
    });
    const headers = new Headers(r.posts[0]?.init.headers);
    const signed = `${headers.get("X-Yeti-Timestamp")}.${r.posts[0]?.init.body as string}`;
    expect(headers.get("X-Yeti-Signature")).toBe(
      `v1=${await hmacHex(SECRET, signed)},v1=${await hmacHex("next-secret", signed)}`,
    );
  });

  it("sends no signature headers when the secret is unset", async () => {
    const r = await attempt("https://hooks.example.com/");
    const headers = new Headers(r.posts[0]?.init.headers);
    expect(headers.has("X-Yeti-Timestamp")).toBe(false);
    expect(headers.has("X-Yeti-Signature")).toBe(false);
  });
});

describe("the operator sees what the callback came to", () => {
  type Doc = { data: { attributes: Record<string, unknown> } };

  it("callback-status and callback-error on the export: null, then Error, then Delivered", async () => {
    const row = await completedWith("https://hooks.example.com/done?token=secret-part");
    const show = async () => (await json<Doc>(await admin("GET", `/cdr-exports/${row.id}`))).data.attributes;
    expect(await show()).toMatchObject({ "callback-status": null, "callback-error": null });
    const down = fakeNetwork(503);
    expect(await deliverCallback(env, row.uuid, down.fetcher)).toBe(false);
    expect(await show()).toMatchObject({
      "callback-status": "Error",
      "callback-error": "hooks.example.com answered HTTP 503",
    });
    const up = fakeNetwork(204);
    expect(await deliverCallback(env, row.uuid, up.fetcher)).toBe(true);
    expect(await show()).toMatchObject({ "callback-status": "Delivered", "callback-error": null });
  });
});
