// Revocation: DELETE /auth ends the session that calls it; the operator revokes every token of an API access
// or of a customer; revoked or deleted credentials also stop the download links they made; the cron clean-up.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { purgeRevokedSessions } from "../src/auth/revocation";
import { dataOf, errorsOf } from "./helpers/admin";
import {
  admin,
  CUSTOMER,
  call,
  createApiAccess,
  customer,
  json,
  type Tenant,
  tenant,
  token,
} from "./helpers/api";
import { bodyBytes, completedExport, withCdrs } from "./helpers/exports";
import {
  AUTH,
  fetchWithVars,
  login,
  loginToken,
  PASSWORD,
  SESSION_COOKIE,
  sessionSetCookie,
  sleep,
} from "./helpers/login";

const AUD = ["customer-v1"];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** GET /auth with the headers given: 200 for a live session, 401 for a revoked one. */
async function authStatus(headers: Record<string, string>): Promise<number> {
  const res = await call(AUTH, { headers });
  await res.arrayBuffer();
  return res.status;
}

const bearer = (jwt: string) => ({ Authorization: `Bearer ${jwt}` });

async function logout(headers: Record<string, string>): Promise<void> {
  const res = await call(AUTH, { method: "DELETE", headers });
  expect(res.status).toBe(204);
  expect(sessionSetCookie(res)).toMatch(new RegExp(`^${SESSION_COOKIE}=logout;`));
}

/** The session cookie (name=value) a response sets. */
function cookieOf(res: Response): string {
  const set = sessionSetCookie(res);
  if (!set) throw new Error("no session cookie");
  return set.split(";")[0] ?? "";
}

async function revoke(path: string) {
  return dataOf(await admin("POST", `${path}/revoke-tokens`));
}

/** A `sub: "D"` token for the customer, as the operator's systems mint them (no sid; iat optional). */
function dynamicToken(customerId: string, claims: Record<string, unknown> = {}) {
  return token({ sub: "D", aud: AUD, cfg: { customer_id: Number(customerId) }, ...claims });
}

describe("DELETE /auth ends the session that calls it", () => {
  it("a bearer token: refused everywhere afterwards (401), while another login of the access works", async () => {
    const t = await tenant();
    const login1 = t.access.attributes.login as string;
    const jwt = await loginToken(login1);
    const other = await loginToken(login1);
    expect(decodeJwt(jwt)).toMatchObject({ sub: Number(t.access.id), iat: expect.any(Number) });
    expect(decodeJwt(jwt).sid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await authStatus(bearer(jwt))).toBe(200);
    await logout(bearer(jwt));
    expect(await authStatus(bearer(jwt))).toBe(401);
    const list = await customer(`Bearer ${jwt}`, "GET", "/cdr-exports");
    expect(list.status).toBe(401);
    expect(await json(list)).toEqual({
      errors: [
        {
          status: "401",
          title: "Authorization failed",
          detail: "Authorization token expired or incorrect.",
          code: "401",
        },
      ],
    });
    // The same token spelled as a bare header, or sent as the cookie, is the same session.
    expect(await authStatus({ Authorization: jwt })).toBe(401);
    expect(await authStatus({ Cookie: `${SESSION_COOKIE}=${jwt}` })).toBe(401);
    expect(await authStatus(bearer(other))).toBe(200);
    expect((await customer(`Bearer ${other}`, "GET", "/cdr-exports")).status).toBe(200);
  });

  it("a cookie session: every cookie of it, the refreshed ones and the first, is refused afterwards", async () => {
    const t = await tenant();
    // With a lifetime each refresh carries a new exp, so the refreshed cookie is another token.
    const vars = { CUSTOMER_V1_TOKEN_LIFETIME: "3600" };
    const body = JSON.stringify({
      auth: { login: t.access.attributes.login, password: PASSWORD, cookie_auth: true },
    });
    const loggedIn = await fetchWithVars(
      new Request(AUTH, { method: "POST", headers: { "Content-Type": "application/json" }, body }),
      vars,
    );
    expect(loggedIn.status).toBe(201);
    const first = cookieOf(loggedIn);
    await sleep(1100);
    const refreshedRes = await fetchWithVars(new Request(AUTH, { headers: { Cookie: first } }), vars);
    expect(refreshedRes.status).toBe(200);
    const refreshed = cookieOf(refreshedRes);
    expect(refreshed).not.toBe(first);
    const claims = (c: string) => decodeJwt(c.slice(SESSION_COOKIE.length + 1));
    // The refresh continues the session: same sid and iat, a later exp.
    expect(claims(refreshed).sid).toBe(claims(first).sid);
    expect(claims(refreshed).iat).toBe(claims(first).iat);
    expect(claims(refreshed).exp).toBeGreaterThan(claims(first).exp ?? 0);
    expect(await authStatus({ Cookie: first })).toBe(200);
    await logout({ Cookie: refreshed });
    expect(await authStatus({ Cookie: refreshed })).toBe(401);
    expect(await authStatus({ Cookie: first })).toBe(401);
  });

  it("a sub D token minted elsewhere (no sid): that token is refused, another of the customer is not", async () => {
    const t = await tenant();
    const jwt = await dynamicToken(t.customer.id, { n: 1 });
    const another = await dynamicToken(t.customer.id, { n: 2 });
    expect(await authStatus(bearer(jwt))).toBe(200);
    await logout(bearer(jwt));
    expect(await authStatus(bearer(jwt))).toBe(401);
    expect(await authStatus(bearer(another))).toBe(200);
    // Its refreshed cookie would carry the session on: a cookie of the ended token is refused too.
    expect(await authStatus({ Cookie: `${SESSION_COOKIE}=${jwt}` })).toBe(401);
  });

  it("answers 204 without a token, with an invalid one, or for a deleted access, and revokes nothing then", async () => {
    const t = await tenant();
    await logout({});
    await logout({ Authorization: "Bearer not-a-token" });
    await logout({ Authorization: `Bearer ${await token({ sub: Number(t.access.id), aud: AUD }, "other")}` });
    expect(await authStatus({ Authorization: t.auth })).toBe(200);
    const gone = await tenant();
    expect((await admin("DELETE", `/api-accesses/${gone.access.id}`)).status).toBe(204);
    await logout({ Authorization: gone.auth });
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM revoked_sessions WHERE access_id = ?")
      .bind(Number(gone.access.id))
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });
});

