// Customer API v1 /auth: log in for a JWT or a session cookie, session check, logout; passwords, source
// networks, and the login and export-creation rate limits (small limits set in vitest.config.ts).
import { env } from "cloudflare:workers";
import bcrypt from "bcryptjs";
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  admin,
  CUSTOMER,
  call,
  createBody,
  customer,
  JSON_API,
  JWT_SECRET,
  json,
  tenant,
  token,
  unique,
  WindowedLimiter,
  withBindings,
} from "./helpers/api";
import {
  AUTH,
  authUrl,
  fetchWithVars,
  login,
  loginAccess,
  loginToken,
  PASSWORD,
  postAuth,
  randomNet4,
  randomNet6,
  SESSION_COOKIE,
  sessionSetCookie,
  storedHash,
  uniqueIPv4,
} from "./helpers/login";

type ErrorDoc = { errors: Array<{ status: string; title: string; detail?: string }> };

// The rate-limit tests' limits (their own fake limiters): 5 login attempts per (login, source), 10 per
// source, 20 export creations per customer.
const LOGIN_LIMIT = 5;
const LOGIN_SOURCE_LIMIT = 10;
const EXPORT_LIMIT = 20;

async function verified(jwt: string) {
  return (
    await jwtVerify(jwt, new TextEncoder().encode(JWT_SECRET), {
      algorithms: ["HS256"],
      audience: "customer-v1",
    })
  ).payload;
}

/** Expects a JSON:API error document of `status`; returns its text (to compare bodies). */
async function expectError(res: Response, status: number): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  const body = JSON.parse(text) as ErrorDoc;
  expect(body.errors.length).toBeGreaterThan(0);
  for (const e of body.errors) expect(e.status).toBe(String(status));
  return text;
}

async function getAuth(headers: Record<string, string>, url = AUTH) {
  return call(url, { method: "GET", headers });
}

async function listExports(headers: Record<string, string>) {
  return call(`${CUSTOMER}/cdr-exports`, { method: "GET", headers: { Accept: JSON_API, ...headers } });
}

async function patchAccess(id: number, attributes: Record<string, unknown>) {
  const res = await admin("PATCH", `/api-accesses/${id}`, {
    data: { type: "api-accesses", id: String(id), attributes },
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** A PBKDF2-SHA256 hash in the stored format, with the iterations given. */
async function pbkdf2Hash(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256),
  );
  const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
  return `pbkdf2_sha256$${iterations}$${b64(salt)}$${b64(bits)}`;
}

describe("POST /auth: a JWT", () => {
  it("answers 201 {jwt} with an HS256 token for the access: aud [customer-v1], sub = access id, no exp", async () => {
    const a = await loginAccess();
    const res = await login(a.login, PASSWORD);
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.getSetCookie()).toEqual([]);
    const body = JSON.parse(text) as { jwt: string };
    expect(Object.keys(body)).toEqual(["jwt"]);
    expect(decodeProtectedHeader(body.jwt)).toEqual({ alg: "HS256" });
    const claims = decodeJwt(body.jwt);
    expect(claims.aud).toEqual(["customer-v1"]);
    expect(claims.sub).toBe(a.id);
    expect(claims.exp).toBeUndefined();
    expect((await verified(body.jwt)).sub).toBe(a.id);
  });

  it("takes the JSON:API media type and a charset parameter as well", async () => {
    const a = await loginAccess();
    const body = JSON.stringify({ auth: { login: a.login, password: PASSWORD } });
    for (const contentType of [JSON_API, "application/json; charset=utf-8"]) {
      const res = await postAuth(body, { contentType });
      expect(res.status, await res.clone().text()).toBe(201);
      expect(decodeJwt((await json<{ jwt: string }>(res)).jwt).sub).toBe(a.id);
    }
  });

  it("sets exp (and the cookie's Expires) when CUSTOMER_V1_TOKEN_LIFETIME is configured", async () => {
    const a = await loginAccess();
    const vars = { CUSTOMER_V1_TOKEN_LIFETIME: "3600" };
    const request = (cookie: boolean) =>
      new Request(AUTH, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          auth: { login: a.login, password: PASSWORD, ...(cookie ? { cookie_auth: true } : {}) },
        }),
      });
    const before = Math.floor(Date.now() / 1000);
    const res = await fetchWithVars(request(false), vars);
    expect(res.status).toBe(201);
    const jwt = (await json<{ jwt: string }>(res)).jwt;
    const claims = await verified(jwt);
    expect(claims.exp).toBeGreaterThanOrEqual(before + 3600);
    expect(claims.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600 + 1);

    const cookieRes = await fetchWithVars(request(true), vars);
    expect(cookieRes.status).toBe(201);
    const cookie = sessionSetCookie(cookieRes) ?? "";
    const expires = /; Expires=([^;]+)/.exec(cookie)?.[1];
    expect(expires, cookie).toBeDefined();
    const cookieJwt = /^[^=]+=([^;]+)/.exec(cookie)?.[1] ?? "";
    expect(Date.parse(expires ?? "") / 1000).toBe(decodeJwt(cookieJwt).exp);
  });

  it("issues a token that GET /cdr-exports and GET /auth accept", async () => {
    const t = await tenant();
    const jwt = await loginToken(t.access.attributes.login as string);
    const list = await listExports({ Authorization: `Bearer ${jwt}` });
    expect(list.status, await list.clone().text()).toBe(200);
    expect((await json<{ data: unknown[] }>(list)).data).toEqual([]);
    const created = await customer(`Bearer ${jwt}`, "POST", "/cdr-exports", createBody(t.accountUuid));
    expect(created.status, await created.clone().text()).toBe(201);
    expect((await getAuth({ Authorization: jwt })).status).toBe(200);
  });
});

