// Export callbacks: queued when an export with a callback-url ends (Completed or Failed), delivered by the
// queue consumer as a JSON POST, retried with backoff, given up after 5 attempts, never for a refused URL,
// and never changing the export. Fetches go to a fake network (test/helpers/network.ts).
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type ExportRow, insertExport, type NewExport } from "../src/db/queries/cdr-exports";
import type { CallbackMessage } from "../src/pipeline/callbacks";
import { handleCallbackMessage, handleExportBatch, handleExportMessage } from "../src/pipeline/consumer";
import { runExport } from "../src/pipeline/run-export";
import { type Tenant, tenant } from "./helpers/api";
import { capturingEnv, dbFailingOn } from "./helpers/cdrs";
import { exportRow, withCdrs } from "./helpers/exports";
import { type Answer, type Call, fakeNetwork } from "./helpers/network";

const HOOK = "https://hooks.example.com/cdr-exports/done?token=abc";
const RANGE = { time_start_gteq: "2019-01-01T00:00:00.000Z", time_start_lt: "2019-01-02T00:00:00.000Z" };

let t: Tenant;

beforeAll(async () => {
  t = await withCdrs(await tenant(), 12);
});

function exportWith(overrides: Partial<NewExport> = {}): Promise<ExportRow> {
  return insertExport(env, {
    filters: { ...RANGE, customer_id_eq: Number(t.customer.id) },
    fields: ["uuid", "time_start"],
    timeFormat: "with_timezone",
    timeZoneName: null,
    callbackUrl: HOOK,
    customerAccountId: null,
    ...overrides,
  });
}

/** Runs the export to its end with a capturing queue; returns what it sent. */
async function finish(row: ExportRow): Promise<unknown[]> {
  const { env: e, sent } = capturingEnv();
  expect(await runExport(e, { exportId: row.uuid })).toBe("completed");
  return sent;
}

/** A fake network answering `answer` to the callback; the DNS queries are answered on the way. */
function fakeFetcher(answer: Answer = 200): { fetcher: typeof fetch; calls: Call[] } {
  const { fetcher, posts } = fakeNetwork(answer);
  return { fetcher, calls: posts };
}

/** Hands one callback message to handleCallbackMessage; returns acks, retries and the retry delays. */
async function deliver(uuid: string, attempts: number, fetcher: typeof fetch, e: Env = env) {
  const id = `cb-${crypto.randomUUID().slice(0, 8)}`;
  const batch = createMessageBatch<CallbackMessage>("cdr-exports", [
    { id, timestamp: new Date(), attempts, body: { callbackFor: uuid } },
  ]);
  const message = batch.messages[0] as Message<CallbackMessage>;
  const retry = vi.spyOn(message, "retry");
  await handleCallbackMessage(e, message, fetcher);
  const result = await getQueueResult(batch, createExecutionContext());
  return {
    acked: result.explicitAcks.includes(id),
    retried: result.retryMessages.some((m) => m.msgId === id),
    delays: retry.mock.calls.map((c) => c[0]?.delaySeconds),
  };
}

describe("callback messages", () => {
  it("sends {callbackFor} to the queue when an export with a callback-url completes", async () => {
    const row = await exportWith();
    expect(await finish(row)).toEqual([{ callbackFor: row.uuid }]);
    expect((await exportRow(row.uuid)).status).toBe("Completed");
  });

  it("sends none for an export without a callback-url", async () => {
    const row = await exportWith({ callbackUrl: null });
    expect(await finish(row)).toEqual([]);
  });

  it("sends {callbackFor} when an export fails (a permanent error)", async () => {
    const row = await exportWith({ fields: ["time_start", "no_such_column"] });
    const { env: e, sent } = capturingEnv();
    const batch = createMessageBatch("cdr-exports", [
      { id: "f-1", timestamp: new Date(), attempts: 1, body: { exportId: row.uuid } },
    ]);
    await handleExportMessage(e, batch.messages[0] as Message<unknown>);
    expect((await exportRow(row.uuid)).status).toBe("Failed");
    expect(sent).toEqual([{ callbackFor: row.uuid }]);
  });

  it("completes the export even when the callback cannot be queued", async () => {
    const row = await exportWith();
    const broken = {
      send: async (body: unknown) => {
        if ((body as Partial<CallbackMessage>).callbackFor) throw new Error("injected queue failure");
      },
    } as unknown as Queue;
    const { env: e } = capturingEnv({ EXPORTS_QUEUE: broken });
    expect(await runExport(e, { exportId: row.uuid })).toBe("completed");
    expect((await exportRow(row.uuid)).status).toBe("Completed");
  });
});

