// Customer DELETE /cdr-exports/{uuid}: a Completed export's file removed, another customer's refused, and a
// running export cancelled — its multipart upload aborted and its next slice doing nothing.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { insertExport } from "../src/db/queries/cdr-exports";
import { type RunOptions, runExport } from "../src/pipeline/run-export";
import { customer, json, seedExport, type Tenant, tenant } from "./helpers/api";
import { capturingEnv } from "./helpers/cdrs";
import { completedExport, exportRow, keysOf, uploadOpen, withCdrs } from "./helpers/exports";

const MiB = 1024 * 1024;
const BIG_ROWS = 3000;
const RANGE = { time_start_gteq: "2019-01-01T00:00:00.000Z", time_start_lt: "2019-01-02T00:00:00.000Z" };

let t: Tenant;

beforeAll(async () => {
  t = await withCdrs(await tenant(), 30);
  // Hard-to-compress CDRs on the other account, written straight to D1 (fast): ~2.5 KB of gzip each, so a
  // slice of 2,500 of them fills a 5 MiB part and opens a multipart upload.
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
     INSERT INTO cdrs (uuid, customer_id, customer_acc_id, time_start, src_name_in, orig_call_id)
     SELECT lower(hex(randomblob(16))), ?2, ?3, ?4 + i * 1000000, hex(randomblob(2500)), 'big-' || i FROM n`,
  )
    .bind(BIG_ROWS, Number(t.customer.id), t.otherAccountId, Date.UTC(2019, 0, 1, 1) * 1000)
    .run();
});

type ErrorDoc = { errors: { status: string; title: string; detail: string }[] };

async function show(auth: string, id: string) {
  const res = await customer(auth, "GET", `/cdr-exports/${id}`);
  expect(res.status).toBe(200);
  return (await json<{ data: { attributes: Record<string, unknown>; links: Record<string, string> } }>(res))
    .data;
}

function bigExport() {
  return insertExport(env, {
    filters: { ...RANGE },
    fields: ["time_start", "src_name_in", "orig_call_id"],
    timeFormat: "with_timezone",
    timeZoneName: null,
    callbackUrl: null,
    customerAccountId: t.otherAccountId,
  });
}

/** A bucket that records the multipart uploads it opens. */
function recordingBucket(): { bucket: R2Bucket; uploads: string[] } {
  const uploads: string[] = [];
  const real = env.EXPORTS_BUCKET;
  const bucket = new Proxy(real, {
    get(target, prop) {
      if (prop === "createMultipartUpload") {
        return async (...args: Parameters<R2Bucket["createMultipartUpload"]>) => {
          const upload = await target.createMultipartUpload(...args);
          uploads.push(upload.uploadId);
          return upload;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bucket, uploads };
}

const SLICED: RunOptions = { partSize: 5 * MiB, pageRows: 500, budgetRows: 2500, budgetMs: 600_000 };

describe("customer DELETE of a Completed export", () => {
  it("answers 204, marks it Deleted, removes the object, and its download is then 404", async () => {
    const file = await completedExport(t);
    expect(await env.EXPORTS_BUCKET.head(file.key)).not.toBeNull();
    const res = await customer(t.auth, "DELETE", `/cdr-exports/${file.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    const data = await show(t.auth, file.id);
    expect(data.attributes.status).toBe("Deleted");
    expect(data.links.download).toBeUndefined();
    expect(await env.EXPORTS_BUCKET.head(file.key)).toBeNull();
    const download = await customer(t.auth, "GET", `/cdr-exports/${file.id}/download`);
    expect(download.status).toBe(404);
    await download.arrayBuffer();
    const row = await exportRow(file.id);
    expect(row.object_key).toBeNull();
    expect(row.object_size).toBeNull();
  });

  it("answers 204 again for an export already Deleted, and leaves it Deleted", async () => {
    const file = await completedExport(t);
    expect((await customer(t.auth, "DELETE", `/cdr-exports/${file.id}`)).status).toBe(204);
    expect((await customer(t.auth, "DELETE", `/cdr-exports/${file.id}`)).status).toBe(204);
    expect((await show(t.auth, file.id)).attributes.status).toBe("Deleted");
  });

  it("deletes an export whose object is already gone (no error)", async () => {
    const file = await completedExport(t);
    await env.EXPORTS_BUCKET.delete(file.key);
    expect((await customer(t.auth, "DELETE", `/cdr-exports/${file.id}`)).status).toBe(204);
    expect((await show(t.auth, file.id)).attributes.status).toBe("Deleted");
  });

  it("answers 404 Record not found for another customer's export, and leaves it alone", async () => {
    const file = await completedExport(t);
    const stranger = await tenant();
    const res = await customer(stranger.auth, "DELETE", `/cdr-exports/${file.id}`);
    expect(res.status).toBe(404);
    expect((await json<ErrorDoc>(res)).errors).toEqual([
      {
        status: "404",
        code: "404",
        title: "Record not found",
        detail: `The record identified by ${file.id} could not be found.`,
      },
    ]);
    expect((await show(t.auth, file.id)).attributes.status).toBe("Completed");
    expect(await env.EXPORTS_BUCKET.head(file.key)).not.toBeNull();
  });

  it("answers 404 for an unknown export and 401 without a token", async () => {
    expect((await customer(t.auth, "DELETE", `/cdr-exports/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await customer("", "DELETE", `/cdr-exports/${crypto.randomUUID()}`)).status).toBe(401);
  });

  it("deletes a Failed export", async () => {
    const row = await seedExport(t.accountId, { status: "Failed" });
    expect((await customer(t.auth, "DELETE", `/cdr-exports/${row.uuid}`)).status).toBe(204);
    expect((await show(t.auth, row.uuid)).attributes.status).toBe("Deleted");
  });
});

describe("customer DELETE of a running export", () => {
  it("cancels a checkpointed export: upload aborted, tail removed, the next slice skipped", async () => {
    const row = await bigExport();
    const { env: e, sent } = capturingEnv();
    expect(await runExport(e, { exportId: row.uuid }, SLICED)).toBe("continued");
    expect(sent).toEqual([{ exportId: row.uuid, step: 1 }]);
    const saved = await exportRow(row.uuid);
    const key = `exports/${row.uuid}.csv.gz`;
    const uploadId = saved.upload_id as string;
    expect(uploadId).toBeTruthy();
    expect(saved.tail_key).toBe(`${key}.tail-1`);
    expect(await keysOf(row.uuid)).toEqual([`${key}.tail-1`]);

    const res = await customer(t.auth, "DELETE", `/cdr-exports/${row.uuid}`);
    expect(res.status).toBe(204);
    const deleted = await exportRow(row.uuid);
    expect(deleted.status).toBe("Deleted");
    expect(deleted.upload_id).toBeNull();
    expect(deleted.tail_key).toBeNull();
    expect(await uploadOpen(key, uploadId)).toBe(false);
    expect(await keysOf(row.uuid)).toEqual([]);

    // The continuation message arrives afterwards: it does nothing and stores nothing.
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, SLICED)).toBe("skipped");
    expect(sent).toEqual([{ exportId: row.uuid, step: 1 }]);
    expect(await keysOf(row.uuid)).toEqual([]);
    expect((await exportRow(row.uuid)).status).toBe("Deleted");
  });

  it("cancels a slice that is running when the delete comes: it stops, aborts its upload, stores nothing", async () => {
    const row = await bigExport();
    const { bucket, uploads } = recordingBucket();
    const { env: e, sent } = capturingEnv({ EXPORTS_BUCKET: bucket });
    let deleteStatus = 0;
    const outcome = await runExport(
      e,
      { exportId: row.uuid },
      {
        ...SLICED,
        budgetRows: BIG_ROWS,
        afterPart: async (n) => {
          if (n === 1) deleteStatus = (await customer(t.auth, "DELETE", `/cdr-exports/${row.uuid}`)).status;
        },
      },
    );
    expect(deleteStatus).toBe(204);
    expect(outcome).toBe("cancelled");
    expect(sent).toEqual([]);
    expect(uploads.length).toBe(1);
    expect(await uploadOpen(`exports/${row.uuid}.csv.gz`, uploads[0] as string)).toBe(false);
    expect(await keysOf(row.uuid)).toEqual([]);
    const deleted = await exportRow(row.uuid);
    expect(deleted.status).toBe("Deleted");
    expect(deleted.object_key).toBeNull();
  });

  it("shows a Pending export as Deleted to the customer once deleted", async () => {
    const row = await seedExport(t.accountId);
    expect((await show(t.auth, row.uuid)).attributes.status).toBe("Pending");
    expect((await customer(t.auth, "DELETE", `/cdr-exports/${row.uuid}`)).status).toBe(204);
    const data = await show(t.auth, row.uuid);
    expect(data.attributes.status).toBe("Deleted");
    expect(await runExport(capturingEnv().env, { exportId: row.uuid })).toBe("skipped");
  });
});
