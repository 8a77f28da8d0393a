// The export pipeline's slices, checkpoints, retries and failure paths, driven directly (no background
// consumer): multi-part R2 uploads, resume after a forced stop, stale messages, leases, and the sweeper.

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import zlib from "node:zlib";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { type ExportRow, insertExport } from "../src/db/queries/cdr-exports";
import { handleExportBatch, handleExportMessage } from "../src/pipeline/consumer";
import { exportSettings, PermanentExportError, type RunOptions, runExport } from "../src/pipeline/run-export";
import { requeueStuckExports } from "../src/pipeline/sweeper";
import { customer, json, tenant } from "./helpers/api";
import {
  bucketFailingUploadPart,
  type CdrInput,
  capturingEnv,
  dbFailingOn,
  gunzip,
  ingestCdrs,
  objectBytes,
  randomText,
} from "./helpers/cdrs";
import { COLUMNS, expectedCsv, HEADER } from "./helpers/expected-csv";

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PART = 5 * MiB;
const BIG_ROWS = 16_000;
const RANGE = { time_start_gteq: "2025-01-01T00:00:00.000Z", time_start_lt: "2025-02-01T00:00:00.000Z" };
const FIELDS = COLUMNS.map(([name]) => name);
/** One slice for the whole export. */
const WHOLE: RunOptions = { partSize: PART, pageRows: 1000, budgetRows: 1_000_000, budgetMs: 600_000 };

type Tenant = Awaited<ReturnType<typeof tenant>>;
let t: Tenant;
let bigAccount: number;
let smallAccount: number;
let bigExpected: string;
let smallRows: CdrInput[];