describe("callback delivery (handleCallbackMessage with a fake fetcher)", () => {
  let done: ExportRow;
  beforeAll(async () => {
    done = await exportWith();
    await finish(done);
  });

  it("POSTs {export_id, uuid, status} as JSON to the URL, redirect manual, and acks a 2xx", async () => {
    const { fetcher, calls } = fakeFetcher(200);
    const result = await deliver(done.uuid, 1, fetcher);
    expect(result).toEqual({ acked: true, retried: false, delays: [] });
    expect(calls.length).toBe(1);
    const [call] = calls as [Call];
    expect(call.url).toBe(HOOK);
    expect(call.init.method).toBe("POST");
    expect(new Headers(call.init.headers).get("Content-Type")).toBe("application/json");
    expect(call.init.redirect).toBe("manual");
    expect(call.init.signal).toBeInstanceOf(AbortSignal);
    expect(JSON.parse(call.init.body as string)).toEqual({
      export_id: done.id,
      uuid: done.uuid,
      status: "Completed",
    });
  });

  it("acks any 2xx (204)", async () => {
    const { fetcher } = fakeFetcher(204);
    expect((await deliver(done.uuid, 1, fetcher)).acked).toBe(true);
  });

  it("retries a 500 answer with backoff delays (10 s, 20 s, 40 s, 80 s)", async () => {
    const { fetcher, calls } = fakeFetcher(500);
    for (const [attempts, delay] of [
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 80],
    ] as const) {
      expect(await deliver(done.uuid, attempts, fetcher)).toEqual({
        acked: false,
        retried: true,
        delays: [delay],
      });
    }
    expect(calls.length).toBe(4);
  });

  it("retries a network error and a 4xx", async () => {
    for (const answer of [new TypeError("Network connection lost."), 404, 429]) {
      const { fetcher, calls } = fakeFetcher(answer);
      expect(await deliver(done.uuid, 1, fetcher)).toEqual({ acked: false, retried: true, delays: [10] });
      expect(calls.length).toBe(1);
    }
  });

  it("does not follow a redirect to a refused target (the metadata address): acked, nothing else fetched", async () => {
    const { fetcher, calls } = fakeFetcher(302);
    expect(await deliver(done.uuid, 1, fetcher)).toEqual({ acked: true, retried: false, delays: [] });
    expect(calls.map((c) => c.url)).toEqual([HOOK]);
  });

  it("gives up (acks) after the 5th failed attempt", async () => {
    const { fetcher, calls } = fakeFetcher(500);
    expect(await deliver(done.uuid, 5, fetcher)).toEqual({ acked: true, retried: false, delays: [] });
    expect(await deliver(done.uuid, 6, fetcher)).toEqual({ acked: true, retried: false, delays: [] });
    expect(calls.length).toBe(2);
  });

  it("leaves the export's status and file alone whatever the callback answers", async () => {
    // The callback's own columns aside: they tell the operator what the callback came to.
    const { callback_status: _s, callback_error: _e, ...before } = await exportRow(done.uuid);
    for (const answer of [500, new Error("boom"), 302]) {
      const { fetcher } = fakeFetcher(answer);
      await deliver(done.uuid, 5, fetcher);
    }
    const { callback_status: _s2, callback_error: _e2, ...after } = await exportRow(done.uuid);
    expect(after).toEqual(before);
    expect(after.status).toBe("Completed");
    expect(await env.EXPORTS_BUCKET.head(`exports/${done.uuid}.csv.gz`)).not.toBeNull();
  });

  it("reports a Failed export with status Failed", async () => {
    const row = await exportWith({ fields: ["no_such_column"] });
    const { env: e } = capturingEnv();
    const batch = createMessageBatch("cdr-exports", [
      { id: "f-2", timestamp: new Date(), attempts: 1, body: { exportId: row.uuid } },
    ]);
    await handleExportMessage(e, batch.messages[0] as Message<unknown>);
    const { fetcher, calls } = fakeFetcher(200);
    expect((await deliver(row.uuid, 1, fetcher)).acked).toBe(true);
    expect(JSON.parse(calls[0]?.init.body as string)).toEqual({
      export_id: row.id,
      uuid: row.uuid,
      status: "Failed",
    });
  });

  it("never fetches a refused (private) URL stored on an export, and acks the message", async () => {
    for (const url of [
      "https://127.0.0.1/hook",
      "https://[::ffff:169.254.169.254]/",
      "http://hooks.example.com/",
    ]) {
      const row = await exportWith({ callbackUrl: url });
      await finish(row);
      const { fetcher, calls } = fakeFetcher(200);
      expect(await deliver(row.uuid, 1, fetcher), url).toEqual({ acked: true, retried: false, delays: [] });
      expect(calls, url).toEqual([]);
    }
  });

  it("allows an http URL only with CALLBACK_ALLOW_HTTP=true", async () => {
    const row = await exportWith({ callbackUrl: "http://hooks.example.com/cdr" });
    await finish(row);
    const { fetcher, calls } = fakeFetcher(200);
    const e = { ...env, CALLBACK_ALLOW_HTTP: "true" } as Env;
    expect((await deliver(row.uuid, 1, fetcher, e)).acked).toBe(true);
    expect(calls.map((c) => c.url)).toEqual(["http://hooks.example.com/cdr"]);
  });

  it("acks without fetching for an unknown export, a Pending one, a Deleted one, or one without a URL", async () => {
    const pending = await exportWith();
    const deleted = await exportWith();
    await finish(deleted);
    await env.DB.prepare("UPDATE cdr_exports SET status = 'Deleted' WHERE id = ?").bind(deleted.id).run();
    const noUrl = await exportWith({ callbackUrl: null });
    await finish(noUrl);
    for (const uuid of [crypto.randomUUID(), pending.uuid, deleted.uuid, noUrl.uuid]) {
      const { fetcher, calls } = fakeFetcher(200);
      expect(await deliver(uuid, 1, fetcher)).toEqual({ acked: true, retried: false, delays: [] });
      expect(calls).toEqual([]);
    }
  });
});