describe("operator: POST /api-accesses/{id}/revoke-tokens", () => {
  it("refuses every token of the access issued so far; a new login works at once; other accesses unaffected", async () => {
    const t = await tenant();
    const sibling = await createApiAccess(t.customer.id);
    const siblingJwt = await loginToken(sibling.attributes.login as string);
    const loginName = t.access.attributes.login as string;
    const issued = await loginToken(loginName);
    const cookie = cookieOf(await login(loginName, PASSWORD, { cookie: true }));
    for (const headers of [{ Authorization: t.auth }, bearer(issued), { Cookie: cookie }]) {
      expect(await authStatus(headers)).toBe(200);
    }
    const revoked = await revoke(`/api-accesses/${t.access.id}`);
    expect(revoked.attributes["tokens-revoked-at"]).toMatch(ISO);
    expect(Date.parse(revoked.attributes["tokens-revoked-at"] as string)).toBeLessThanOrEqual(Date.now());
    // The minted token (no iat), the login's token and the cookie session: all refused.
    for (const headers of [{ Authorization: t.auth }, bearer(issued), { Cookie: cookie }]) {
      expect(await authStatus(headers)).toBe(401);
    }
    expect((await customer(t.auth, "GET", "/cdr-exports")).status).toBe(401);
    // A login in the same second as the revocation gets a token that works.
    const fresh = await loginToken(loginName);
    expect(await authStatus(bearer(fresh))).toBe(200);
    expect(await authStatus(bearer(siblingJwt))).toBe(200);
    // The show route reports the revocation too.
    expect((await dataOf(await admin("GET", `/api-accesses/${t.access.id}`))).attributes).toMatchObject({
      "tokens-revoked-at": revoked.attributes["tokens-revoked-at"],
    });
  });

  it("answers 404 for an unknown access and 401 without the operator token", async () => {
    await errorsOf(await admin("POST", "/api-accesses/999999999/revoke-tokens"), 404);
    const res = await call(`${CUSTOMER.replace("/customer/v1", "/admin")}/api-accesses/1/revoke-tokens`, {
      method: "POST",
    });
    await errorsOf(res, 401);
  });
});

describe("operator: POST /contractors/{id}/revoke-tokens", () => {
  it("refuses the customer's sub D tokens and its accesses' tokens; another customer's are unaffected", async () => {
    const t = await tenant();
    const other = await tenant();
    const now = Math.floor(Date.now() / 1000);
    const dynamic = await dynamicToken(t.customer.id);
    const dynamicWithIat = await dynamicToken(t.customer.id, { iat: now - 5 });
    const accessJwt = await loginToken(t.access.attributes.login as string);
    const otherDynamic = await dynamicToken(other.customer.id);
    for (const jwt of [dynamic, dynamicWithIat, accessJwt, other.jwt, otherDynamic]) {
      expect(await authStatus(bearer(jwt))).toBe(200);
    }
    const revoked = await revoke(`/contractors/${t.customer.id}`);
    expect(revoked.attributes["tokens-revoked-at"]).toMatch(ISO);
    for (const jwt of [dynamic, dynamicWithIat, accessJwt, t.jwt])
      expect(await authStatus(bearer(jwt))).toBe(401);
    for (const jwt of [other.jwt, otherDynamic]) expect(await authStatus(bearer(jwt))).toBe(200);
    // Tokens issued after the revocation work: a login, and a sub D token with a later iat.
    expect(await authStatus(bearer(await loginToken(t.access.attributes.login as string)))).toBe(200);
    const later = await dynamicToken(t.customer.id, { iat: now + 2 });
    expect(await authStatus(bearer(later))).toBe(200);
  });
});