/** RFC 3339 text of epoch microseconds. */
function rfc3339(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us - ms * 1000).padStart(3, "0")}Z`;
}

function bigRows(customerId: number, accountId: number): CdrInput[] {
  const start = Date.parse("2025-01-10T00:00:00Z") * 1000;
  return Array.from({ length: BIG_ROWS }, (_, i) => ({
    uuid: crypto.randomUUID(),
    customer_id: customerId,
    customer_acc_id: accountId,
    // Three CDRs share each start instant, so keyset pages and slices split ties.
    time_start: rfc3339(start + Math.floor(i / 3) * 1_000_123),
    success: i % 2 === 0,
    duration: i % 300,
    src_name_in: randomText(280),
    lega_disconnect_reason: randomText(280),
    lega_user_agent: randomText(280),
    orig_call_id: `call-${i}`,
    customer_price: "0.0100",
  }));
}

function exportOf(accountId: number, overrides: Partial<Parameters<typeof insertExport>[1]> = {}) {
  return insertExport(env, {
    filters: { ...RANGE },
    fields: FIELDS,
    timeFormat: "with_timezone",
    timeZoneName: null,
    callbackUrl: null,
    customerAccountId: accountId,
    ...overrides,
  });
}

async function rowOf(uuid: string): Promise<ExportRow> {
  const row = await env.DB.prepare("SELECT * FROM cdr_exports WHERE uuid = ?").bind(uuid).first();
  if (!row) throw new Error(`no export ${uuid}`);
  return {
    status: row.status,
    step: row.step,
    rowsCount: row.rows_count,
    rowsWritten: row.rows_written,
    rowsProgress: row.rows_progress,
    uploadId: row.upload_id,
    parts: JSON.parse(row.parts as string),
    tailKey: row.tail_key,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    progressAt: row.progress_at,
    objectKey: row.object_key,
    cursorId: row.cursor_id,
    cursorTimeStart: row.cursor_time_start,
    error: row.error,
  } as ExportRow;
}

/**
 * Hands one queue message to the consumer; returns the queue result and the options of `retry()` (the
 * pool's getQueueResult does not report the delay).
 */
async function deliver(e: Env, id: string, attempts: number, body: unknown, options?: RunOptions) {
  const batch = createMessageBatch("cdr-exports", [{ id, timestamp: Date.now(), attempts, body }]);
  const message = batch.messages[0] as Message<unknown>;
  const retry = vi.spyOn(message, "retry");
  await handleExportMessage(e, message, options);
  const result = await getQueueResult(batch, createExecutionContext());
  return { ...result, retryOptions: retry.mock.calls.map((c) => c[0]) };
}

/** Runs slices until the export completes, following the continuation messages it enqueues. */
async function drive(uuid: string, options: RunOptions, firstStep = 0) {
  const { env: e, sent } = capturingEnv();
  let step = firstStep;
  let slices = 0;
  for (;;) {
    const outcome = await runExport(e, step ? { exportId: uuid, step } : { exportId: uuid }, options);
    slices++;
    if (outcome === "completed") break;
    expect(outcome).toBe("continued");
    expect(sent.at(-1)).toEqual({ exportId: uuid, step: step + 1 });
    step++;
    if (slices > 100) throw new Error("export does not finish");
  }
  return { slices, sent };
}

async function fileText(uuid: string): Promise<{ text: string; members: number; size: number }> {
  const bytes = await objectBytes(`exports/${uuid}.csv.gz`);
  const { data, members } = await gunzip(bytes);
  return { text: new TextDecoder().decode(data), members, size: bytes.length };
}

/** Each CDR's line exactly once, by its unique orig_call_id. */
function expectEveryRowOnce(text: string, count: number) {
  const seen = new Map<string, number>();
  for (const line of text.split("\n").slice(1, -1)) {
    const id = /,"(call-\d+)",/.exec(line)?.[1] ?? "?";
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  expect(seen.size).toBe(count);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
}

beforeAll(async () => {
  t = await tenant();
  bigAccount = Number(t.account.id);
  smallAccount = Number(t.otherAccount.id);
  const big = bigRows(Number(t.customer.id), bigAccount);
  smallRows = Array.from({ length: 30 }, (_, i) => ({
    uuid: crypto.randomUUID(),
    customer_id: Number(t.customer.id),
    customer_acc_id: smallAccount,
    time_start: rfc3339(Date.parse("2025-01-15T00:00:00Z") * 1000 + i * 1_500_000),
    orig_call_id: `call-${i}`,
  }));
  await ingestCdrs(big, 5000);
  await ingestCdrs(smallRows);
  const ids = new Map<string, number>();
  const rows = await env.DB.prepare("SELECT uuid, id FROM cdrs WHERE customer_acc_id = ?")
    .bind(bigAccount)
    .all<{ uuid: string; id: number }>();
  for (const r of rows.results) ids.set(r.uuid, r.id);
  bigExpected = expectedCsv(big, ids, "with_timezone", null);
}, 60_000);

describe("multi-part export", () => {
  let single: string;

  it("writes a file of 3+ parts of 5 MiB in one run that decompresses to the expected CSV", async () => {
    const row = await exportOf(bigAccount);
    const partsSeen: number[] = [];
    const { env: e } = capturingEnv();
    expect(
      await runExport(
        e,
        { exportId: row.uuid },
        { ...WHOLE, afterPart: async (n) => void partsSeen.push(n) },
      ),
    ).toBe("completed");
    const file = await fileText(row.uuid);
    // Full parts go through afterPart; the last (short) part is uploaded on completion.
    expect(file.size).toBeGreaterThan(2 * PART);
    expect(partsSeen).toEqual(Array.from({ length: Math.floor(file.size / PART) }, (_, i) => i + 1));
    expect(file.members).toBe(1);
    expect(file.text).toBe(bigExpected);
    const done = await rowOf(row.uuid);
    expect(done.status).toBe("Completed");
    expect(done.rowsCount).toBe(BIG_ROWS);
    expect(done.uploadId).toBeNull();
    single = file.text;
  });

  it("gives the same CSV when split into slices by a small row budget (checkpoint + continuation)", async () => {
    const row = await exportOf(bigAccount);
    // A slice ends after the page that reaches the budget: 5 pages of 700 = 3,500 rows a slice.
    const { slices } = await drive(row.uuid, { ...WHOLE, pageRows: 700, budgetRows: 3000 });
    expect(slices).toBe(Math.ceil(BIG_ROWS / 3500));
    const file = await fileText(row.uuid);
    // One gzip member however many slices wrote it.
    expect(file.members).toBe(1);
    expect(file.text).toBe(single);
    expectEveryRowOnce(file.text, BIG_ROWS);
    const done = await rowOf(row.uuid);
    expect(done.rowsCount).toBe(BIG_ROWS);
    expect(done.tailKey).toBeNull();
    expect(
      (await env.EXPORTS_BUCKET.list({ prefix: `exports/${row.uuid}` })).objects.map((o) => o.key),
    ).toEqual([`exports/${row.uuid}.csv.gz`]);
  });

  it("resumes after a forced stop after part 1 and writes every row exactly once", async () => {
    const row = await exportOf(bigAccount);
    const { env: e } = capturingEnv();
    const crash: RunOptions = {
      ...WHOLE,
      afterPart: async (n) => {
        if (n === 1) throw new Error("forced stop after part 1");
      },
    };
    await expect(runExport(e, { exportId: row.uuid }, crash)).rejects.toThrow("forced stop after part 1");
    // The stopped attempt released its lease and left no file.
    const stopped = await rowOf(row.uuid);
    expect(stopped.status).toBe("Pending");
    expect(stopped.leaseOwner).toBeNull();
    expect(await env.EXPORTS_BUCKET.head(`exports/${row.uuid}.csv.gz`)).toBeNull();
    expect(await runExport(e, { exportId: row.uuid }, WHOLE)).toBe("completed");
    const file = await fileText(row.uuid);
    expect(file.text).toBe(single);
    expectEveryRowOnce(file.text, BIG_ROWS);
  });

  it("resumes from the last checkpoint after a forced stop in a later slice", async () => {
    const row = await exportOf(bigAccount);
    const sliced: RunOptions = { ...WHOLE, budgetRows: 10_000 };
    const { env: e } = capturingEnv();
    expect(await runExport(e, { exportId: row.uuid }, sliced)).toBe("continued");
    const saved = await rowOf(row.uuid);
    expect(saved.step).toBe(1);
    expect(saved.parts.length).toBe(1);
    expect(saved.uploadId).not.toBeNull();
    expect(saved.tailKey).not.toBeNull();
    const crash: RunOptions = {
      ...sliced,
      afterPart: async (n) => {
        if (n === 2) throw new Error("forced stop after part 2");
      },
    };
    await expect(runExport(e, { exportId: row.uuid, step: 1 }, crash)).rejects.toThrow("forced stop");
    // Nothing of the stopped attempt was recorded: the checkpoint is as it was.
    const after = await rowOf(row.uuid);
    expect(after.step).toBe(1);
    expect(after.parts).toEqual(saved.parts);
    expect(after.uploadId).toBe(saved.uploadId);
    expect(after.rowsWritten).toBe(saved.rowsWritten);
    // Its progress was published as it went (meta.rows-written), and is counted again by the resumed slice.
    expect(after.rowsProgress).toBeGreaterThan(saved.rowsWritten);
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, sliced)).toBe("completed");
    const file = await fileText(row.uuid);
    expect(file.members).toBe(1);
    expect(file.text).toBe(single);
    expectEveryRowOnce(file.text, BIG_ROWS);
    expect(await env.EXPORTS_BUCKET.head(saved.tailKey as string)).toBeNull();
  });

  it("keeps a checkpointed upload when a slice loses its lease, so the new holder can finish", async () => {
    const row = await exportOf(bigAccount);
    const sliced: RunOptions = { ...WHOLE, budgetRows: 10_000 };
    const { env: e } = capturingEnv();
    expect(await runExport(e, { exportId: row.uuid }, sliced)).toBe("continued");
    const saved = await rowOf(row.uuid);
    expect(saved.uploadId).not.toBeNull();
    // Another consumer takes the lease over while this slice runs (e.g. after its lease ran out).
    const takeover: RunOptions = {
      ...sliced,
      afterPart: async () => {
        await env.DB.prepare("UPDATE cdr_exports SET lease_owner = 'other', lease_until = ? WHERE id = ?")
          .bind(Date.now() + 60_000, row.id)
          .run();
      },
    };
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, takeover)).toBe("cancelled");
    // The other holder (simulated: its lease released) continues on the same upload.
    await env.DB.prepare("UPDATE cdr_exports SET lease_owner = NULL, lease_until = NULL WHERE id = ?")
      .bind(row.id)
      .run();
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, sliced)).toBe("completed");
    expect((await fileText(row.uuid)).text).toBe(single);
  });

  it("does not fail a recorded checkpoint when deleting the previous tail fails", async () => {
    const row = await exportOf(bigAccount);
    // 3,000 rows a slice: the first two slices stay under one part (tail only), the third opens the upload.
    const sliced: RunOptions = { ...WHOLE, budgetRows: 3000 };
    const { env: e } = capturingEnv();
    expect(await runExport(e, { exportId: row.uuid }, sliced)).toBe("continued");
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, sliced)).toBe("continued");
    expect((await rowOf(row.uuid)).uploadId).toBeNull();
    const flaky = new Proxy(env.EXPORTS_BUCKET, {
      get(target, prop) {
        if (prop === "delete") {
          return async () => {
            throw new Error("injected R2 failure: delete");
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { env: flakyEnv, sent } = capturingEnv({ EXPORTS_BUCKET: flaky });
    expect(await runExport(flakyEnv, { exportId: row.uuid, step: 2 }, sliced)).toBe("continued");
    expect(sent).toEqual([{ exportId: row.uuid, step: 3 }]);
    const saved = await rowOf(row.uuid);
    expect(saved.uploadId).not.toBeNull();
    expect(saved.parts.length).toBe(1);
    const { slices } = await drive(row.uuid, sliced, 3);
    expect(slices).toBeGreaterThan(1);
    expect((await fileText(row.uuid)).text).toBe(single);
  });

  it("retries an R2 failure with a delay, then fails after the attempt limit and aborts the upload", async () => {
    const row = await exportOf(bigAccount);
    const sliced: RunOptions = { ...WHOLE, budgetRows: 10_000 };
    const { env: ok } = capturingEnv();
    expect(await runExport(ok, { exportId: row.uuid }, sliced)).toBe("continued");
    const saved = await rowOf(row.uuid);
    expect(saved.uploadId).not.toBeNull();

    const failing = bucketFailingUploadPart();
    const { env: broken } = capturingEnv({ EXPORTS_BUCKET: failing.bucket });
    const attempt = (attempts: number) =>
      deliver(broken, `m-${attempts}`, attempts, { exportId: row.uuid, step: 1 }, sliced);
    const first = await attempt(1);
    expect(failing.calls()).toBeGreaterThan(0);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages).toEqual([{ msgId: "m-1" }]);
    expect(first.retryOptions).toEqual([{ delaySeconds: 10 }]);
    const pending = await rowOf(row.uuid);
    expect(pending.status).toBe("Pending");
    expect(pending.uploadId).toBe(saved.uploadId);
    expect(pending.leaseOwner).toBeNull();

    const last = await attempt(Number(env.EXPORT_MAX_ATTEMPTS));
    expect(last.explicitAcks).toEqual([`m-${env.EXPORT_MAX_ATTEMPTS}`]);
    expect(last.retryMessages).toEqual([]);
    expect(last.retryOptions).toEqual([]);
    const failed = await rowOf(row.uuid);
    expect(failed.status).toBe("Failed");
    expect(failed.error).toBe("retries exhausted");
    expect(failed.uploadId).toBeNull();
    expect(failed.tailKey).toBeNull();
    expect(await env.EXPORTS_BUCKET.head(saved.tailKey as string)).toBeNull();
    expect(await env.EXPORTS_BUCKET.head(`exports/${row.uuid}.csv.gz`)).toBeNull();
    // The multipart upload is gone: it can take no more parts.
    const upload = env.EXPORTS_BUCKET.resumeMultipartUpload(
      `exports/${row.uuid}.csv.gz`,
      saved.uploadId as string,
    );
    await expect(upload.uploadPart(2, new Uint8Array(10))).rejects.toThrow();
  });
});

describe("single gzip member, level, progress and takeover", () => {
  it("publishes meta.rows-written with every stored part, read through the show route mid-export", async () => {
    const row = await exportOf(bigAccount);
    const seen: number[] = [];
    const { env: e } = capturingEnv();
    const showDuringExport: RunOptions = {
      ...WHOLE,
      afterPart: async () => {
        const res = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}`);
        type Show = { data: { attributes: { status: string }; meta: { "rows-written": number } } };
        const { data } = await json<Show>(res);
        expect(data.attributes.status).toBe("Pending");
        seen.push(data.meta["rows-written"]);
      },
    };
    expect(await runExport(e, { exportId: row.uuid }, showDuringExport)).toBe("completed");
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[0]).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
    expect(seen[seen.length - 1]).toBeLessThan(BIG_ROWS);
  });

  it("writes the same content at every EXPORT_GZIP_LEVEL, smaller at 9 than at 1, each one member", async () => {
    const sizes: number[] = [];
    for (const level of ["1", "9"]) {
      const row = await exportOf(bigAccount);
      const { env: e } = capturingEnv({ EXPORT_GZIP_LEVEL: level });
      expect(exportSettings(e).gzipLevel).toBe(Number(level));
      expect(await runExport(e, { exportId: row.uuid }, WHOLE)).toBe("completed");
      const file = await fileText(row.uuid);
      expect(file.members).toBe(1);
      expect(file.text).toBe(bigExpected);
      sizes.push(file.size);
    }
    expect(sizes[1]).toBeLessThan(sizes[0] as number);
    // Out of range or not a number: the documented default.
    expect(exportSettings({ ...env, EXPORT_GZIP_LEVEL: "12" }).gzipLevel).toBe(1);
    expect(exportSettings({ ...env, EXPORT_GZIP_LEVEL: "fast" }).gzipLevel).toBe(1);
  });

  it("carries the CRC-32 in the checkpoint: a file of many slices has the CRC of the whole CSV", async () => {
    const row = await exportOf(bigAccount);
    const { slices } = await drive(row.uuid, { ...WHOLE, pageRows: 1000, budgetRows: 2000 });
    expect(slices).toBe(BIG_ROWS / 2000 + 1);
    const bytes = await objectBytes(`exports/${row.uuid}.csv.gz`);
    const { data, crc } = await gunzip(bytes);
    expect(new TextDecoder().decode(data)).toBe(bigExpected);
    expect(crc).toBe(zlib.crc32(bigExpected));
  });

  it("starts over an export checkpointed by the multi-member engine (no gzip state), ending one member", async () => {
    const row = await exportOf(smallAccount);
    const { env: e } = capturingEnv();
    expect(await runExport(e, { exportId: row.uuid }, { pageRows: 5, budgetRows: 10 })).toBe("continued");
    // What the earlier engine left: a checkpoint at step 1 with a tail of a finished gzip member.
    const legacyTail = new Uint8Array(
      await new Response(
        new Blob([`${HEADER}"legacy"\n`]).stream().pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer(),
    );
    const tailKey = `exports/${row.uuid}.csv.gz.tail-1`;
    await env.EXPORTS_BUCKET.put(tailKey, legacyTail);
    await env.DB.prepare("UPDATE cdr_exports SET gzip_crc = 0, gzip_length = 0, tail_key = ? WHERE id = ?")
      .bind(tailKey, row.id)
      .run();
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, { budgetRows: 1000 })).toBe("completed");
    const file = await fileText(row.uuid);
    expect(file.members).toBe(1);
    expect(file.text.startsWith(HEADER)).toBe(true);
    expectEveryRowOnce(file.text, smallRows.length);
    expect(await env.EXPORTS_BUCKET.head(tailKey)).toBeNull();
  });

  it("takes over a slice that died holding its lease once the lease runs out, not a sweep later", async () => {
    const row = await exportOf(bigAccount);
    const leaseMs = 1500;
    let revive = () => {};
    const dead = new Promise<void>((resolve) => {
      revive = resolve;
    });
    const { env: e } = capturingEnv();
    // The first invocation stops answering after its first part, lease held (as one killed at its CPU limit).
    const dying = runExport(e, { exportId: row.uuid }, { ...WHOLE, leaseMs, afterPart: () => dead });
    for (let i = 0; (await rowOf(row.uuid)).rowsProgress === 0 && i < 400; i++) await sleep(10);
    const killedAt = Date.now();
    // The redelivered message finds the lease held and comes back after one lease.
    const busy = await deliver(e, "k-1", 2, { exportId: row.uuid }, { ...WHOLE, leaseMs });
    expect(busy.retryOptions).toEqual([{ delaySeconds: Math.ceil(leaseMs / 1000) }]);
    await sleep(Math.ceil(leaseMs / 1000) * 1000);
    expect(await runExport(e, { exportId: row.uuid }, { ...WHOLE, leaseMs })).toBe("completed");
    const resumedAfter = Date.now() - killedAt;
    expect(resumedAfter).toBeLessThan(leaseMs + 1000 + 5000);
    expect((await fileText(row.uuid)).text).toBe(bigExpected);
    // The stalled writer wakes up, finds its lease gone, and stops without touching the file.
    revive();
    expect(await dying).toBe("cancelled");
    expect((await fileText(row.uuid)).text).toBe(bigExpected);
  });
});

