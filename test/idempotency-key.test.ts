// Idempotency-Key on POST /cdr-exports (draft-ietf-httpapi-idempotency-key-header): a retry gets the first
// request's export, another body with the key a 422, keys per customer, one export for concurrent
// duplicates, 24 hours of life and the cron's clean-up; requests without a key are unaffected.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KEY_LIFETIME_MS } from "../src/cdr-exports/idempotency";
import worker from "../src/index";
import {
  CUSTOMER,
  createApiAccess,
  createBody,
  exportCount,
  JSON_API,
  json,
  type Tenant,
  tenant,
  token,
} from "./helpers/api";
import { capturingEnv } from "./helpers/cdrs";
import { countingD1, fetchCounted } from "./helpers/counting-d1";

type ErrorDoc = { errors: Record<string, unknown>[] };
type ExportDoc = { data: { id: string; attributes: Record<string, unknown> } };

/**
 * POST /cdr-exports straight to the app, its queue messages only recorded in `sent`: no consumer works
 * behind the tests (some age rows or run the cron).
 */
function post(t: Pick<Tenant, "auth">, body: unknown, key?: string, sent = capturingEnv()) {
  const headers: Record<string, string> = { Authorization: t.auth, "Content-Type": JSON_API };
  if (key !== undefined) headers["Idempotency-Key"] = key;
  const request = new Request(`${CUSTOMER}/cdr-exports`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return fetchCounted(countingD1(), request, sent.env);
}

async function created(res: Response): Promise<ExportDoc["data"]> {
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json<ExportDoc>(res)).data;
}

const newKey = () => `"${crypto.randomUUID()}"`;

describe("Idempotency-Key: the same key and body", () => {
  it("a retry answers 201 with the first request's export; no second export", async () => {
    const t = await tenant();
    const key = newKey();
    const first = await created(await post(t, createBody(t.accountUuid), key));
    const retry = await created(await post(t, createBody(t.accountUuid), key));
    expect(retry.id).toBe(first.id);
    expect(retry).toEqual(first);
    expect(await exportCount(t.auth)).toBe(1);
  });

  it("a retry after the export has moved on shows it as it is now", async () => {
    const t = await tenant();
    const key = newKey();
    const first = await created(await post(t, createBody(t.accountUuid), key));
    await env.DB.prepare(
      "UPDATE cdr_exports SET status = 'Failed', updated_at = updated_at + 1 WHERE uuid = ?",
    )
      .bind(first.id)
      .run();
    const retry = await created(await post(t, createBody(t.accountUuid), key));
    expect(retry.id).toBe(first.id);
    expect(retry.attributes.status).toBe("Failed");
  });

  it("a retry sends no second queue message", async () => {
    const t = await tenant();
    const key = newKey();
    const queue = capturingEnv();
    const first = await created(await post(t, createBody(t.accountUuid), key, queue));
    await created(await post(t, createBody(t.accountUuid), key, queue));
    expect(queue.sent).toEqual([{ exportId: first.id }]);
  });

  it("takes the draft's quoted form and a bare key as the same key", async () => {
    const t = await tenant();
    const id = crypto.randomUUID();
    const first = await created(await post(t, createBody(t.accountUuid), `"${id}"`));
    expect((await created(await post(t, createBody(t.accountUuid), id))).id).toBe(first.id);
    // `"a\\b"` is the draft's spelling of a\b.
    const escaped = await created(await post(t, createBody(t.accountUuid), '"a\\\\b"'));
    expect((await created(await post(t, createBody(t.accountUuid), "a\\b"))).id).toBe(escaped.id);
    expect((await created(await post(t, createBody(t.accountUuid), '"a\\"b"'))).id).not.toBe(escaped.id);
  });

  it("concurrent duplicates create one export, and every one of them answers it", async () => {
    const t = await tenant();
    const key = newKey();
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => post(t, createBody(t.accountUuid), key).then(created)),
    );
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(await exportCount(t.auth)).toBe(1);
  });
});

