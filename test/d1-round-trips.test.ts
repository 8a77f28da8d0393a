// D1 round trips per customer request, counted on the binding the app is given: one per request, the
// API-access check included; and what a request refused in that round trip has written (nothing).
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  CUSTOMER,
  createAccount,
  createBody,
  createContractor,
  customer,
  exportCount,
  JSON_API,
  json,
  seedExport,
  type Tenant,
  tenant,
  token,
} from "./helpers/api";
import { capturingEnv } from "./helpers/cdrs";
import { type CountingD1, countingD1, fetchCounted } from "./helpers/counting-d1";
import { completedExport, withCdrs } from "./helpers/exports";
import { loginToken } from "./helpers/login";

let t: Tenant;
let completed: string;
const d1: CountingD1 = countingD1();

function request(
  auth: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return new Request(`${CUSTOMER}${path}`, {
    method,
    headers: { Authorization: auth, Accept: JSON_API, "Content-Type": JSON_API, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The request's response and the D1 round trips it made. */
async function counted(req: Request, overrides: Partial<Env> = {}) {
  d1.reset();
  const res = await fetchCounted(d1, req, overrides);
  const body =
    res.headers.get("Content-Type") === JSON_API
      ? await res.text()
      : String((await res.arrayBuffer()).byteLength);
  return { res, body, trips: d1.trips(), sql: [...d1.log] };
}

/** A create (no queue message sent, so nothing runs behind the test's back). */
function create(auth: string, body: unknown, headers: Record<string, string> = {}) {
  return counted(request(auth, "POST", "/cdr-exports", body, headers), capturingEnv().env);
}

beforeAll(async () => {
  t = await withCdrs(await tenant(), 5);
  completed = (await completedExport(t)).id;
  await seedExport(t.accountId);
  // This isolate now knows the access's customer (see "the first create through an access" below).
  expect((await customer(t.auth, "GET", "/cdr-exports")).status).toBe(200);
});

describe("one D1 round trip per customer request, the access check included", () => {
  it("POST /cdr-exports: 201 in one batch (access, account, insert)", async () => {
    const { res, trips, sql } = await create(t.auth, createBody(t.accountUuid));
    expect(res.status).toBe(201);
    expect(trips).toBe(1);
    expect(sql[0]).toMatch(/ ;; .*INSERT INTO "cdr_exports"/s);
  });

  it("POST /cdr-exports with an Idempotency-Key, and its retry: one round trip each", async () => {
    const key = { "Idempotency-Key": `"${crypto.randomUUID()}"` };
    const first = await create(t.auth, createBody(t.accountUuid), key);
    expect(first.res.status).toBe(201);
    expect(first.trips).toBe(1);
    const retry = await create(t.auth, createBody(t.accountUuid), key);
    expect(retry.res.status).toBe(201);
    expect(retry.trips).toBe(1);
    expect(JSON.parse(retry.body).data.id).toBe(JSON.parse(first.body).data.id);
  });

  it("POST /cdr-exports refused with 422 or 400: one round trip, nothing written", async () => {
    const before = await exportCount(t.auth);
    const invalid = await create(t.auth, createBody(t.accountUuid, { filters: {} }));
    expect(invalid.res.status).toBe(422);
    expect(invalid.trips).toBe(1);
    const foreign = await create(t.auth, createBody((await tenant()).accountUuid));
    expect(foreign.res.status).toBe(422);
    expect(foreign.trips).toBe(1);
    const malformed = await create(t.auth, { data: { type: "accounts" } });
    expect(malformed.res.status).toBe(400);
    expect(malformed.trips).toBe(1);
    expect(await exportCount(t.auth)).toBe(before);
  });

  it("GET /cdr-exports: page and total in one statement, with and without include", async () => {
    for (const query of [
      "",
      "?include=account",
      "?filter[status_eq]=Completed&sort=-updated-at&page[size]=1",
    ]) {
      const { res, body, trips } = await counted(request(t.auth, "GET", `/cdr-exports${query}`));
      expect(res.status).toBe(200);
      expect(JSON.parse(body).meta["total-count"]).toBeGreaterThan(0);
      expect(trips).toBe(1);
    }
  });

  it("GET /cdr-exports/{id} with include=account, its relationship routes and the download: one each", async () => {
    for (const path of [
      `/cdr-exports/${completed}`,
      `/cdr-exports/${completed}?include=account`,
      `/cdr-exports/${completed}/relationships/account`,
      `/cdr-exports/${completed}/account`,
      `/cdr-exports/${completed}/download`,
    ]) {
      const { res, trips } = await counted(request(t.auth, "GET", path));
      expect(res.status, path).toBe(200);
      expect(trips, path).toBe(1);
    }
    const missing = await counted(request(t.auth, "GET", `/cdr-exports/${crypto.randomUUID()}`));
    expect(missing.res.status).toBe(404);
    expect(missing.trips).toBe(1);
  });

  it.each([
    ["/accounts", 200],
    ["/accounts?sort=-balance&filter[balance_gteq]=0&page[size]=1", 200],
    ["/accounts/{uuid}", 200],
    ["/accounts/{random}", 404],
    ["/accounts/not-a-uuid", 400],
  ])("GET %s: one round trip", async (path, status) => {
    const url = path.replace("{uuid}", t.accountUuid).replace("{random}", crypto.randomUUID());
    const { res, trips } = await counted(request(t.auth, "GET", url));
    expect(res.status).toBe(status);
    expect(trips).toBe(1);
  });

  it("GET /auth, a signed download link, and a list with a bad filter (400): one each", async () => {
    const auth = await counted(request(t.auth, "GET", "/auth"));
    expect(auth.res.status).toBe(200);
    expect(auth.trips).toBe(1);
    const shown = await json<{ data: { links: { download: string } } }>(
      await customer(t.auth, "GET", `/cdr-exports/${completed}`),
    );
    const link = await counted(new Request(shown.data.links.download));
    expect(link.res.status).toBe(200);
    expect(link.trips).toBe(1);
    const bad = await counted(request(t.auth, "GET", "/cdr-exports?filter[foo]=1"));
    expect(bad.res.status).toBe(400);
    expect(bad.trips).toBe(1);
  });

  it("a sub D token: one round trip for create, list and show", async () => {
    const auth = `Bearer ${await token({ sub: "D", aud: ["customer-v1"], cfg: { customer_id: Number(t.customer.id) } })}`;
    expect((await create(auth, createBody(t.accountUuid))).trips).toBe(1);
    expect((await counted(request(auth, "GET", "/cdr-exports"))).trips).toBe(1);
    expect((await counted(request(auth, "GET", `/cdr-exports/${completed}`))).trips).toBe(1);
  });

  it("the first create through an access this isolate has not seen yet: a second round trip before the insert", async () => {
    // The per-customer creation limit must count the request before anything is written, and the access's
    // customer is only known from the database; once known (from any request), creates take one.
    const fresh = await tenant();
    const first = await create(fresh.auth, createBody(fresh.accountUuid));
    expect(first.res.status).toBe(201);
    expect(first.trips).toBe(2);
    expect((await create(fresh.auth, createBody(fresh.accountUuid))).trips).toBe(1);
  });

  it("a token from POST /auth names the access's customer (cid): its first create is one round trip", async () => {
    const fresh = await tenant();
    const jwt = await loginToken(fresh.access.attributes.login as string);
    expect(decodeJwt(jwt).cid).toBe(Number(fresh.customer.id));
    const first = await create(`Bearer ${jwt}`, createBody(fresh.accountUuid));
    expect(first.res.status).toBe(201);
    expect(first.trips).toBe(1);
  });

  it("an access moved to another customer: counted against the new one, created once, in two round trips", async () => {
    const moved = await tenant();
    const jwt = await loginToken(moved.access.attributes.login as string);
    const target = await createContractor();
    const targetAccount = await createAccount(target.id);
    const patched = await admin("PATCH", `/api-accesses/${moved.access.id}`, {
      data: {
        type: "api-accesses",
        id: moved.access.id,
        relationships: { customer: { data: { type: "contractors", id: target.id } } },
      },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    // The token's cid still names the old customer: that one's limit counted first, nothing written for
    // it; the round trip tells the new customer, whose limit counts the retry that creates.
    const res = await create(`Bearer ${jwt}`, createBody(targetAccount.attributes.uuid as string));
    expect(res.res.status).toBe(201);
    expect(res.trips).toBe(2);
    expect((await create(`Bearer ${jwt}`, createBody(targetAccount.attributes.uuid as string))).trips).toBe(
      1,
    );
    expect((await create(`Bearer ${jwt}`, createBody(moved.accountUuid))).res.status).toBe(422);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM cdr_exports WHERE customer_account_id = ?")
      .bind(Number(targetAccount.id))
      .first<{ n: number }>();
    expect(rows?.n).toBe(2);
  });
});

describe("DELETE /cdr-exports/{id}", () => {
  it("marks the export in the caller's round trip, removes the files, then records that: two", async () => {
    const done = await completedExport(t);
    const deleted = await counted(request(t.auth, "DELETE", `/cdr-exports/${done.id}`));
    expect(deleted.res.status).toBe(204);
    expect(deleted.trips).toBe(2);
    expect(await env.EXPORTS_BUCKET.head(done.key)).toBeNull();
    // Deleted already, nothing left to remove: one.
    const again = await counted(request(t.auth, "DELETE", `/cdr-exports/${done.id}`));
    expect(again.res.status).toBe(204);
    expect(again.trips).toBe(1);
  });

  it("another customer's export, or a revoked token: one round trip, nothing marked", async () => {
    const row = await seedExport(t.accountId, { status: "Completed" });
    const stranger = await tenant();
    const foreign = await counted(request(stranger.auth, "DELETE", `/cdr-exports/${row.uuid}`));
    expect(foreign.res.status).toBe(404);
    expect(foreign.trips).toBe(1);
    const r = await tenant();
    const own = await seedExport(r.accountId, { status: "Completed" });
    expect((await admin("POST", `/api-accesses/${r.access.id}/revoke-tokens`)).status).toBe(200);
    const revoked = await counted(request(r.auth, "DELETE", `/cdr-exports/${own.uuid}`));
    expect(revoked.res.status).toBe(401);
    expect(revoked.trips).toBe(1);
    const statuses = await env.DB.prepare(
      "SELECT uuid, status FROM cdr_exports WHERE uuid IN (?, ?) ORDER BY uuid",
    )
      .bind(row.uuid, own.uuid)
      .all();
    expect(statuses.results.map((x) => x.status)).toEqual(["Completed", "Completed"]);
  });
});

describe("a request refused in its round trip has written nothing", () => {
  it("a revoked token's create: 401, no export and no Idempotency-Key stored", async () => {
    const r = await tenant();
    expect((await customer(r.auth, "GET", "/cdr-exports")).status).toBe(200);
    expect((await admin("POST", `/api-accesses/${r.access.id}/revoke-tokens`)).status).toBe(200);
    const key = crypto.randomUUID();
    const refused = await create(r.auth, createBody(r.accountUuid), { "Idempotency-Key": key });
    expect(refused.res.status).toBe(401);
    expect(refused.trips).toBe(1);
    const rows = await env.DB.prepare(
      `SELECT (SELECT count(*) FROM cdr_exports WHERE customer_account_id = ?1) AS exports,
         (SELECT count(*) FROM idempotency_keys WHERE "key" = ?2) AS keys`,
    )
      .bind(r.accountId, key)
      .first();
    expect(rows).toEqual({ exports: 0, keys: 0 });
  });

  it("a create from outside the access's allowed networks: 401, nothing written", async () => {
    const r = await tenant({ accessAttributes: { "allowed-ips": ["203.0.113.0/24"] } });
    const from = (ip: string) =>
      counted(
        request(r.auth, "POST", "/cdr-exports", createBody(r.accountUuid), { "CF-Connecting-IP": ip }),
        capturingEnv().env,
      );
    expect((await from("203.0.113.7")).res.status).toBe(201);
    const refused = await from("198.51.100.7");
    expect(refused.res.status).toBe(401);
    expect(refused.trips).toBe(1);
    const { count } = (await env.DB.prepare(
      "SELECT count(*) AS count FROM cdr_exports WHERE customer_account_id = ?",
    )
      .bind(r.accountId)
      .first<{ count: number }>()) ?? { count: -1 };
    expect(count).toBe(1);
  });
});
