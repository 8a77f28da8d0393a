// Customer API v1 authentication: token forms, rejections, the session cookie, source networks and isolation.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import {
  admin,
  CUSTOMER,
  call,
  createBody,
  customer,
  JSON_API,
  JWT_SECRET,
  json,
  list,
  seedExport,
  type Tenant,
  tenant,
  token,
} from "./helpers/api";

const COOKIE = "_yeti_customer_v1_session";
const AUD = ["customer-v1"];

type ErrorDoc = { errors: Array<{ status: string; title: string; detail?: string }> };

function b64url(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function hmacToken(header: Record<string, unknown>, payload: Record<string, unknown>, hash: string) {
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(JWT_SECRET),
    { name: "HMAC", hash },
    false,
    ["sign"],
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signingInput)),
  );
  const sig = btoa(String.fromCharCode(...signature))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `${signingInput}.${sig}`;
}

/**
 * GET the list straight from the app, for headers that exports.default.fetch would not pass on (it drops
 * empty header values on the way in).
 */
async function direct(headers: Record<string, string>) {
  const request = new Request(`${CUSTOMER}/cdr-exports`, { headers });
  for (const name of Object.keys(headers)) expect(request.headers.has(name)).toBe(true);
  return app.fetch(request, env, createExecutionContext());
}

/** GET the list with exactly the headers given (no default Authorization). */
async function get(headers: Record<string, string>, path = "/cdr-exports", base = CUSTOMER) {
  return call(`${base}${path}`, { headers: { Accept: JSON_API, ...headers } });
}

async function expect401(res: Response) {
  expect(res.status, await res.clone().text()).toBe(401);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  const body = (await res.json()) as ErrorDoc;
  expect(body.errors).toHaveLength(1);
  expect(body.errors).toEqual([
    {
      status: "401",
      title: "Authorization failed",
      detail: "Authorization token expired or incorrect.",
      code: "401",
    },
  ]);
  expect(res.headers.get("Set-Cookie")).toBeNull();
}

function sessionCookieOf(res: Response): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));
}

function cookieValue(setCookie: string): string {
  return setCookie.slice(COOKIE.length + 1).split(";")[0] as string;
}

function cookieAttributes(setCookie: string): string[] {
  return setCookie
    .split(";")
    .slice(1)
    .map((a) => a.trim().toLowerCase());
}