describe("Idempotency-Key: another body, another customer, no key", () => {
  it("the same key with another body: 422 naming the header, nothing created", async () => {
    const t = await tenant();
    const key = newKey();
    await created(await post(t, createBody(t.accountUuid), key));
    const res = await post(t, createBody(t.otherAccountUuid), key);
    expect(res.status).toBe(422);
    expect(res.headers.get("Content-Type")).toBe("application/vnd.api+json");
    expect((await json<ErrorDoc>(res)).errors).toEqual([
      {
        status: "422",
        title: "is already used for another request",
        detail: "Idempotency-Key - is already used for another request",
        source: { header: "Idempotency-Key" },
      },
    ]);
    expect(await exportCount(t.auth)).toBe(1);
  });

  it("keys are per customer: another customer's same key and body is its own export", async () => {
    const a = await tenant();
    const b = await tenant();
    const key = newKey();
    const mine = await created(await post(a, createBody(a.accountUuid), key));
    // Were keys global, b's request would be "another body" for a's key: a 422.
    const theirs = await created(await post(b, createBody(b.accountUuid), key));
    expect(theirs.id).not.toBe(mine.id);
    // Used by b with a's account, the key is just a foreign account: 422 is invalid, nothing leaks.
    const probe = await post(b, createBody(a.accountUuid), key);
    expect(probe.status).toBe(422);
    expect((await json<ErrorDoc>(probe)).errors[0]?.detail).toBe("account - is invalid");
  });

  it("two API accesses of one customer share its keys", async () => {
    const t = await tenant();
    const sibling = await createApiAccess(t.customer.id);
    const siblingAuth = `Bearer ${await token({ sub: Number(sibling.id), aud: ["customer-v1"] })}`;
    const key = newKey();
    const first = await created(await post(t, createBody(t.accountUuid), key));
    expect((await created(await post({ auth: siblingAuth }, createBody(t.accountUuid), key))).id).toBe(
      first.id,
    );
  });

  it("a sub D token's keys are its customer's", async () => {
    const t = await tenant();
    const dynamic = `Bearer ${await token({ sub: "D", aud: ["customer-v1"], cfg: { customer_id: Number(t.customer.id) } })}`;
    const key = newKey();
    const first = await created(await post({ auth: dynamic }, createBody(t.accountUuid), key));
    expect((await created(await post(t, createBody(t.accountUuid), key))).id).toBe(first.id);
  });

  it("without a key, every request creates an export", async () => {
    const t = await tenant();
    const a = await created(await post(t, createBody(t.accountUuid)));
    const b = await created(await post(t, createBody(t.accountUuid)));
    expect(a.id).not.toBe(b.id);
    expect(await exportCount(t.auth)).toBe(2);
  });

  it("a request refused with 422 keeps no key: the corrected request with it creates", async () => {
    const t = await tenant();
    const key = newKey();
    const refused = await post(t, createBody(t.accountUuid, { filters: {} }), key);
    expect(refused.status).toBe(422);
    expect((await json<ErrorDoc>(refused)).errors[0]?.detail).toBe("filters - can't be blank");
    await created(await post(t, createBody(t.accountUuid), key));
    expect(await exportCount(t.auth)).toBe(1);
  });
});

describe("Idempotency-Key: malformed values", () => {
  it.each([
    ["too long", "x".repeat(256)],
    ["a space inside", "two words"],
    ["an empty quoted string", '""'],
    ["an unterminated quote", '"abc'],
    ["a bad escape", '"a\\b"'],
    ["a non-ASCII character", "clé"],
  ])("%s: 400 naming the header, nothing created", async (_, value) => {
    const t = await tenant();
    const res = await post(t, createBody(t.accountUuid), value);
    expect(res.status).toBe(400);
    expect((await json<ErrorDoc>(res)).errors).toEqual([
      {
        status: "400",
        title: "Invalid Idempotency-Key",
        detail: "Idempotency-Key - must be a string of 1 to 255 printable ASCII characters",
        source: { header: "Idempotency-Key" },
      },
    ]);
    expect(await exportCount(t.auth)).toBe(0);
  });

  it("takes a key of 255 characters", async () => {
    const t = await tenant();
    await created(await post(t, createBody(t.accountUuid), "k".repeat(255)));
  });
});

describe("Idempotency-Key: 24 hours, then the cron removes it", () => {
  async function age(customerId: string, ms: number) {
    await env.DB.prepare("UPDATE idempotency_keys SET created_at = created_at - ? WHERE customer_id = ?")
      .bind(ms, Number(customerId))
      .run();
  }

  async function keysOf(customerId: string): Promise<number> {
    const row = await env.DB.prepare("SELECT count(*) AS n FROM idempotency_keys WHERE customer_id = ?")
      .bind(Number(customerId))
      .first<{ n: number }>();
    return row?.n ?? -1;
  }

  it("a key used 24 hours ago no longer counts: the same request creates a new export", async () => {
    const t = await tenant();
    const key = newKey();
    const first = await created(await post(t, createBody(t.accountUuid), key));
    await age(t.customer.id, KEY_LIFETIME_MS - 60_000);
    expect((await created(await post(t, createBody(t.accountUuid), key))).id).toBe(first.id);
    await age(t.customer.id, 60_000);
    const again = await created(await post(t, createBody(t.accountUuid), key));
    expect(again.id).not.toBe(first.id);
    // The key now names the new export, for the next 24 hours.
    expect((await created(await post(t, createBody(t.accountUuid), key))).id).toBe(again.id);
    // Another body with it is a 422 again.
    expect((await post(t, createBody(t.otherAccountUuid), key)).status).toBe(422);
  });

  it("the scheduled handler removes lapsed keys and keeps live ones", async () => {
    const t = await tenant();
    await created(await post(t, createBody(t.accountUuid), newKey()));
    await created(await post(t, createBody(t.accountUuid), newKey()));
    await env.DB.prepare(
      "UPDATE idempotency_keys SET created_at = created_at - ? WHERE rowid = (SELECT min(rowid) FROM idempotency_keys WHERE customer_id = ?)",
    )
      .bind(KEY_LIFETIME_MS, Number(t.customer.id))
      .run();
    expect(await keysOf(t.customer.id)).toBe(2);
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), env);
    expect(await keysOf(t.customer.id)).toBe(1);
  });
});
