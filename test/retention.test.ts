// Retention (cron): Completed exports older than EXPORT_RETENTION_DAYS become Deleted and lose their files;
// younger ones and other statuses stay; uploads Failed exports left open are aborted; 100 a run.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "../src/db/client";
import { cdrExports } from "../src/db/schema";
import worker from "../src/index";
import { applyRetention } from "../src/pipeline/lifecycle";
import { customer, type ExportInsert, seedExport, type Tenant, tenant } from "./helpers/api";
import { exportRow, keysOf, uploadOpen } from "./helpers/exports";

const DAY = 86_400_000;
const NOW = Date.UTC(2030, 0, 15, 12);
const DAYS = Number(env.EXPORT_RETENTION_DAYS);

let t: Tenant;

beforeAll(async () => {
  t = await tenant();
  expect(DAYS).toBe(7);
});

const keyOf = (uuid: string) => `exports/${uuid}.csv.gz`;

/** A Completed export whose file is stored, last updated `age` ms before NOW. */
async function completedAged(age: number, values: Partial<ExportInsert> = {}) {
  const uuid = crypto.randomUUID();
  await env.EXPORTS_BUCKET.put(keyOf(uuid), "gzip bytes");
  return seedExport(t.accountId, {
    uuid,
    status: "Completed",
    rowsCount: 1,
    objectKey: keyOf(uuid),
    objectSize: 10,
    createdAt: NOW - age - 60_000,
    updatedAt: NOW - age,
    ...values,
  });
}

/** Sets updated_at straight in D1. */
async function age(id: number, updatedAt: number) {
  await env.DB.prepare("UPDATE cdr_exports SET updated_at = ? WHERE id = ?").bind(updatedAt, id).run();
}

/** Runs retention until nothing is left to expire at `now` (the batch is bounded). */
async function drain(now: number) {
  for (let i = 0; i < 100; i++) if ((await applyRetention(env, now)).expired === 0) return;
}