describe("messages, leases and failures", () => {
  it("does nothing for a duplicate message of a Completed export", async () => {
    const row = await exportOf(smallAccount);
    const { env: e, sent } = capturingEnv();
    expect(await runExport(e, { exportId: row.uuid })).toBe("completed");
    const before = await env.EXPORTS_BUCKET.head(`exports/${row.uuid}.csv.gz`);
    const done = await rowOf(row.uuid);
    const result = await deliver(e, "dup", 1, { exportId: row.uuid });
    expect(result.explicitAcks).toEqual(["dup"]);
    expect(await runExport(e, { exportId: row.uuid })).toBe("skipped");
    expect(await rowOf(row.uuid)).toEqual(done);
    expect((await env.EXPORTS_BUCKET.head(`exports/${row.uuid}.csv.gz`))?.etag).toBe(before?.etag);
    expect(sent).toEqual([]);
    const { text } = await fileText(row.uuid);
    expect(text.startsWith(HEADER)).toBe(true);
    expectEveryRowOnce(text, smallRows.length);
  });

  it("skips a message with an old step", async () => {
    const row = await exportOf(smallAccount);
    const { env: e, sent } = capturingEnv();
    const options: RunOptions = { pageRows: 5, budgetRows: 10 };
    expect(await runExport(e, { exportId: row.uuid }, options)).toBe("continued");
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, options)).toBe("continued");
    const at2 = await rowOf(row.uuid);
    expect(at2.step).toBe(2);
    expect(await runExport(e, { exportId: row.uuid, step: 1 }, options)).toBe("skipped");
    expect(await runExport(e, { exportId: row.uuid }, options)).toBe("skipped");
    expect(await rowOf(row.uuid)).toEqual(at2);
    expect(sent).toEqual([
      { exportId: row.uuid, step: 1 },
      { exportId: row.uuid, step: 2 },
    ]);
    // The continuation finishes it with every row once.
    expect(await runExport(e, { exportId: row.uuid, step: 2 }, { pageRows: 5, budgetRows: 100 })).toBe(
      "completed",
    );
    const file = await fileText(row.uuid);
    expect(file.members).toBe(1);
    expectEveryRowOnce(file.text, smallRows.length);
  });

  it("answers busy to a second claim while the first holds the lease", async () => {
    const row = await exportOf(smallAccount);
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let entered = () => {};
    const scanning = new Promise<void>((resolve) => {
      entered = resolve;
    });
    // The first run stops inside its first page query until the gate opens.
    const slowDb = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!/FROM cdrs/.test(sql)) return statement;
            return {
              bind: (...values: unknown[]) => {
                const bound = statement.bind(...values);
                return {
                  raw: async () => {
                    entered();
                    await gate;
                    return bound.raw();
                  },
                };
              },
            };
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const { env: first } = capturingEnv({ DB: slowDb });
    const { env: second } = capturingEnv();
    const running = runExport(first, { exportId: row.uuid });
    await scanning;
    const held = await rowOf(row.uuid);
    expect(held.leaseOwner).not.toBeNull();
    expect(held.leaseUntil).toBeGreaterThan(Date.now());
    expect(await runExport(second, { exportId: row.uuid })).toBe("busy");
    open();
    expect(await running).toBe("completed");
    expectEveryRowOnce((await fileText(row.uuid)).text, smallRows.length);
  });

  it("retries a D1 failure with a delay, then fails after the attempt limit", async () => {
    const row = await exportOf(smallAccount);
    const { env: broken } = capturingEnv({ DB: dbFailingOn(/FROM cdrs/) });
    const attempt = (attempts: number) => deliver(broken, `d-${attempts}`, attempts, { exportId: row.uuid });
    const first = await attempt(1);
    expect(first.retryMessages).toEqual([{ msgId: "d-1" }]);
    expect(first.retryOptions).toEqual([{ delaySeconds: 10 }]);
    const third = await attempt(3);
    expect(third.retryMessages).toEqual([{ msgId: "d-3" }]);
    expect(third.retryOptions).toEqual([{ delaySeconds: 40 }]);
    const pending = await rowOf(row.uuid);
    expect(pending.status).toBe("Pending");
    expect(pending.leaseOwner).toBeNull();
    const last = await attempt(Number(env.EXPORT_MAX_ATTEMPTS));
    expect(last.explicitAcks).toEqual([`d-${env.EXPORT_MAX_ATTEMPTS}`]);
    expect(last.retryMessages).toEqual([]);
    const failed = await rowOf(row.uuid);
    expect(failed.status).toBe("Failed");
    expect(failed.error).toBe("retries exhausted");
    expect(await env.EXPORTS_BUCKET.head(`exports/${row.uuid}.csv.gz`)).toBeNull();
  });

  it("retries a D1 failure in a continuation slice and then resumes from its checkpoint", async () => {
    const row = await exportOf(smallAccount);
    const options: RunOptions = { pageRows: 5, budgetRows: 10 };
    const { env: e } = capturingEnv();
    expect(await runExport(e, { exportId: row.uuid }, options)).toBe("continued");
    const { env: broken } = capturingEnv({ DB: dbFailingOn(/FROM cdrs/) });
    const failed = await deliver(broken, "c-1", 1, { exportId: row.uuid, step: 1 }, options);
    expect(failed.retryOptions).toEqual([{ delaySeconds: 10 }]);
    expect((await rowOf(row.uuid)).step).toBe(1);
    // Steps 1 and 2 write 10 rows each; step 3 finds no more rows and completes.
    const { slices } = await drive(row.uuid, options, 1);
    expect(slices).toBe(3);
    expectEveryRowOnce((await fileText(row.uuid)).text, smallRows.length);
  });

  it("fails at once on a PermanentExportError (a stored export with an unknown field)", async () => {
    const row = await exportOf(smallAccount, { fields: ["time_start", "no_such_column"] });
    const { env: e } = capturingEnv();
    await expect(runExport(e, { exportId: row.uuid })).rejects.toBeInstanceOf(PermanentExportError);
    const result = await deliver(e, "p-1", 1, { exportId: row.uuid });
    expect(result.explicitAcks).toEqual(["p-1"]);
    expect(result.retryMessages).toEqual([]);
    expect(result.retryOptions).toEqual([]);
    const failed = await rowOf(row.uuid);
    expect(failed.status).toBe("Failed");
    expect(failed.error).toContain("no_such_column");
  });

  it("fails at once on a stored export with an unknown filter", async () => {
    const row = await exportOf(smallAccount, { filters: { ...RANGE, bogus_eq: 1 } });
    const { env: e } = capturingEnv();
    const result = await deliver(e, "p-2", 1, { exportId: row.uuid });
    expect(result.explicitAcks).toEqual(["p-2"]);
    expect(result.retryMessages).toEqual([]);
    expect((await rowOf(row.uuid)).status).toBe("Failed");
  });
});

