// D1 read replication on the customer API: one session per request, `x-d1-bookmark` in and out, and
// read-your-writes for clients that send no bookmark (every Yeti client).
import { describe, expect, it } from "vitest";
import { admin, CUSTOMER, createBody, JSON_API, json, seedExport, tenant } from "./helpers/api";
import { capturingEnv } from "./helpers/cdrs";
import { countingD1, fetchCounted } from "./helpers/counting-d1";

const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

function request(
  auth: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
) {
  return new Request(`${CUSTOMER}${path}`, {
    method,
    headers: { Authorization: auth, Accept: JSON_API, "Content-Type": JSON_API, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Sends the request; returns the response, its bookmark and what the request's session was opened with. */
async function send(req: Request) {
  const d1 = countingD1();
  const res = await fetchCounted(d1, req, capturingEnv().env);
  await res.arrayBuffer();
  return { res, bookmark: res.headers.get("x-d1-bookmark"), sessions: d1.sessions };
}

describe("x-d1-bookmark", () => {
  it("a request without one runs on a session that starts at the primary, and answers with its bookmark", async () => {
    const t = await tenant();
    const { res, bookmark, sessions } = await send(request(t.auth, "GET", "/cdr-exports"));
    expect(res.status).toBe(200);
    expect(sessions).toEqual(["first-primary"]);
    expect(bookmark).toMatch(BOOKMARK);
  });

  it("a request with one runs on a session at least that fresh, and answers with the session's bookmark", async () => {
    const t = await tenant();
    const first = await send(request(t.auth, "GET", "/cdr-exports"));
    const given = first.bookmark as string;
    const next = await send(request(t.auth, "GET", "/cdr-exports", { "x-d1-bookmark": given }));
    expect(next.res.status).toBe(200);
    expect(next.sessions).toEqual([given]);
    expect(next.bookmark).toMatch(BOOKMARK);
    expect((next.bookmark as string) >= given).toBe(true);
  });

  it("a value that is no bookmark is read as none (the primary is fresher than any): no error", async () => {
    const t = await tenant();
    for (const value of [
      "garbage",
      "00000000-00000001",
      `${"0".repeat(8)}-${"0".repeat(8)}-${"0".repeat(8)}-zz`,
    ]) {
      const { res, sessions, bookmark } = await send(
        request(t.auth, "GET", "/cdr-exports", { "x-d1-bookmark": value }),
      );
      expect(res.status).toBe(200);
      expect(sessions).toEqual(["first-primary"]);
      expect(bookmark).toMatch(BOOKMARK);
    }
  });

  it("a create's bookmark is past the request's, and a show with it finds the export", async () => {
    const t = await tenant();
    const before = (await send(request(t.auth, "GET", "/cdr-exports"))).bookmark as string;
    const d1 = countingD1();
    const created = await fetchCounted(
      d1,
      request(t.auth, "POST", "/cdr-exports", { "x-d1-bookmark": before }, createBody(t.accountUuid)),
      capturingEnv().env,
    );
    expect(created.status).toBe(201);
    const after = created.headers.get("x-d1-bookmark") as string;
    expect(after > before).toBe(true);
    const { data } = await json<{ data: { id: string } }>(created);
    const shown = await send(request(t.auth, "GET", `/cdr-exports/${data.id}`, { "x-d1-bookmark": after }));
    expect(shown.res.status).toBe(200);
  });

  it("without bookmarks, a show right after its create is 200 (read-your-writes)", async () => {
    const t = await tenant();
    for (let i = 0; i < 5; i++) {
      const d1 = countingD1();
      const created = await fetchCounted(
        d1,
        request(t.auth, "POST", "/cdr-exports", {}, createBody(t.accountUuid)),
        capturingEnv().env,
      );
      expect(created.status).toBe(201);
      const { data } = await json<{ data: { id: string } }>(created);
      const shown = await send(request(t.auth, "GET", `/cdr-exports/${data.id}`));
      expect(shown.res.status).toBe(200);
      expect(shown.sessions).toEqual(["first-primary"]);
    }
  });

  it("comes on errors that read D1 (404, 422, a revoked token's 401) and on 304s", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId);
    const missing = await send(request(t.auth, "GET", `/cdr-exports/${crypto.randomUUID()}`));
    expect(missing.res.status).toBe(404);
    expect(missing.bookmark).toMatch(BOOKMARK);
    const invalid = await send(request(t.auth, "POST", "/cdr-exports", {}, createBody(null)));
    expect(invalid.res.status).toBe(422);
    expect(invalid.bookmark).toMatch(BOOKMARK);
    const shown = await send(request(t.auth, "GET", `/cdr-exports/${row.uuid}`));
    const etag = shown.res.headers.get("ETag") as string;
    const unchanged = await send(
      request(t.auth, "GET", `/cdr-exports/${row.uuid}`, { "If-None-Match": etag }),
    );
    expect(unchanged.res.status).toBe(304);
    expect(unchanged.bookmark).toMatch(BOOKMARK);
    expect((await admin("POST", `/api-accesses/${t.access.id}/revoke-tokens`)).status).toBe(200);
    const revoked = await send(request(t.auth, "GET", "/cdr-exports"));
    expect(revoked.res.status).toBe(401);
    expect(revoked.bookmark).toMatch(BOOKMARK);
  });

  it("a refused token that never reached D1 gets back the bookmark it sent, or none", async () => {
    const given = "00000000-00000001-00000000-00000000000000000000000000000000";
    const echoed = await send(request("Bearer nope", "GET", "/cdr-exports", { "x-d1-bookmark": given }));
    expect(echoed.res.status).toBe(401);
    expect(echoed.bookmark).toBe(given);
    const none = await send(request("Bearer nope", "GET", "/cdr-exports"));
    expect(none.res.status).toBe(401);
    expect(none.bookmark).toBeNull();
  });
});