describe("applyRetention", () => {
  it("deletes only Completed exports older than the retention, with their files", async () => {
    const old = await completedAged(DAYS * DAY + 60_000);
    const veryOld = await completedAged(400 * DAY);
    const young = await completedAged(DAYS * DAY - 60_000);
    const fresh = await completedAged(0);
    const result = await applyRetention(env, NOW);
    expect(result.expired).toBeGreaterThanOrEqual(2);
    for (const row of [old, veryOld]) {
      const after = await exportRow(row.uuid);
      expect(after.status).toBe("Deleted");
      expect(after.updated_at).toBe(NOW);
      expect(after.object_key).toBeNull();
      expect(await env.EXPORTS_BUCKET.head(keyOf(row.uuid))).toBeNull();
    }
    for (const row of [young, fresh]) {
      const after = await exportRow(row.uuid);
      expect(after.status).toBe("Completed");
      expect(after.object_key).toBe(keyOf(row.uuid));
      expect(await env.EXPORTS_BUCKET.head(keyOf(row.uuid))).not.toBeNull();
    }
  });

  it("keeps an export exactly at the retention boundary, deletes it a millisecond later", async () => {
    const row = await completedAged(DAYS * DAY);
    await applyRetention(env, NOW);
    expect((await exportRow(row.uuid)).status).toBe("Completed");
    await applyRetention(env, NOW + 1);
    expect((await exportRow(row.uuid)).status).toBe("Deleted");
  });

  it("ages by updated_at (set in D1), not created_at", async () => {
    const row = await completedAged(0, { createdAt: NOW - 100 * DAY });
    await applyRetention(env, NOW);
    expect((await exportRow(row.uuid)).status).toBe("Completed");
    await age(row.id, NOW - 8 * DAY);
    await applyRetention(env, NOW);
    expect((await exportRow(row.uuid)).status).toBe("Deleted");
    expect(await env.EXPORTS_BUCKET.head(keyOf(row.uuid))).toBeNull();
  });

  it("leaves Pending, Failed and Deleted exports of any age alone", async () => {
    const rows = await Promise.all(
      (["Pending", "Failed", "Deleted"] as const).map((status) =>
        seedExport(t.accountId, { status, createdAt: NOW - 300 * DAY, updatedAt: NOW - 300 * DAY }),
      ),
    );
    await applyRetention(env, NOW);
    for (const row of rows) {
      const after = await exportRow(row.uuid);
      expect(after.status).toBe(row.status);
      expect(after.updated_at).toBe(NOW - 300 * DAY);
    }
  });

  it("follows EXPORT_RETENTION_DAYS", async () => {
    const row = await completedAged(2 * DAY);
    await applyRetention(env, NOW);
    expect((await exportRow(row.uuid)).status).toBe("Completed");
    await applyRetention({ ...env, EXPORT_RETENTION_DAYS: "1" } as Env, NOW);
    expect((await exportRow(row.uuid)).status).toBe("Deleted");
  });

  it("aborts the open multipart upload of a Failed export and removes its tail, keeping it Failed", async () => {
    const uuid = crypto.randomUUID();
    const upload = await env.EXPORTS_BUCKET.createMultipartUpload(keyOf(uuid));
    const part = await upload.uploadPart(1, new Uint8Array(5 * 1024 * 1024));
    const tail = `${keyOf(uuid)}.tail-2`;
    await env.EXPORTS_BUCKET.put(tail, "tail bytes");
    await seedExport(t.accountId, {
      uuid,
      status: "Failed",
      uploadId: upload.uploadId,
      parts: [{ partNumber: 1, etag: part.etag }],
      tailKey: tail,
      tailSize: 10,
      updatedAt: NOW - 60_000,
    });
    expect(await uploadOpen(keyOf(uuid), upload.uploadId)).toBe(true);
    const result = await applyRetention(env, NOW);
    expect(result.aborted).toBeGreaterThanOrEqual(1);
    expect(await uploadOpen(keyOf(uuid), upload.uploadId)).toBe(false);
    expect(await keysOf(uuid)).toEqual([]);
    const after = await exportRow(uuid);
    expect(after.status).toBe("Failed");
    expect(after.upload_id).toBeNull();
    expect(after.tail_key).toBeNull();
    expect(JSON.parse(after.parts as string)).toEqual([]);
  });

  it("finishes the clean-up of a Deleted export that still holds its file (an interrupted delete)", async () => {
    const row = await completedAged(0);
    await env.DB.prepare("UPDATE cdr_exports SET status = 'Deleted' WHERE id = ?").bind(row.id).run();
    await applyRetention(env, NOW);
    expect(await env.EXPORTS_BUCKET.head(keyOf(row.uuid))).toBeNull();
    expect((await exportRow(row.uuid)).object_key).toBeNull();
  });

  it("goes on with the other exports when one cannot be cleaned", async () => {
    const first = await completedAged(30 * DAY);
    const second = await completedAged(29 * DAY);
    const flaky = new Proxy(env.EXPORTS_BUCKET, {
      get(target, prop) {
        if (prop === "delete") {
          return async (keys: string | string[]) => {
            if ([keys].flat().includes(keyOf(first.uuid))) throw new Error("injected R2 failure: delete");
            return target.delete(keys);
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await applyRetention({ ...env, EXPORTS_BUCKET: flaky } as Env, NOW);
    // The first is marked Deleted but keeps its file; the second is fully cleaned.
    expect((await exportRow(first.uuid)).status).toBe("Deleted");
    expect(await env.EXPORTS_BUCKET.head(keyOf(first.uuid))).not.toBeNull();
    expect((await exportRow(second.uuid)).status).toBe("Deleted");
    expect(await env.EXPORTS_BUCKET.head(keyOf(second.uuid))).toBeNull();
    // The next run finishes the first.
    await applyRetention(env, NOW);
    expect(await env.EXPORTS_BUCKET.head(keyOf(first.uuid))).toBeNull();
    expect((await exportRow(first.uuid)).object_key).toBeNull();
  });

  it("deletes at most 100 exports a run, oldest first", async () => {
    await drain(NOW);
    const n = 130;
    const d = db(env);
    const rows = Array.from({ length: n }, (_, i) => ({
      uuid: crypto.randomUUID(),
      status: "Completed" as const,
      filters: {},
      fields: ["time_start"],
      createdAt: NOW - 20 * DAY,
      // Index 0 is the oldest.
      updatedAt: NOW - 20 * DAY + i * 1000,
      customerAccountId: t.accountId,
    }));
    const [head, ...rest] = rows.map((row) => d.insert(cdrExports).values(row));
    if (head) await d.batch([head, ...rest]);
    expect((await applyRetention(env, NOW)).expired).toBe(100);
    const status = async (i: number) => (await exportRow(rows[i]?.uuid as string)).status;
    expect(await status(0)).toBe("Deleted");
    expect(await status(99)).toBe("Deleted");
    expect(await status(100)).toBe("Completed");
    expect(await status(129)).toBe("Completed");
    expect((await applyRetention(env, NOW)).expired).toBe(30);
    expect(await status(129)).toBe("Deleted");
    expect((await applyRetention(env, NOW)).expired).toBe(0);
  });
});

describe("retention through the cron handler", () => {
  it("the scheduled handler applies retention at its scheduled time; the customer then sees Deleted", async () => {
    const row = await completedAged(10 * DAY);
    const controller = createScheduledController({ scheduledTime: NOW, cron: "*/5 * * * *" });
    await worker.scheduled(controller, env);
    expect(await env.EXPORTS_BUCKET.head(keyOf(row.uuid))).toBeNull();
    const res = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}`);
    const { data } = (await res.json()) as { data: { attributes: { status: string } } };
    expect(data.attributes.status).toBe("Deleted");
    const download = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}/download`);
    expect(download.status).toBe(404);
    await download.arrayBuffer();
  });
});