describe("dead-letter queue", () => {
  it("marks an export whose message was dead-lettered Failed", async () => {
    const row = await exportOf(smallAccount);
    const batch = createMessageBatch("cdr-exports-dlq", [
      { id: "dl-1", timestamp: Date.now(), attempts: 1, body: { exportId: row.uuid } },
      { id: "dl-2", timestamp: Date.now(), attempts: 1, body: { nonsense: true } },
    ]);
    await handleExportBatch(batch, env);
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.explicitAcks).toEqual(["dl-1", "dl-2"]);
    const failed = await rowOf(row.uuid);
    expect(failed.status).toBe("Failed");
    expect(failed.error).toBe("dead-lettered");
  });
});

describe("sweeper", () => {
  it("re-enqueues a stuck Pending export at its step, and not a fresh one", async () => {
    const stuck = await exportOf(smallAccount);
    const fresh = await exportOf(smallAccount);
    const now = Date.now();
    const minutes = Number(env.EXPORT_STUCK_MINUTES);
    await env.DB.prepare("UPDATE cdr_exports SET progress_at = ?, step = 2 WHERE id = ?")
      .bind(now - (minutes + 1) * 60_000, stuck.id)
      .run();
    const { env: e, sent } = capturingEnv();
    await requeueStuckExports(e, now);
    expect(sent).toContainEqual({ exportId: stuck.uuid, step: 2 });
    expect(sent.some((m) => (m as { exportId: string }).exportId === fresh.uuid)).toBe(false);
    // Re-enqueueing counts as progress: the next sweep does not send it again.
    const again = capturingEnv();
    await requeueStuckExports(again.env, now + 1000);
    expect(again.sent.some((m) => (m as { exportId: string }).exportId === stuck.uuid)).toBe(false);
  });

  it("leaves a stuck export alone while a consumer holds its lease", async () => {
    const held = await exportOf(smallAccount);
    const now = Date.now();
    await env.DB.prepare(
      "UPDATE cdr_exports SET progress_at = ?, lease_owner = 'x', lease_until = ? WHERE id = ?",
    )
      .bind(now - 3_600_000, now + 60_000, held.id)
      .run();
    const { env: e, sent } = capturingEnv();
    await requeueStuckExports(e, now);
    expect(sent.some((m) => (m as { exportId: string }).exportId === held.uuid)).toBe(false);
  });
});