describe("POST /auth: cookie_auth", () => {
  it("answers 201 with an empty body and an HttpOnly, SameSite=Lax session cookie holding the token", async () => {
    const a = await loginAccess();
    const res = await login(a.login, PASSWORD, { cookie: true });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("");
    const cookies = res.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    const cookie = cookies[0] ?? "";
    const match = new RegExp(`^${SESSION_COOKIE}=([A-Za-z0-9_.-]+);`).exec(cookie);
    expect(match, cookie).not.toBeNull();
    const attributes = cookie.split(/;\s*/).slice(1);
    expect(attributes).toContain("HttpOnly");
    expect(attributes).toContain("SameSite=Lax");
    expect(attributes).toContain("Path=/");
    expect(attributes).not.toContain("Secure");
    expect(cookie).not.toMatch(/Expires=/); // no lifetime configured: a session cookie
    const claims = await verified(match?.[1] ?? "");
    expect(claims.sub).toBe(a.id);
    expect(claims.aud).toEqual(["customer-v1"]);
  });

  it("marks the cookie Secure over https", async () => {
    const a = await loginAccess();
    const res = await login(a.login, PASSWORD, { cookie: true, https: true });
    expect(res.status).toBe(201);
    const attributes = (sessionSetCookie(res) ?? "").split(/;\s*/);
    expect(attributes).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Lax", "Secure"]));
  });

  it("reads auth.cookie_auth with Ruby truthiness; a cookie_auth beside auth is not read", async () => {
    const a = await loginAccess();
    const cases: Array<[string, unknown, "cookie" | "jwt"]> = [
      ["true", true, "cookie"],
      ['"true"', "true", "cookie"],
      ['"false" (a string is truthy)', "false", "cookie"],
      ["0 (truthy in Ruby)", 0, "cookie"],
      ["false", false, "jwt"],
      ["null", null, "jwt"],
      ["an object (not permitted)", { on: true }, "jwt"],
    ];
    for (const [name, value, answer] of cases) {
      const res = await postAuth(
        JSON.stringify({ auth: { login: a.login, password: PASSWORD, cookie_auth: value } }),
        { ip: uniqueIPv4() },
      );
      expect(res.status, name).toBe(201);
      expect(sessionSetCookie(res) !== null, name).toBe(answer === "cookie");
      const text = await res.text();
      if (answer === "cookie") expect(text, name).toBe("");
      else expect(Object.keys(JSON.parse(text)), name).toEqual(["jwt"]);
    }
    // Rails wraps nothing when `auth` is present, so a top-level cookie_auth is not a parameter.
    const outside = await postAuth(
      JSON.stringify({ auth: { login: a.login, password: PASSWORD }, cookie_auth: true }),
      { ip: uniqueIPv4() },
    );
    expect(outside.status).toBe(201);
    expect(sessionSetCookie(outside)).toBeNull();
  });

  it("the cookie authenticates GET /auth and GET /cdr-exports, each answer refreshing it", async () => {
    const a = await loginAccess();
    const res = await login(a.login, PASSWORD, { cookie: true });
    const cookie = (sessionSetCookie(res) ?? "").split(";")[0] ?? "";
    const check = await getAuth({ Cookie: cookie });
    expect(check.status).toBe(200);
    expect(await check.json()).toEqual({ "allow-rec": false });
    expect(sessionSetCookie(check)).not.toBeNull();
    const list = await listExports({ Cookie: cookie });
    expect(list.status, await list.clone().text()).toBe(200);
    expect(sessionSetCookie(list)).not.toBeNull();
  });
});