describe("callback messages in the batch handler", () => {
  it("drops a callback message that reached the dead-letter queue, leaving the export alone", async () => {
    const row = await exportWith();
    await finish(row);
    const before = await exportRow(row.uuid);
    const batch = createMessageBatch("cdr-exports-dlq", [
      { id: "dlq-cb", timestamp: new Date(), attempts: 1, body: { callbackFor: row.uuid } },
    ]);
    await handleExportBatch(batch, env);
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual(["dlq-cb"]);
    expect(await exportRow(row.uuid)).toEqual(before);
  });

  it("acks a callback message of an export whose URL is refused, without any fetch (real fetch unused)", async () => {
    const row = await exportWith({ callbackUrl: "https://10.0.0.1/" });
    await finish(row);
    const batch = createMessageBatch("cdr-exports", [
      { id: "cb-refused", timestamp: new Date(), attempts: 1, body: { callbackFor: row.uuid } },
    ]);
    await handleExportBatch(batch, env);
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual(["cb-refused"]);
    expect((await exportRow(row.uuid)).status).toBe("Completed");
  });

  it("retries with a delay, rather than failing the batch, when the export cannot be read", async () => {
    const row = await exportWith();
    await finish(row);
    const { fetcher, calls } = fakeFetcher(200);
    const broken = capturingEnv({ DB: dbFailingOn(/from "cdr_exports"/i) }).env;
    expect(await deliver(row.uuid, 1, fetcher, broken)).toEqual({
      acked: false,
      retried: true,
      delays: [10],
    });
    expect(calls).toEqual([]);
  });
});
