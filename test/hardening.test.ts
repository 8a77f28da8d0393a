import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { db } from "../src/db/client";
import { cdrExports } from "../src/db/schema";
import { handleExportBatch, handleExportMessage } from "../src/pipeline/consumer";
import { MIN_PART_SIZE, PartWriter } from "../src/pipeline/part-writer";
import { runExport } from "../src/pipeline/run-export";
import { call, createBody, customer, json, list, seedExport, tenant, token } from "./helpers/api";
import { capturingEnv } from "./helpers/cdrs";

async function rowOf(uuid: string) {
  const row = await db(env).select().from(cdrExports).where(eq(cdrExports.uuid, uuid)).get();
  if (!row) throw new Error(`no export ${uuid}`);
  return row;
}

describe("export invocations that die without an error", () => {
  it("marks the export Failed once its claims at one step exceed EXPORT_MAX_ATTEMPTS", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId, { status: "Pending" });
    // Six earlier claims whose invocations were killed: the lease ran out, nothing was released.
    await db(env)
      .update(cdrExports)
      .set({ attempts: 6, leaseOwner: "dead", leaseUntil: Date.now() - 1 })
      .where(eq(cdrExports.id, row.id));
    const { env: quiet } = capturingEnv();
    expect(await runExport(quiet, { exportId: row.uuid })).toBe("failed");
    const failed = await rowOf(row.uuid);
    expect(failed.status).toBe("Failed");
    expect(failed.error).toBe("retries exhausted");
  });

  it("counts claims and resets the count at each checkpoint", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId, { status: "Pending" });
    const { env: quiet } = capturingEnv();
    expect(await runExport(quiet, { exportId: row.uuid })).toBe("completed");
    expect((await rowOf(row.uuid)).attempts).toBe(1);
  });

  it("retries a busy message later instead of dropping it", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId, { status: "Pending" });
    await db(env)
      .update(cdrExports)
      .set({ leaseOwner: "other", leaseUntil: Date.now() + 60_000 })
      .where(eq(cdrExports.id, row.id));
    const batch = createMessageBatch("cdr-exports", [
      { id: "busy-1", timestamp: new Date(), attempts: 1, body: { exportId: row.uuid } },
    ]);
    const message = batch.messages[0] as Message<unknown>;
    const retry = vi.spyOn(message, "retry");
    await handleExportMessage(env, message);
    expect(retry).toHaveBeenCalledWith({ delaySeconds: 60 });
    expect((await rowOf(row.uuid)).status).toBe("Pending");
  });

  it("ignores a dead-lettered message of an older step", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId, { status: "Pending", step: 2 });
    const batch = createMessageBatch("cdr-exports-dlq", [
      { id: "old", timestamp: new Date(), attempts: 6, body: { exportId: row.uuid, step: 1 } },
    ]);
    await handleExportBatch(batch, env);
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(["old"]);
    expect((await rowOf(row.uuid)).status).toBe("Pending");
  });
});

describe("list requests that would build oversized SQL", () => {
  it("accepts an _in list of 100 values", async () => {
    const t = await tenant();
    const values = Array.from({ length: 100 }, (_, i) => i).join(",");
    const { res } = await list(t.auth, `filter[rows_count_in]=${values}`);
    expect(res.status).toBe(200);
  });

  it("refuses an _in list of 101 values with 400 Invalid filter value", async () => {
    const t = await tenant();
    const values = Array.from({ length: 101 }, (_, i) => i).join(",");
    const { res, body } = await list(t.auth, `filter[rows_count_in]=${values}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(body)).toContain("Invalid filter value");
  });

  it("refuses more than 20 filters with 400", async () => {
    const t = await tenant();
    // A repeated key is one filter (the last wins, as in Rails): 21 different ones.
    const ops = ["eq", "not_eq", "gt", "gteq", "lt", "lteq", "in", "not_in"];
    const query = [
      ...ops.map((op) => `filter[rows_count_${op}]=1`),
      ...ops.map((op) => `filter[created_at_${op}]=2024-01-01`),
      ...["eq", "not_eq", "in", "not_in", "cont"].map((op) => `filter[time_zone_name_${op}]=x`),
    ].join("&");
    const { res } = await list(t.auth, query);
    expect(res.status).toBe(400);
  });

  it("answers sort=constructor with 400 Invalid sort criteria, not 500", async () => {
    const t = await tenant();
    const { res, body } = await list(t.auth, "sort=constructor");
    expect(res.status).toBe(400);
    expect(JSON.stringify(body)).toContain("Invalid sort criteria");
  });

  it("serves a dynamic token restricted to 121 accounts", async () => {
    const t = await tenant();
    const ids = [t.accountId, ...Array.from({ length: 120 }, (_, i) => 1_000_000 + i)];
    const jwt = await token({
      sub: "D",
      aud: ["customer-v1"],
      cfg: { customer_id: Number(t.customer.id), account_ids: ids },
    });
    const res = await customer(`Bearer ${jwt}`, "GET", "/cdr-exports");
    expect(res.status).toBe(200);
  });
});

describe("other inputs that must not reach a 500", () => {
  it("refuses a time zone name in the wrong case, as Yeti's list does", async () => {
    const t = await tenant();
    const res = await customer(
      t.auth,
      "POST",
      "/cdr-exports",
      createBody(t.accountUuid, { "time-zone-name": "europe/kyiv" }),
    );
    expect(res.status).toBe(422);
    const body = await json<{ errors: { detail: string }[] }>(res);
    expect(body.errors.map((e) => e.detail)).toEqual(["time-zone-name - is not included in the list"]);
  });

  it("answers 404 for a docs asset named like an Object property", async () => {
    const res = await call("http://example.org/docs/assets/constructor");
    expect(res.status).toBe(404);
  });
});

describe("a writer that lost its lease", () => {
  it("renews before sending a part, so it stops without touching the upload", async () => {
    let uploads = 0;
    const bucket = new Proxy(env.EXPORTS_BUCKET, {
      get(target, prop) {
        if (prop === "createMultipartUpload") {
          return (...args: Parameters<R2Bucket["createMultipartUpload"]>) => {
            uploads++;
            return target.createMultipartUpload(...args);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const writer = new PartWriter(
      bucket,
      `exports/${crypto.randomUUID()}.csv.gz`,
      MIN_PART_SIZE,
      { httpMetadata: { contentType: "application/gzip" } },
      { uploadId: null, parts: [] },
      {
        beforePart: async () => {
          throw new Error("lease lost");
        },
      },
    );
    await expect(writer.write(new Uint8Array(MIN_PART_SIZE))).rejects.toThrow("lease lost");
    expect(uploads).toBe(0);
    expect(writer.parts).toEqual([]);
  });
});