describe("POST /auth: failures", () => {
  it("wrong login, wrong password and a disallowed source all answer the same 401", async () => {
    const net = randomNet4();
    const a = await loginAccess({ "allowed-ips": [net.net] });
    const inside = net.host(10);
    const wrongLogin = await expectError(await login(unique("nobody"), PASSWORD, { ip: inside }), 401);
    const wrongPassword = await expectError(await login(a.login, "wrong password!", { ip: inside }), 401);
    const wrongSource = await expectError(await login(a.login, PASSWORD, { ip: uniqueIPv4() }), 401);
    expect(wrongPassword).toBe(wrongLogin);
    expect(wrongSource).toBe(wrongLogin);
    // ...and the right password from inside the network works.
    expect((await login(a.login, PASSWORD, { ip: inside })).status).toBe(201);
  });

  it("sets no cookie on a failed cookie login", async () => {
    const a = await loginAccess();
    const res = await login(a.login, "not the password", { cookie: true });
    await expectError(res, 401);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it("a password is compared exactly (case, surrounding spaces, a prefix)", async () => {
    const a = await loginAccess();
    for (const wrong of [PASSWORD.toUpperCase(), ` ${PASSWORD}`, PASSWORD.slice(0, -1)]) {
      await expectError(await login(a.login, wrong), 401);
    }
  });
});

const LOGIN_FAILED = {
  status: "401",
  title: "Authentication failed",
  detail: "Incorrect login or password.",
  code: "401",
};
const AUTH_MISSING = {
  status: "400",
  title: "Bad Request",
  detail: "param is missing or the value is empty: auth",
  code: "400",
  source: { parameter: "auth" },
};

describe("POST /auth: the body as Rails reads it", () => {
  it("a failed login is Yeti's AuthenticationFailed error object", async () => {
    const a = await loginAccess();
    const res = await login(a.login, "wrong password!");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ errors: [LOGIN_FAILED] });
  });

  it("compares logins case-sensitively", async () => {
    const a = await loginAccess({ login: unique("CaseLogin") });
    expect((await login(a.login, PASSWORD)).status).toBe(201);
    for (const other of [a.login.toLowerCase(), a.login.toUpperCase(), ` ${a.login}`]) {
      const res = await login(other, PASSWORD, { ip: uniqueIPv4() });
      expect(await res.json()).toEqual({ errors: [LOGIN_FAILED] });
    }
  });

  it("credentials without the auth wrapper (application/json: Rails wraps them)", async () => {
    const a = await loginAccess();
    const bare = JSON.stringify({ login: a.login, password: PASSWORD });
    const res = await postAuth(bare);
    expect(res.status, await res.clone().text()).toBe(201);
    expect(decodeJwt((await json<{ jwt: string }>(res)).jwt).sub).toBe(a.id);
    const cookie = await postAuth(
      JSON.stringify({ login: a.login, password: PASSWORD, cookie_auth: "true" }),
    );
    expect(cookie.status).toBe(201);
    expect(sessionSetCookie(cookie)).not.toBeNull();
    // The JSON:API media type is not in the wrapper's formats: no auth.
    const vnd = await postAuth(bare, { contentType: JSON_API });
    expect(vnd.status).toBe(400);
    expect(await vnd.json()).toEqual({ errors: [AUTH_MISSING] });
  });

  it("form encodings: auth[login]=...&auth[password]=... (urlencoded and multipart)", async () => {
    const a = await loginAccess();
    const form = new URLSearchParams({ "auth[login]": a.login, "auth[password]": PASSWORD });
    const res = await postAuth(form.toString(), { contentType: "application/x-www-form-urlencoded" });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(decodeJwt((await json<{ jwt: string }>(res)).jwt).sub).toBe(a.id);

    form.set("auth[cookie_auth]", "true");
    const withCookie = await postAuth(form.toString(), {
      contentType: "application/x-www-form-urlencoded",
    });
    expect(withCookie.status).toBe(201);
    expect(sessionSetCookie(withCookie)).not.toBeNull();

    const multipart = new FormData();
    multipart.set("auth[login]", a.login);
    multipart.set("auth[password]", PASSWORD);
    const encoded = new Request("http://x/", { method: "POST", body: multipart });
    const mp = await postAuth(await encoded.text(), {
      contentType: encoded.headers.get("Content-Type") ?? "",
    });
    expect(mp.status, await mp.clone().text()).toBe(201);

    // Bare form keys are not wrapped: no auth.
    const bare = new URLSearchParams({ login: a.login, password: PASSWORD }).toString();
    const unwrapped = await postAuth(bare, { contentType: "application/x-www-form-urlencoded" });
    expect(unwrapped.status).toBe(400);
    expect(await unwrapped.json()).toEqual({ errors: [AUTH_MISSING] });
  });

  it("no auth at all (missing, empty, not a hash, no parsable body): 400 ParameterMissing", async () => {
    const bodies: Array<[string, string, string?]> = [
      ["an empty object", "{}"],
      ["auth null", '{"auth":null}'],
      ["auth empty", '{"auth":{}}'],
      ["auth an array", '{"auth":[]}'],
      ["auth a string", '{"auth":"login:password"}'],
      ["a JSON array", "[]"],
      ["JSON null", "null"],
      ["a JSON string", '"auth"'],
      ["a JSON number", "42"],
      ["text/plain", JSON.stringify({ auth: { login: "x", password: "y" } }), "text/plain"],
      ["no media type", JSON.stringify({ auth: { login: "x", password: "y" } }), ""],
    ];
    for (const [name, body, contentType] of bodies) {
      const res = await postAuth(body, contentType === undefined ? {} : { contentType });
      expect(res.status, name).toBe(400);
      expect(res.headers.get("Content-Type"), name).toBe(JSON_API);
      expect(await res.json(), name).toEqual({ errors: [AUTH_MISSING] });
    }
  });

  it("malformed JSON: 400", async () => {
    await expectError(await postAuth("{not json"), 400);
    await expectError(await postAuth(""), 400);
  });

  it("auth without a usable login or password: the login failure (401)", async () => {
    const a = await loginAccess();
    const bodies = [
      { auth: { login: a.login } },
      { auth: { password: PASSWORD } },
      { auth: { login: a.login, password: null } },
      { auth: { login: a.login, password: "" } },
      { auth: { login: [a.login], password: PASSWORD } },
      { auth: { login: a.login, password: [PASSWORD] } },
      { auth: { login: 42, password: PASSWORD } },
      { auth: { cookie_auth: true } },
    ];
    for (const body of bodies) {
      const res = await postAuth(JSON.stringify(body), { ip: uniqueIPv4() });
      expect(res.status, JSON.stringify(body)).toBe(401);
      expect(await res.json()).toEqual({ errors: [LOGIN_FAILED] });
    }
  });
});