describe("download links end with the credentials that made them", () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await withCdrs(await tenant(), 5);
  });

  /** A Completed export's links.download, as the token `jwt` sees it. */
  async function linkFor(jwt: string, id: string): Promise<string> {
    const res = await customer(`Bearer ${jwt}`, "GET", `/cdr-exports/${id}`);
    expect(res.status).toBe(200);
    const link = (await json<{ data: { links: { download?: string } } }>(res)).data.links.download;
    expect(link).toBeDefined();
    return link ?? "";
  }

  async function expectRevoked(link: string) {
    const res = await call(link);
    expect(res.status).toBe(403);
    expect(await json(res)).toEqual({
      errors: [{ status: "403", title: "Forbidden", detail: "The download link has been revoked." }],
    });
  }

  it("DELETE /auth stops the links the session made; another session's links keep working", async () => {
    const done = await completedExport(t);
    const jwt = await loginToken(t.access.attributes.login as string);
    const other = await loginToken(t.access.attributes.login as string);
    const link = await linkFor(jwt, done.id);
    const otherLink = await linkFor(other, done.id);
    expect((await call(link, { method: "HEAD" })).status).toBe(200);
    await logout(bearer(jwt));
    await expectRevoked(link);
    const res = await call(otherLink);
    expect(res.status).toBe(200);
    expect(await bodyBytes(res)).toEqual(done.bytes);
  });

  it("revoke-tokens on the access, and deleting it, stop its links", async () => {
    const t2 = await withCdrs(await tenant(), 3);
    const done = await completedExport(t2);
    const link = await linkFor(t2.jwt, done.id);
    expect((await call(link, { method: "HEAD" })).status).toBe(200);
    await revoke(`/api-accesses/${t2.access.id}`);
    await expectRevoked(link);

    const fresh = await loginToken(t2.access.attributes.login as string);
    const freshLink = await linkFor(fresh, done.id);
    expect((await call(freshLink, { method: "HEAD" })).status).toBe(200);
    expect((await admin("DELETE", `/api-accesses/${t2.access.id}`)).status).toBe(204);
    await expectRevoked(freshLink);
  });

  it("revoke-tokens on the customer stops the links of its sub D tokens; the operator's links are not the customer's", async () => {
    const t3 = await withCdrs(await tenant(), 3);
    const done = await completedExport(t3);
    const link = await linkFor(await dynamicToken(t3.customer.id), done.id);
    expect(new URL(link).searchParams.get("grant")).toMatch(new RegExp(`^d${t3.customer.id}\\.0\\.`));
    const operatorLink = (
      await json<{ data: { links: { download: string } }[] }>(
        await admin("GET", "/cdr-exports?page[size]=1000"),
      )
    ).data.find((d) => d.links.download?.includes(done.id))?.links.download;
    expect(operatorLink).toBeDefined();
    expect((await call(link, { method: "HEAD" })).status).toBe(200);
    await revoke(`/contractors/${t3.customer.id}`);
    await expectRevoked(link);
    expect((await call(operatorLink ?? "", { method: "HEAD" })).status).toBe(200);
  });

  it("a link whose grant was edited to another access fails its signature (403 not valid)", async () => {
    const done = await completedExport(t);
    const link = new URL(await linkFor(t.jwt, done.id));
    const grant = link.searchParams.get("grant") ?? "";
    link.searchParams.set("grant", grant.replace(/^a\d+/, "a1"));
    const res = await call(link.href);
    expect(res.status).toBe(403);
    expect((await json<{ errors: { detail: string }[] }>(res)).errors[0]?.detail).toBe(
      "The download link is not valid.",
    );
    link.searchParams.set("grant", "operator");
    expect((await call(link.href)).status).toBe(403);
  });
});

describe("cron: purgeRevokedSessions", () => {
  it("drops ended sessions whose token expired or that a later revoke-tokens covers; keeps the rest refused", async () => {
    const t = await tenant();
    const now = Math.floor(Date.now() / 1000);
    const expiring = await token({ sub: Number(t.access.id), aud: AUD, iat: now - 100, exp: now + 2 });
    const lasting = await token({ sub: Number(t.access.id), aud: AUD, iat: now - 100 });
    await logout(bearer(expiring));
    await logout(bearer(lasting));
    const keys = async () =>
      (
        await env.DB.prepare("SELECT key FROM revoked_sessions WHERE access_id = ?")
          .bind(Number(t.access.id))
          .all<{ key: string }>()
      ).results.length;
    expect(await keys()).toBe(2);
    await purgeRevokedSessions(env, (now + 3) * 1000);
    expect(await keys()).toBe(1);
    expect(await authStatus(bearer(lasting))).toBe(401);
    await revoke(`/api-accesses/${t.access.id}`);
    await purgeRevokedSessions(env);
    expect(await keys()).toBe(0);
    // Covered by the revoke-tokens: still refused without its row.
    expect(await authStatus(bearer(lasting))).toBe(401);
  });
});