describe("customer API: tokens that are refused (401 JSON:API)", () => {
  it("no token at all, on every customer route", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId);
    for (const path of [
      "/cdr-exports",
      `/cdr-exports/${row.uuid}`,
      `/cdr-exports/${row.uuid}/relationships/account`,
      `/cdr-exports/${row.uuid}/account`,
      `/cdr-exports/${row.uuid}/download`,
    ]) {
      await expect401(await get({}, path));
    }
    const before = (await list(t.auth)).body.meta["total-count"];
    await expect401(
      await call(`${CUSTOMER}/cdr-exports`, {
        method: "POST",
        headers: { "Content-Type": JSON_API },
        body: JSON.stringify(createBody(t.accountUuid)),
      }),
    );
    expect((await list(t.auth)).body.meta["total-count"]).toBe(before);
  });

  it("an empty Authorization header, or one without a token", async () => {
    await expect401(await direct({ Authorization: "" }));
    await expect401(await get({ Authorization: "Bearer" }));
    await expect401(await get({ Authorization: "Bearer " }));
  });

  it("garbage", async () => {
    await expect401(await get({ Authorization: "Bearer garbage" }));
    await expect401(await get({ Authorization: "Bearer a.b.c" }));
    await expect401(await get({ Authorization: `Bearer ${b64url({ alg: "HS256" })}.${b64url({})}.` }));
  });

  it("any other spelling of a valid token: padding, standard base64, a sibling last character, spaces", async () => {
    const t = await tenant();
    const jwt = t.jwt;
    expect((await get({ Authorization: `Bearer ${jwt}` })).status).toBe(200);
    const [header = "", payload = "", signature = ""] = jwt.split(".");
    // 32 signature bytes take 43 characters; the last one carries 2 unused bits that decoders ignore.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sibling = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.at(-1) ?? "A") ^ 1]}`;
    const standard = (part: string) => part.replaceAll("-", "+").replaceAll("_", "/");
    const padded = (part: string) => part + "=".repeat((4 - (part.length % 4)) % 4);
    const spellings = [
      `${header}.${payload}.${signature}=`,
      `${header}.${payload}.${padded(signature)}`,
      `${padded(header)}.${padded(payload)}.${padded(signature)}`,
      `${header}=.${payload}.${signature}`,
      `${header}.${payload}.${sibling}`,
      `${standard(header)}.${standard(payload)}.${standard(signature)}`,
      `${header}.${payload}.${signature}.`,
      `${header}..${payload}.${signature}`,
      `${header}.${payload}.${signature}%3D`,
    ].filter((s) => s !== jwt);
    expect(spellings.length).toBeGreaterThanOrEqual(8);
    for (const spelling of spellings) {
      await expect401(await get({ Authorization: `Bearer ${spelling}` }));
      await expect401(await get({ Cookie: `${COOKIE}=${spelling}` }));
    }
  });

  it("an expired token (exp in the past); the same token unexpired works", async () => {
    const t = await tenant();
    const sub = Number(t.access.id);
    const now = Math.floor(Date.now() / 1000);
    await expect401(await get({ Authorization: await token({ sub, aud: AUD, exp: now - 60 }) }));
    expect((await get({ Authorization: await token({ sub, aud: AUD, exp: now + 60 }) })).status).toBe(200);
  });

  it("a token not valid yet (nbf in the future); nbf in the past works", async () => {
    const t = await tenant();
    const sub = Number(t.access.id);
    const now = Math.floor(Date.now() / 1000);
    await expect401(await get({ Authorization: await token({ sub, aud: AUD, nbf: now + 120 }) }));
    expect((await get({ Authorization: await token({ sub, aud: AUD, nbf: now - 60 }) })).status).toBe(200);
  });

  it("an audience array that contains customer-v1 among others", async () => {
    const t = await tenant();
    const sub = Number(t.access.id);
    const res = await get({ Authorization: await token({ sub, aud: ["admin", "customer-v1"] }) });
    expect(res.status).toBe(200);
  });

  it("an Authorization header without a word falls back to the session cookie", async () => {
    const t = await tenant();
    for (const header of ["", "   "]) {
      const res = await direct({ Authorization: header, Cookie: `${COOKIE}=${t.jwt}` });
      expect(res.status, await res.clone().text()).toBe(200);
      // Cookie-authenticated: the answer refreshes the cookie.
      expect(sessionCookieOf(res)).toBeDefined();
    }
    // A word that is no token is not rescued by the cookie.
    await expect401(await direct({ Authorization: "Bearer", Cookie: `${COOKIE}=${t.jwt}` }));
  });

  it("a wrong or missing audience", async () => {
    const t = await tenant();
    const sub = Number(t.access.id);
    await expect401(await get({ Authorization: await token({ sub, aud: ["admin"] }) }));
    await expect401(await get({ Authorization: await token({ sub, aud: "customer-v2" }) }));
    await expect401(await get({ Authorization: await token({ sub }) }));
    // A plain-string audience is the same claim as a one-element array.
    expect((await get({ Authorization: await token({ sub, aud: "customer-v1" }) })).status).toBe(200);
  });

  it("a token signed with another key", async () => {
    const t = await tenant();
    await expect401(
      await get({ Authorization: await token({ sub: Number(t.access.id), aud: AUD }, "another-secret") }),
    );
  });

  it("an unsigned token (alg none)", async () => {
    const t = await tenant();
    const unsigned = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ sub: Number(t.access.id), aud: AUD })}.`;
    await expect401(await get({ Authorization: unsigned }));
    await expect401(await get({ Authorization: `Bearer ${unsigned}` }));
  });

  it("an HS512 token with the right key (HS256 only)", async () => {
    const t = await tenant();
    const claims = { sub: Number(t.access.id), aud: AUD };
    await expect401(await get({ Authorization: await hmacToken({ alg: "HS512" }, claims, "SHA-512") }));
    await expect401(await get({ Authorization: await hmacToken({ alg: "HS384" }, claims, "SHA-384") }));
    // The same hand-made signing with HS256 is accepted: only the algorithm differs.
    expect((await get({ Authorization: await hmacToken({ alg: "HS256" }, claims, "SHA-256") })).status).toBe(
      200,
    );
  });

  it("a token naming no API access, or a malformed sub", async () => {
    await expect401(await get({ Authorization: await token({ sub: 987654321, aud: AUD }) }));
    await expect401(await get({ Authorization: await token({ sub: "abc", aud: AUD }) }));
    await expect401(await get({ Authorization: await token({ aud: AUD }) }));
  });

  it("a token of a deleted API access, at once", async () => {
    const t = await tenant();
    expect((await customer(t.auth, "GET", "/cdr-exports")).status).toBe(200);
    const deleted = await admin("DELETE", `/api-accesses/${t.access.id}`);
    expect(deleted.status).toBe(204);
    await expect401(await customer(t.auth, "GET", "/cdr-exports"));
  });
});

describe("customer API: token forms that work", () => {
  it("takes `Bearer <t>` and a bare `<t>` (the last word of the header)", async () => {
    const t = await tenant();
    expect((await get({ Authorization: `Bearer ${t.jwt}` })).status).toBe(200);
    expect((await get({ Authorization: t.jwt })).status).toBe(200);
    expect((await get({ Authorization: `bearer   ${t.jwt}` })).status).toBe(200);
  });

  it("accepts a string sub naming the access", async () => {
    const t = await tenant();
    expect((await get({ Authorization: await token({ sub: String(t.access.id), aud: AUD }) })).status).toBe(
      200,
    );
  });

  it("a header-authenticated response sets no cookie, even when a session cookie is sent too", async () => {
    const t = await tenant();
    const plain = await get({ Authorization: t.auth });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("Set-Cookie")).toBeNull();
    const both = await get({ Authorization: t.auth, Cookie: `${COOKIE}=${t.jwt}` });
    expect(both.status).toBe(200);
    expect(both.headers.get("Set-Cookie")).toBeNull();
  });
});

describe("customer API: dynamic tokens (sub D)", () => {
  async function dynamic(cfg: Record<string, unknown>) {
    return `Bearer ${await token({ sub: "D", aud: AUD, cfg })}`;
  }

  it("works with cfg.customer_id alone and sees every account of that customer", async () => {
    const t = await tenant();
    const a = await seedExport(t.accountId, { createdAt: 1 });
    const b = await seedExport(t.otherAccountId, { createdAt: 2 });
    const auth = await dynamic({ customer_id: Number(t.customer.id) });
    const { res, body } = await list(auth);
    expect(res.status).toBe(200);
    expect(body.data.map((d) => d.id)).toEqual([b.uuid, a.uuid]);
  });

  it("is scoped to cfg.account_ids: list, show, create", async () => {
    const t = await tenant();
    const visible = await seedExport(t.accountId);
    const hidden = await seedExport(t.otherAccountId);
    const auth = await dynamic({ customer_id: Number(t.customer.id), account_ids: [t.accountId] });
    const { body } = await list(auth);
    expect(body.data.map((d) => d.id)).toEqual([visible.uuid]);
    expect((await customer(auth, "GET", `/cdr-exports/${visible.uuid}`)).status).toBe(200);
    expect((await customer(auth, "GET", `/cdr-exports/${hidden.uuid}`)).status).toBe(404);
    const refused = await customer(auth, "POST", "/cdr-exports", createBody(t.otherAccountUuid));
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as ErrorDoc).errors[0]?.detail).toBe("account - is invalid");
    const created = await customer(auth, "POST", "/cdr-exports", createBody(t.accountUuid));
    expect(created.status).toBe(201);
  });

  it("cannot reach another customer's accounts through cfg.account_ids", async () => {
    const t = await tenant();
    const stranger = await tenant();
    const foreign = await seedExport(stranger.accountId);
    const auth = await dynamic({ customer_id: Number(t.customer.id), account_ids: [stranger.accountId] });
    expect((await list(auth)).body.data).toEqual([]);
    expect((await customer(auth, "GET", `/cdr-exports/${foreign.uuid}`)).status).toBe(404);
  });

  it("keeps cfg in the refreshed session cookie, so the session stays scoped", async () => {
    const t = await tenant();
    const hidden = await seedExport(t.otherAccountId);
    const jwt = await token({
      sub: "D",
      aud: AUD,
      cfg: { customer_id: Number(t.customer.id), account_ids: [t.accountId] },
    });
    const res = await get({ Cookie: `${COOKIE}=${jwt}` });
    expect(res.status).toBe(200);
    const refreshed = cookieValue(sessionCookieOf(res) as string);
    const claims = JSON.parse(
      atob((refreshed.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/")),
    );
    expect(claims).toMatchObject({
      sub: "D",
      aud: AUD,
      cfg: { customer_id: Number(t.customer.id), account_ids: [t.accountId] },
    });
    const again = await get({ Cookie: `${COOKIE}=${refreshed}` }, `/cdr-exports/${hidden.uuid}`);
    expect(again.status).toBe(404);
  });

  it("enforces cfg.allowed_ips", async () => {
    const t = await tenant();
    const auth = await dynamic({ customer_id: Number(t.customer.id), allowed_ips: ["203.0.113.0/24"] });
    expect((await get({ Authorization: auth, "CF-Connecting-IP": "203.0.113.9" })).status).toBe(200);
    await expect401(await get({ Authorization: auth, "CF-Connecting-IP": "198.51.100.1" }));
  });

  it("is refused when cfg.account_ids or cfg.allowed_ips is malformed (never read as unrestricted)", async () => {
    const t = await tenant();
    const customer_id = Number(t.customer.id);
    for (const cfg of [
      { customer_id, account_ids: [String(t.accountId)] },
      { customer_id, account_ids: t.accountId },
      { customer_id, account_ids: [t.accountId, null] },
      { customer_id, allowed_ips: "203.0.113.0/24" },
      { customer_id, allowed_ips: [42] },
    ]) {
      await expect401(await get({ Authorization: await dynamic(cfg), "CF-Connecting-IP": "198.51.100.1" }));
    }
  });

  it("is refused without cfg, or for a customer that does not exist or is no customer", async () => {
    await expect401(await get({ Authorization: await token({ sub: "D", aud: AUD }) }));
    await expect401(await get({ Authorization: await dynamic({ customer_id: 987654321 }) }));
    await expect401(await get({ Authorization: await dynamic({ customer_id: "1" }) }));
    const vendor = await admin("POST", "/contractors", {
      data: { type: "contractors", attributes: { name: `vendor-${crypto.randomUUID()}`, vendor: true } },
    });
    const vendorId = Number((await json<{ data: { id: string } }>(vendor)).data.id);
    await expect401(await get({ Authorization: await dynamic({ customer_id: vendorId }) }));
  });
});

describe("customer API: the session cookie", () => {
  it("authenticates with the cookie and answers with a refreshed HttpOnly, SameSite=Lax cookie on Path=/", async () => {
    const t = await tenant();
    const res = await get({ Cookie: `${COOKIE}=${t.jwt}` });
    expect(res.status).toBe(200);
    const set = sessionCookieOf(res);
    expect(set).toBeDefined();
    const attributes = cookieAttributes(set as string);
    expect(attributes).toContain("httponly");
    expect(attributes).toContain("samesite=lax");
    expect(attributes).toContain("path=/");
    expect(attributes).not.toContain("secure");
    // The refreshed value is itself a working token, for the cookie and for the header.
    const refreshed = cookieValue(set as string);
    expect(refreshed.split(".")).toHaveLength(3);
    expect((await get({ Cookie: `${COOKIE}=${refreshed}` })).status).toBe(200);
    expect((await get({ Authorization: `Bearer ${refreshed}` })).status).toBe(200);
  });

  it("marks the refreshed cookie Secure when the request URL is https", async () => {
    const t = await tenant();
    const res = await get(
      { Cookie: `${COOKIE}=${t.jwt}` },
      "/cdr-exports",
      CUSTOMER.replace("http://", "https://"),
    );
    expect(res.status).toBe(200);
    expect(cookieAttributes(sessionCookieOf(res) as string)).toContain("secure");
  });

  it("works among other cookies and for POST", async () => {
    const t = await tenant();
    const res = await call(`${CUSTOMER}/cdr-exports`, {
      method: "POST",
      headers: { "Content-Type": JSON_API, Cookie: `theme=dark; ${COOKIE}=${t.jwt}; other=1` },
      body: JSON.stringify(createBody(t.accountUuid)),
    });
    expect(res.status).toBe(201);
    expect(sessionCookieOf(res)).toBeDefined();
  });

  it("keeps the refreshed cookie on a 304 answer", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId);
    const first = await get({ Cookie: `${COOKIE}=${t.jwt}` }, `/cdr-exports/${row.uuid}`);
    const etag = first.headers.get("ETag") as string;
    const again = await get(
      { Cookie: `${COOKIE}=${t.jwt}`, "If-None-Match": etag },
      `/cdr-exports/${row.uuid}`,
    );
    expect(again.status).toBe(304);
    expect(sessionCookieOf(again)).toBeDefined();
  });

  it("refuses an invalid cookie without setting one", async () => {
    await expect401(await get({ Cookie: `${COOKIE}=garbage` }));
    const t = await tenant();
    await expect401(
      await get({ Cookie: `${COOKIE}=${await token({ sub: Number(t.access.id), aud: AUD }, "x")}` }),
    );
  });

  it("does not let a valid cookie rescue a present but invalid Authorization header", async () => {
    const t = await tenant();
    await expect401(await get({ Authorization: "Bearer garbage", Cookie: `${COOKIE}=${t.jwt}` }));
  });
});

describe("customer API: the API access's allowed source networks (CF-Connecting-IP), on every request", () => {
  async function ipTenant() {
    return tenant({ accessAttributes: { "allowed-ips": ["10.0.0.0/8", "2001:db8::/32"] } });
  }

  function from(t: Tenant, ip: string | null, path = "/cdr-exports") {
    return get({ Authorization: t.auth, ...(ip ? { "CF-Connecting-IP": ip } : {}) }, path);
  }

  it("answers requests from inside the allowed networks (IPv4 and IPv6)", async () => {
    const t = await ipTenant();
    expect((await from(t, "10.1.2.3")).status).toBe(200);
    expect((await from(t, "2001:db8::1")).status).toBe(200);
    expect((await from(t, "::ffff:10.9.9.9")).status).toBe(200);
  });

  it("refuses requests from outside, or from an unknown source, on every route", async () => {
    const t = await ipTenant();
    const row = await seedExport(t.accountId);
    for (const path of ["/cdr-exports", `/cdr-exports/${row.uuid}`, `/cdr-exports/${row.uuid}/account`]) {
      await expect401(await from(t, "192.0.2.1", path));
    }
    await expect401(await from(t, "2001:db9::1"));
    await expect401(await from(t, null));
    await expect401(await from(t, "not-an-ip"));
    // X-Real-IP is not trusted without TRUST_PROXY.
    await expect401(await get({ Authorization: t.auth, "X-Real-IP": "10.1.2.3" }));
    const post = await call(`${CUSTOMER}/cdr-exports`, {
      method: "POST",
      headers: { Authorization: t.auth, "Content-Type": JSON_API, "CF-Connecting-IP": "192.0.2.1" },
      body: JSON.stringify(createBody(t.accountUuid)),
    });
    await expect401(post);
  });

  it("applies a change of allowed-ips through the operator API at once", async () => {
    const t = await ipTenant();
    expect((await from(t, "10.1.2.3")).status).toBe(200);
    await expect401(await from(t, "192.0.2.1"));
    const patched = await admin("PATCH", `/api-accesses/${t.access.id}`, {
      data: { type: "api-accesses", id: t.access.id, attributes: { "allowed-ips": ["192.0.2.0/24"] } },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    expect((await from(t, "192.0.2.1")).status).toBe(200);
    await expect401(await from(t, "10.1.2.3"));
  });

  it("an access with the default networks admits every source", async () => {
    const t = await tenant();
    expect((await from(t, "192.0.2.1")).status).toBe(200);
    expect((await from(t, "2001:db8::1")).status).toBe(200);
    expect((await from(t, null)).status).toBe(200);
  });
});

describe("customer API: tenant isolation", () => {
  it("every route shows a customer only its own exports", async () => {
    const mine = await tenant();
    const theirs = await tenant();
    const own = await seedExport(mine.accountId, { status: "Completed", createdAt: 1 });
    const created = await json<{ data: { id: string } }>(
      await customer(mine.auth, "POST", "/cdr-exports", createBody(mine.otherAccountUuid)),
    );
    const foreign = await seedExport(theirs.accountId, { status: "Completed" });
    const foreignCreated = await json<{ data: { id: string } }>(
      await customer(theirs.auth, "POST", "/cdr-exports", createBody(theirs.accountUuid)),
    );

    const mineList = await list(mine.auth, "page[size]=1000");
    expect(mineList.body.data.map((d) => d.id)).toEqual([created.data.id, own.uuid]);
    expect(mineList.body.meta["total-count"]).toBe(2);
    const theirList = await list(theirs.auth);
    expect(theirList.body.data.map((d) => d.id).sort()).toEqual(
      [foreign.uuid, foreignCreated.data.id].sort(),
    );
    // Filtering by the other customer's account finds nothing either.
    expect((await list(mine.auth, `filter[account_id_in]=${theirs.accountUuid}`)).body.data).toEqual([]);

    for (const id of [foreign.uuid, foreignCreated.data.id]) {
      for (const suffix of ["", "/relationships/account", "/account", "/download"]) {
        const res = await customer(mine.auth, "GET", `/cdr-exports/${id}${suffix}`);
        expect(res.status).toBe(404);
        expect(((await res.json()) as ErrorDoc).errors[0]?.title).toBe("Record not found");
      }
    }
    const post = await customer(mine.auth, "POST", "/cdr-exports", createBody(theirs.accountUuid));
    expect(post.status).toBe(422);
    expect(((await post.json()) as ErrorDoc).errors[0]?.detail).toBe("account - is invalid");
  });
});