describe("GET /auth", () => {
  it("200 {allow-rec} for a valid token (Bearer or bare), reflecting the access", async () => {
    const a = await loginAccess();
    const jwt = await loginToken(a.login);
    for (const authorization of [`Bearer ${jwt}`, jwt]) {
      const res = await getAuth({ Authorization: authorization });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ "allow-rec": false });
      expect(sessionSetCookie(res)).toBeNull();
    }
    await env.DB.prepare("UPDATE api_accesses SET allow_listen_recording = 1 WHERE id = ?").bind(a.id).run();
    expect(await (await getAuth({ Authorization: `Bearer ${jwt}` })).json()).toEqual({ "allow-rec": true });
  });

  it("a dynamic (sub D) token has no recording permission", async () => {
    const t = await tenant();
    const jwt = await token({ sub: "D", aud: ["customer-v1"], cfg: { customer_id: Number(t.customer.id) } });
    const res = await getAuth({ Authorization: `Bearer ${jwt}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ "allow-rec": false });
  });

  it("401 without a session, or with a bad, expired, foreign or revoked one", async () => {
    const a = await loginAccess();
    const jwt = await loginToken(a.login);
    const now = Math.floor(Date.now() / 1000);
    const bad: Record<string, string>[] = [
      {},
      { Authorization: "" },
      { Authorization: "Bearer" },
      { Authorization: "Bearer not-a-jwt" },
      { Authorization: `Bearer ${jwt}x` },
      { Authorization: `Bearer ${await token({ sub: a.id, aud: ["customer-v1"] }, "another-secret")}` },
      { Authorization: `Bearer ${await token({ sub: a.id, aud: ["admin"] })}` },
      { Authorization: `Bearer ${await token({ sub: a.id, aud: ["customer-v1"], exp: now - 10 })}` },
      { Cookie: `${SESSION_COOKIE}=garbage` },
      { Cookie: `${SESSION_COOKIE}=logout` },
      // A present but invalid header is not rescued by a valid cookie.
      { Authorization: "Bearer not-a-jwt", Cookie: `${SESSION_COOKIE}=${jwt}` },
    ];
    for (const headers of bad) await expectError(await getAuth(headers), 401);
    expect((await admin("DELETE", `/api-accesses/${a.id}`)).status).toBe(204);
    await expectError(await getAuth({ Authorization: `Bearer ${jwt}` }), 401);
  });
});

describe("DELETE /auth", () => {
  it("204, the cookie overwritten with logout and expired in 1970", async () => {
    const a = await loginAccess();
    const cookie = (sessionSetCookie(await login(a.login, PASSWORD, { cookie: true })) ?? "").split(";")[0];
    const res = await call(AUTH, { method: "DELETE", headers: { Cookie: cookie ?? "" } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    const set = sessionSetCookie(res) ?? "";
    expect(set).toMatch(new RegExp(`^${SESSION_COOKIE}=logout;`));
    const attributes = set.split(/;\s*/);
    expect(attributes).toContain("Path=/");
    expect(attributes).toContain("HttpOnly");
    expect(attributes).toContain("SameSite=Lax");
    const expires = attributes.find((p) => p.startsWith("Expires="))?.slice("Expires=".length) ?? "";
    expect(new Date(expires).getUTCFullYear()).toBe(1970);
    // The logout value is not a session.
    await expectError(await getAuth({ Cookie: `${SESSION_COOKIE}=logout` }), 401);
  });

  it("needs no session, and marks the overwrite Secure over https", async () => {
    const res = await call(authUrl(true), { method: "DELETE" });
    expect(res.status).toBe(204);
    const attributes = (sessionSetCookie(res) ?? "").split(/;\s*/);
    expect(attributes).toEqual(expect.arrayContaining([`${SESSION_COOKIE}=logout`, "HttpOnly", "Secure"]));
  });
});

describe("passwords", () => {
  it("stores a PBKDF2-SHA256 hash of at most 100,000 iterations with a random salt", async () => {
    const a = await loginAccess();
    const b = await loginAccess();
    const hash = await storedHash(a.id);
    const match = /^pbkdf2_sha256\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(hash);
    expect(match, hash).not.toBeNull();
    const iterations = Number(match?.[1]);
    expect(iterations).toBeGreaterThan(0);
    expect(iterations).toBeLessThanOrEqual(100_000);
    expect(hash).not.toContain(PASSWORD);
    // The same password, another salt.
    expect(await storedHash(b.id)).not.toBe(hash);
    expect((await login(a.login, PASSWORD)).status).toBe(201);
    expect(await storedHash(a.id)).toBe(hash); // a current hash is left alone
  });

  it("a bcrypt-imported access logs in and is re-hashed to PBKDF2", async () => {
    const digest = await bcrypt.hash("imported secret", 4);
    const a = await loginAccess({ password: undefined, "password-digest": digest });
    expect(await storedHash(a.id)).toBe(digest);
    // A wrong password fails and leaves the digest alone.
    await expectError(await login(a.login, "not the secret"), 401);
    expect(await storedHash(a.id)).toBe(digest);
    const jwt = await loginToken(a.login, "imported secret");
    expect(decodeJwt(jwt).sub).toBe(a.id);
    const rehashed = await storedHash(a.id);
    expect(rehashed).toMatch(/^pbkdf2_sha256\$\d+\$/);
    expect(Number(rehashed.split("$")[1])).toBeLessThanOrEqual(100_000);
    // The new hash holds the same password.
    expect((await login(a.login, "imported secret")).status).toBe(201);
    await expectError(await login(a.login, "not the secret"), 401);
    expect(await storedHash(a.id)).toBe(rehashed);
  });

  it("a PBKDF2 hash of fewer iterations is upgraded on login", async () => {
    const a = await loginAccess();
    const weak = await pbkdf2Hash("weak but right", 1000);
    await env.DB.prepare("UPDATE api_accesses SET password_hash = ? WHERE id = ?").bind(weak, a.id).run();
    expect((await login(a.login, "weak but right")).status).toBe(201);
    const upgraded = await storedHash(a.id);
    expect(upgraded).not.toBe(weak);
    expect(upgraded).toMatch(/^pbkdf2_sha256\$100000\$/);
    expect((await login(a.login, "weak but right")).status).toBe(201);
  });

  it("a changed password takes over at once", async () => {
    const a = await loginAccess();
    await patchAccess(a.id, { password: "a brand new password" });
    await expectError(await login(a.login, PASSWORD), 401);
    expect((await login(a.login, "a brand new password")).status).toBe(201);
  });
});

describe("POST /auth: allowed source networks (CF-Connecting-IP)", () => {
  it("an IPv4 network: inside 201, outside 401, no address 401", async () => {
    const net = randomNet4();
    const a = await loginAccess({ "allowed-ips": [net.net] });
    expect((await login(a.login, PASSWORD, { ip: net.host(1) })).status).toBe(201);
    expect((await login(a.login, PASSWORD, { ip: net.host(254) })).status).toBe(201);
    await expectError(await login(a.login, PASSWORD, { ip: uniqueIPv4() }), 401);
    await expectError(await login(a.login, PASSWORD), 401);
  });

  it("an unrestricted access logs in from anywhere, even without an address; a garbled address is refused", async () => {
    const a = await loginAccess();
    expect((await login(a.login, PASSWORD)).status).toBe(201);
    expect((await login(a.login, PASSWORD, { ip: uniqueIPv4() })).status).toBe(201);
    expect((await login(a.login, PASSWORD, { ip: randomNet6().host("1::1") })).status).toBe(201);
    await expectError(await login(a.login, PASSWORD, { ip: "not-an-address" }), 401);
  });

  it("an IPv6 network: inside (any spelling) 201, outside 401, an IPv4 client 401", async () => {
    const net = randomNet6();
    const a = await loginAccess({ "allowed-ips": [net.net] });
    expect((await login(a.login, PASSWORD, { ip: net.host("1::5") })).status).toBe(201);
    const loud = net.host("ffff:0:0:0:1").toUpperCase(); // uncompressed, upper case
    expect((await login(a.login, PASSWORD, { ip: loud })).status).toBe(201);
    await expectError(await login(a.login, PASSWORD, { ip: "2001:db9::1" }), 401);
    await expectError(await login(a.login, PASSWORD, { ip: uniqueIPv4() }), 401);
  });

  it("an IPv4-mapped IPv6 address is judged as its IPv4 address", async () => {
    const net = randomNet4();
    const a = await loginAccess({ "allowed-ips": [net.net] });
    const inside = net.host(7);
    expect((await login(a.login, PASSWORD, { ip: `::ffff:${inside}` })).status).toBe(201);
    const [o1, o2, o3, o4] = inside.split(".").map(Number) as [number, number, number, number];
    const hex = `::ffff:${((o1 << 8) | o2).toString(16)}:${((o3 << 8) | o4).toString(16)}`;
    expect((await login(a.login, PASSWORD, { ip: hex })).status).toBe(201);
    await expectError(await login(a.login, PASSWORD, { ip: `::ffff:${uniqueIPv4()}` }), 401);
  });

  it("a mapped network (::ffff:a.b.c.d/120) admits the IPv4 client; ::/0 alone admits no IPv4 client", async () => {
    const net = randomNet4();
    const mapped = await loginAccess({ "allowed-ips": [`::ffff:${net.host(0)}/120`] });
    expect((await login(mapped.login, PASSWORD, { ip: net.host(9) })).status).toBe(201);
    await expectError(await login(mapped.login, PASSWORD, { ip: uniqueIPv4() }), 401);

    const v6only = await loginAccess({ "allowed-ips": ["::/0"] });
    expect((await login(v6only.login, PASSWORD, { ip: randomNet6().host("9::9") })).status).toBe(201);
    await expectError(await login(v6only.login, PASSWORD, { ip: uniqueIPv4() }), 401);
  });
});

describe("tokens issued by /auth after the access changes", () => {
  it("are refused once allowed-ips exclude the caller, and accepted from inside the new networks", async () => {
    const a = await loginAccess();
    const caller = uniqueIPv4();
    const jwt = await loginToken(a.login, PASSWORD, { ip: caller });
    const from = (ip: string) => listExports({ Authorization: `Bearer ${jwt}`, "CF-Connecting-IP": ip });
    expect((await from(caller)).status).toBe(200);
    const net = randomNet4();
    await patchAccess(a.id, { "allowed-ips": [net.net] });
    await expectError(await from(caller), 401);
    await expectError(await getAuth({ Authorization: `Bearer ${jwt}`, "CF-Connecting-IP": caller }), 401);
    expect((await from(net.host(3))).status).toBe(200);
  });

  it("are refused once the access is deleted (header and cookie)", async () => {
    const a = await loginAccess();
    const jwt = await loginToken(a.login);
    const cookie =
      (sessionSetCookie(await login(a.login, PASSWORD, { cookie: true })) ?? "").split(";")[0] ?? "";
    expect((await listExports({ Authorization: `Bearer ${jwt}` })).status).toBe(200);
    expect((await listExports({ Cookie: cookie })).status).toBe(200);
    expect((await admin("DELETE", `/api-accesses/${a.id}`)).status).toBe(204);
    await expectError(await listExports({ Authorization: `Bearer ${jwt}` }), 401);
    await expectError(await listExports({ Cookie: cookie }), 401);
    // The login is gone too.
    await expectError(await login(a.login, PASSWORD), 401);
  });
});

describe("rate limits", () => {
  // Fake limiters with the test limits, whose windows end when a test says so (no wall-clock waits).
  const limiters = {
    LOGIN_RATE_LIMITER: new WindowedLimiter(LOGIN_LIMIT),
    LOGIN_SOURCE_RATE_LIMITER: new WindowedLimiter(LOGIN_SOURCE_LIMIT),
    EXPORT_RATE_LIMITER: new WindowedLimiter(EXPORT_LIMIT),
  };
  const newWindow = () => {
    for (const limiter of Object.values(limiters)) limiter.newWindow();
  };
  const withFakeLimiters = (body: () => Promise<void>) => () => withBindings(limiters, body);

  it(
    "login attempts per (login, source): 429 with Retry-After for that pair, even for the right password; then recovery",
    withFakeLimiters(async () => {
      const a = await loginAccess();
      const other = await loginAccess();
      const source = uniqueIPv4();
      newWindow();
      for (let i = 0; i < LOGIN_LIMIT; i++) {
        expect((await login(a.login, "guess", { ip: source })).status).toBe(401);
      }
      const limited = await login(a.login, PASSWORD, {
        ip: source,
        headers: { Origin: "https://portal.example.com" },
      });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("Content-Type")).toBe(JSON_API);
      expect(limited.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
      const body = await json<ErrorDoc>(limited);
      expect(body.errors).toEqual([expect.objectContaining({ status: "429", title: "Too Many Requests" })]);
      // A portal can read the answer and its Retry-After.
      expect(limited.headers.get("Access-Control-Allow-Origin")).toBe("https://portal.example.com");
      expect(limited.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
      // Another login from the same source is not affected (the source's own limit is higher).
      expect((await login(other.login, PASSWORD, { ip: source })).status).toBe(201);
      // The next window: the pair may log in again.
      newWindow();
      expect((await login(a.login, PASSWORD, { ip: source })).status).toBe(201);
    }),
  );

  it(
    "failed logins from one address never lock the login's owner out at another address",
    withFakeLimiters(async () => {
      const victim = await loginAccess();
      const attacker = uniqueIPv4();
      const owner = uniqueIPv4();
      newWindow();
      for (let i = 0; i < LOGIN_LIMIT; i++) {
        expect((await login(victim.login, "guess", { ip: attacker })).status).toBe(401);
      }
      expect((await login(victim.login, PASSWORD, { ip: attacker })).status).toBe(429);
      // The owner, from an address without failures, logs in; so does anyone else from a fresh address.
      expect((await login(victim.login, PASSWORD, { ip: owner })).status).toBe(201);
      // Failures spread over many addresses do not add up either.
      for (let i = 0; i < LOGIN_LIMIT; i++) {
        expect((await login(victim.login, "guess", { ip: uniqueIPv4() })).status).toBe(401);
      }
      expect((await login(victim.login, PASSWORD, { ip: owner })).status).toBe(201);
      expect((await login(victim.login, PASSWORD, { ip: uniqueIPv4() })).status).toBe(201);
    }),
  );

  it(
    "login attempts per source address: 429 for any login from it; other addresses unaffected; then recovery",
    withFakeLimiters(async () => {
      const a = await loginAccess();
      const source = uniqueIPv4();
      newWindow();
      for (let i = 0; i < LOGIN_SOURCE_LIMIT; i++) {
        expect((await login(unique("spray"), PASSWORD, { ip: source })).status).toBe(401);
      }
      const limited = await login(a.login, PASSWORD, { ip: source });
      expect(limited.status).toBe(429);
      expect(limited.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
      expect((await json<ErrorDoc>(limited)).errors[0]?.status).toBe("429");
      // The same address spelled as IPv4-mapped IPv6 is the same source.
      expect((await login(a.login, PASSWORD, { ip: `::ffff:${source}` })).status).toBe(429);
      expect((await login(a.login, PASSWORD, { ip: uniqueIPv4() })).status).toBe(201);
      // The next window: answered again.
      newWindow();
      expect((await login(a.login, PASSWORD, { ip: source })).status).toBe(201);
    }),
  );

  it(
    "an IPv6 source counts per /64, so stepping through one's /64 does not escape the limits",
    withFakeLimiters(async () => {
      const a = await loginAccess();
      const b = await loginAccess();
      const net = randomNet6();
      newWindow();
      // The (login, source) pair: one login guessed from addresses all over one /64.
      for (let i = 0; i < LOGIN_LIMIT; i++) {
        expect((await login(a.login, "guess", { ip: net.host(`7:0:0:0:${i + 1}`) })).status).toBe(401);
      }
      expect((await login(a.login, PASSWORD, { ip: net.host("7:ffff:ffff:ffff:ffff") })).status).toBe(429);
      // The source: many logins from the same /64.
      for (let i = LOGIN_LIMIT + 1; i < LOGIN_SOURCE_LIMIT; i++) {
        expect((await login(unique("spray"), PASSWORD, { ip: net.host(`7:0:0:1:${i}`) })).status).toBe(401);
      }
      expect((await login(b.login, PASSWORD, { ip: net.host("7:1:2:3:4") })).status).toBe(429);
      // Another /64 of the same /48 is another source.
      expect((await login(a.login, PASSWORD, { ip: net.host("8::1") })).status).toBe(201);
    }),
  );

  it(
    "export creation per customer: 429 with Retry-After; other customers unaffected; then recovery",
    withFakeLimiters(async () => {
      const t = await tenant();
      const other = await tenant();
      newWindow();
      // Refused requests count too: every creation attempt does.
      for (let i = 0; i < EXPORT_LIMIT; i++) {
        const res = await call(`${CUSTOMER}/cdr-exports`, {
          method: "POST",
          headers: { Authorization: t.auth, "Content-Type": "text/plain" },
          body: "x",
        });
        expect(res.status).toBe(415);
      }
      const limited = await customer(t.auth, "POST", "/cdr-exports", createBody(t.accountUuid));
      expect(limited.status).toBe(429);
      expect(limited.headers.get("Content-Type")).toBe(JSON_API);
      expect(limited.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
      expect((await json<ErrorDoc>(limited)).errors).toEqual([
        expect.objectContaining({ status: "429", title: "Too Many Requests" }),
      ]);
      // Nothing was created; reading is not limited.
      const list = await customer(t.auth, "GET", "/cdr-exports");
      expect(list.status).toBe(200);
      expect((await json<{ data: unknown[] }>(list)).data).toEqual([]);
      // Another access of the same customer shares the customer's limit.
      const sibling = await admin("POST", "/api-accesses", {
        data: {
          type: "api-accesses",
          attributes: { login: unique("sibling"), password: PASSWORD },
          relationships: { customer: { data: { type: "contractors", id: t.customer.id } } },
        },
      });
      expect(sibling.status).toBe(201);
      const siblingJwt = await token({
        sub: Number((await json<{ data: { id: string } }>(sibling)).data.id),
        aud: ["customer-v1"],
      });
      expect(
        (await customer(`Bearer ${siblingJwt}`, "POST", "/cdr-exports", createBody(t.accountUuid))).status,
      ).toBe(429);
      expect((await customer(other.auth, "POST", "/cdr-exports", createBody(other.accountUuid))).status).toBe(
        201,
      );
      // The next window: answered again.
      newWindow();
      expect((await customer(t.auth, "POST", "/cdr-exports", createBody(t.accountUuid))).status).toBe(201);
    }),
  );
});

describe("the /auth routes' OpenAPI definitions", () => {
  it("generate the three operations, the login body's media types and its error responses", async () => {
    const { auth } = await import("../src/routes/customer/auth");
    const doc = auth.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "auth", version: "v1" } });
    const path = doc.paths?.["/"];
    expect(Object.keys(path ?? {}).sort()).toEqual(["delete", "get", "post"]);
    expect(
      Object.keys(
        path?.post?.requestBody && "content" in path.post.requestBody ? path.post.requestBody.content : {},
      ),
    ).toEqual(["application/json", JSON_API, "application/x-www-form-urlencoded", "multipart/form-data"]);
    expect(Object.keys(path?.post?.responses ?? {})).toEqual(["201", "400", "401", "413", "429"]);
    expect(Object.keys(path?.get?.responses ?? {})).toEqual(["200", "401"]);
  });
});
