// One invocation's share of an export: claim it, stream CDRs → CSV → gzip → R2 parts, then checkpoint or finish.
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { config } from "../config";
import { db } from "../db/client";
import type { ExportRow } from "../db/queries/cdr-exports";
import { cdrExports } from "../db/schema";
import { type GzipLevel, GzipSegments, type GzipState } from "../file-format/gzip-member";
import { errorFields, log } from "../log";
import { enqueueCallback } from "./callbacks";
import type { Cursor } from "./cdr-scan";
import {
  isCdrSource,
  PermanentExportError,
  type SliceLimits,
  type SliceOutput,
  type SliceResult,
} from "./cdr-source";
import { readD1Slice } from "./d1-source";
import { abortUpload, MIN_PART_SIZE, PartWriter } from "./part-writer";
import { readPostgresSlice } from "./postgres/postgres-source";
import type { CdrTable } from "./postgres/yeti-sql";
import { type ExportMessage, enqueueExport } from "./queue";

export { PermanentExportError };

export type ExportSettings = {
  pageRows: number;
  partSize: number;
  budgetRows: number;
  budgetMs: number;
  gzipLevel: GzipLevel;
  /** How long a claim holds without renewal; renewed while the slice writes, so a dead slice is taken over soon. */
  leaseMs: number;
  /** EXPORT_NEUTRALISE_FORMULAS = "true" (see CsvOptions). */
  neutraliseFormulas: boolean;
  /** CDR_PG_SCHEMA and CDR_PG_TABLE: the CDR table of the postgres source. */
  cdrTable: CdrTable;
};

export type RunOptions = Partial<ExportSettings> & {
  /** Test hook: runs after each stored part (e.g. to simulate a crash mid-way). */
  afterPart?: (partNumber: number) => Promise<void>;
};

export type RunOutcome = "completed" | "continued" | "skipped" | "busy" | "cancelled" | "failed";

/** Claims of one step before the export is Failed; counts invocations that died without a word too. */
export function maxAttempts(env: Env): number {
  return config(env).EXPORT_MAX_ATTEMPTS;
}

/** The export stopped existing as Pending (deleted, or the lease was lost) while it ran. */
class ExportCancelled extends Error {}

export function exportSettings(env: Env, options: RunOptions = {}): ExportSettings {
  const c = config(env);
  return {
    pageRows: options.pageRows ?? c.EXPORT_PAGE_ROWS,
    partSize: Math.max(MIN_PART_SIZE, options.partSize ?? c.EXPORT_PART_SIZE_BYTES),
    budgetRows: options.budgetRows ?? c.EXPORT_BUDGET_ROWS,
    budgetMs: options.budgetMs ?? c.EXPORT_BUDGET_MS,
    gzipLevel: options.gzipLevel ?? c.EXPORT_GZIP_LEVEL,
    leaseMs: options.leaseMs ?? c.EXPORT_LEASE_SECONDS * 1000,
    neutraliseFormulas: options.neutraliseFormulas ?? c.EXPORT_NEUTRALISE_FORMULAS,
    cdrTable: options.cdrTable ?? { schema: c.CDR_PG_SCHEMA, table: c.CDR_PG_TABLE },
  };
}

export function objectKey(uuid: string): string {
  return `exports/${uuid}.csv.gz`;
}

function tailKey(uuid: string, step: number): string {
  return `exports/${uuid}.csv.gz.tail-${step}`;
}

/** Takes the export for this invocation if it is Pending, at the message's step, and nobody holds it. */
async function claim(
  env: Env,
  uuid: string,
  step: number,
  owner: string,
  leaseMs: number,
): Promise<ExportRow | null> {
  const now = Date.now();
  const [row] = await db(env)
    .update(cdrExports)
    .set({ leaseOwner: owner, leaseUntil: now + leaseMs, attempts: sql`${cdrExports.attempts} + 1` })
    .where(
      and(
        eq(cdrExports.uuid, uuid),
        eq(cdrExports.status, "Pending"),
        eq(cdrExports.step, step),
        or(isNull(cdrExports.leaseUntil), lt(cdrExports.leaseUntil, now)),
      ),
    )
    .returning();
  return row ?? null;
}

function held(row: ExportRow, owner: string) {
  return and(eq(cdrExports.id, row.id), eq(cdrExports.status, "Pending"), eq(cdrExports.leaseOwner, owner));
}

/** Runs one slice of the export named by the message; the queue consumer decides ack/retry from the outcome. */
export async function runExport(
  env: Env,
  message: ExportMessage,
  options: RunOptions = {},
): Promise<RunOutcome> {
  const settings = exportSettings(env, options);
  const step = message.step ?? 0;
  const current = await db(env).select().from(cdrExports).where(eq(cdrExports.uuid, message.exportId)).get();
  // Duplicates and late messages: a finished export, or one that has moved past this step, is left alone.
  if (current?.status !== "Pending" || current.step !== step) return "skipped";
  const owner = crypto.randomUUID();
  const row = await claim(env, message.exportId, step, owner, settings.leaseMs);
  if (!row) return "busy";
  // An invocation killed mid-slice (CPU or memory limit) raises no error; its claims still count.
  if (row.attempts > maxAttempts(env)) {
    await failExport(env, row.uuid, "retries exhausted", step);
    return "failed";
  }
  try {
    return await runClaimed(env, row, owner, settings, options);
  } catch (error) {
    if (error instanceof ExportCancelled) return "cancelled";
    // Let a retry claim it at once instead of waiting for the lease to run out.
    await db(env).update(cdrExports).set({ leaseOwner: null, leaseUntil: null }).where(held(row, owner));
    throw error;
  }
}

/** The claim of one slice: renewed before each stored part and at least every third of its length. */
class Lease {
  private renewedAt = Date.now();
  /** Rows in the output so far; published with each renewal as `meta.rows-written`. */
  rows: number;

  constructor(
    private readonly env: Env,
    private readonly row: ExportRow,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {
    this.rows = row.rowsWritten;
  }

  /** Extends the lease and publishes the progress; a lost lease (deleted, taken over) stops the slice. */
  async renew(): Promise<void> {
    const now = Date.now();
    const [still] = await db(this.env)
      .update(cdrExports)
      .set({ leaseUntil: now + this.leaseMs, rowsProgress: this.rows, progressAt: now })
      .where(held(this.row, this.owner))
      .returning({ id: cdrExports.id });
    if (!still) throw new ExportCancelled();
    this.renewedAt = now;
  }

  get due(): boolean {
    return Date.now() - this.renewedAt >= this.leaseMs / 3;
  }
}

/** Lets the isolate serve other events (API requests, the inspector) between two segments of an export. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function runClaimed(
  env: Env,
  claimed: ExportRow,
  owner: string,
  settings: ExportSettings,
  options: RunOptions,
): Promise<RunOutcome> {
  const bucket = env.EXPORTS_BUCKET;
  const key = objectKey(claimed.uuid);

  // A crash between completing the upload and recording it: the object is there, record it now.
  if (claimed.finalRowsCount !== null) {
    const stored = await bucket.head(key);
    if (stored) return complete(env, claimed, owner, claimed.finalRowsCount, stored.size);
  }
  const row = await restartLegacyCheckpoint(env, claimed);

  const lease = new Lease(env, row, owner, settings.leaseMs);
  const parts = new PartWriter(
    bucket,
    key,
    settings.partSize,
    {
      httpMetadata: {
        contentType: "application/gzip",
        contentDisposition: `attachment; filename="${row.uuid}.csv.gz"`,
      },
      customMetadata: { exportId: row.uuid },
    },
    { uploadId: row.uploadId, parts: row.parts },
    { beforePart: () => lease.renew(), afterPart: options.afterPart },
  );
  try {
    return await writeSlice(env, row, owner, settings, parts, lease);
  } catch (error) {
    // An upload opened by this invocation and not saved in a checkpoint would be orphaned: close it.
    // A checkpointed upload is left alone even when cancelled: a consumer that took over the lease may
    // be writing to it, and delete/fail abort it themselves.
    if (parts.uploadId !== row.uploadId) await abortUpload(bucket, key, parts.uploadId);
    throw error;
  }
}

/**
 * A checkpoint of the engine before single-member files (step > 0 without a gzip length: even the header
 * line counts) cannot be continued as one member: the export starts over from its first row.
 */
async function restartLegacyCheckpoint(env: Env, row: ExportRow): Promise<ExportRow> {
  if (row.step === 0 || row.gzipLength !== 0) return row;
  await abortUpload(env.EXPORTS_BUCKET, objectKey(row.uuid), row.uploadId);
  if (row.tailKey) await removeTail(env, row.uuid, row.tailKey);
  log("warn", "restarting an export checkpointed by an earlier engine", { exportId: row.uuid });
  return {
    ...row,
    rowsWritten: 0,
    cursorTimeStart: null,
    cursorId: null,
    uploadId: null,
    parts: [],
    tailKey: null,
  };
}

async function writeSlice(
  env: Env,
  row: ExportRow,
  owner: string,
  settings: ExportSettings,
  parts: PartWriter,
  lease: Lease,
): Promise<RunOutcome> {
  const bucket = env.EXPORTS_BUCKET;
  if (row.tailKey) {
    const tail = await bucket.get(row.tailKey);
    if (!tail) throw new PermanentExportError(`checkpoint tail ${row.tailKey} is missing`);
    await parts.write(new Uint8Array(await tail.arrayBuffer()));
  }

  // Nothing of the file exists yet: the first step, its retry, or a restarted legacy checkpoint.
  const fresh = row.cursorId === null;
  // The file is one gzip member however many slices write it: each slice appends deflate segments and
  // carries the CRC-32 and length on in its checkpoint; the last one writes the final block and trailer.
  const gzip = new GzipSegments(
    settings.gzipLevel,
    fresh ? undefined : { crc: row.gzipCrc, length: row.gzipLength },
  );
  const output: SliceOutput = {
    gzip,
    async store(rows) {
      lease.rows = row.rowsWritten + rows;
      for (const piece of gzip.take()) await parts.write(piece);
      if (lease.due) await lease.renew();
      await yieldToEventLoop();
    },
  };
  const limits: SliceLimits = { budgetRows: settings.budgetRows, deadline: Date.now() + settings.budgetMs };
  const { rows, finished, cursor } = await readSlice(env, row, settings, limits, output);
  if (finished) gzip.finish();
  else gzip.flush();
  await output.store(rows);

  const total = row.rowsWritten + rows;
  if (finished) {
    const [marked] = await db(env)
      .update(cdrExports)
      .set({ finalRowsCount: total })
      .where(held(row, owner))
      .returning({ id: cdrExports.id });
    if (!marked) throw new ExportCancelled();
    const size = await parts.finish();
    return complete(env, row, owner, total, size);
  }
  return checkpoint(env, row, owner, parts, cursor as Cursor, total, gzip.state);
}

/** The slice from the export's own source (fixed when it was created: a checkpoint means one source's cursor). */
function readSlice(
  env: Env,
  row: ExportRow,
  settings: ExportSettings,
  limits: SliceLimits,
  output: SliceOutput,
): Promise<SliceResult> {
  const source = row.cdrSource;
  if (!isCdrSource(source)) throw new PermanentExportError(`CDR_SOURCE ${source} is neither d1 nor postgres`);
  if (source === "postgres") return readPostgresSlice(env, row, settings.cdrTable, limits, output);
  return readD1Slice(env, row, settings, limits, output);
}

async function complete(
  env: Env,
  row: ExportRow,
  owner: string,
  rowsCount: number,
  size: number,
): Promise<RunOutcome> {
  const now = Date.now();
  const [done] = await db(env)
    .update(cdrExports)
    .set({
      status: "Completed",
      rowsCount,
      rowsWritten: rowsCount,
      rowsProgress: rowsCount,
      objectKey: objectKey(row.uuid),
      objectSize: size,
      updatedAt: now,
      progressAt: now,
      uploadId: null,
      parts: [],
      tailKey: null,
      tailSize: 0,
      leaseOwner: null,
      leaseUntil: null,
    })
    .where(held(row, owner))
    .returning({ id: cdrExports.id });
  if (!done) {
    // Deleted or failed while the upload was completing: the file just stored must not outlive the export.
    const now = await db(env)
      .select({ status: cdrExports.status })
      .from(cdrExports)
      .where(eq(cdrExports.id, row.id))
      .get();
    if (now?.status !== "Pending") await env.EXPORTS_BUCKET.delete(objectKey(row.uuid));
    throw new ExportCancelled();
  }
  if (row.tailKey) await removeTail(env, row.uuid, row.tailKey);
  await enqueueCallback(env, row.uuid, row.callbackUrl);
  return "completed";
}

/** Saves where the next invocation continues: cursor, upload, parts and the unflushed tail. */
async function checkpoint(
  env: Env,
  row: ExportRow,
  owner: string,
  parts: PartWriter,
  cursor: Cursor,
  rowsWritten: number,
  gzip: GzipState,
): Promise<RunOutcome> {
  const nextStep = row.step + 1;
  const tail = parts.tail();
  const newTailKey = tail.length ? tailKey(row.uuid, nextStep) : null;
  if (newTailKey) await env.EXPORTS_BUCKET.put(newTailKey, tail);
  const now = Date.now();
  const [saved] = await db(env)
    .update(cdrExports)
    .set({
      step: nextStep,
      attempts: 0,
      rowsWritten,
      rowsProgress: rowsWritten,
      cursorTimeStart: cursor.timeStart,
      cursorId: cursor.id,
      uploadId: parts.uploadId,
      parts: parts.parts,
      tailKey: newTailKey,
      tailSize: tail.length,
      gzipCrc: gzip.crc,
      gzipLength: gzip.length,
      progressAt: now,
      leaseOwner: null,
      leaseUntil: null,
    })
    .where(held(row, owner))
    .returning({ id: cdrExports.id });
  if (!saved) {
    if (newTailKey) await env.EXPORTS_BUCKET.delete(newTailKey);
    throw new ExportCancelled();
  }
  await enqueueExport(env, row.uuid, undefined, nextStep);
  if (row.tailKey) await removeTail(env, row.uuid, row.tailKey);
  return "continued";
}

/**
 * Deletes a checkpoint tail the export no longer needs. Best effort: once the checkpoint or completion is
 * recorded, a failure here must not fail the slice (that would abort the upload the checkpoint now holds).
 */
async function removeTail(env: Env, uuid: string, key: string): Promise<void> {
  try {
    await env.EXPORTS_BUCKET.delete(key);
  } catch (error) {
    log("warn", "could not delete a checkpoint tail", { exportId: uuid, key, ...errorFields(error) });
  }
}

/** Marks a Pending export Failed and cleans its upload and checkpoint tail. */
export async function failExport(env: Env, uuid: string, reason: string, step?: number): Promise<void> {
  const [row] = await db(env)
    .update(cdrExports)
    .set({
      status: "Failed",
      error: reason.slice(0, 1000),
      updatedAt: Date.now(),
      leaseOwner: null,
      leaseUntil: null,
    })
    .where(
      and(
        eq(cdrExports.uuid, uuid),
        eq(cdrExports.status, "Pending"),
        step === undefined ? undefined : eq(cdrExports.step, step),
      ),
    )
    .returning();
  if (!row) return;
  await enqueueCallback(env, uuid, row.callbackUrl);
  await abortUpload(env.EXPORTS_BUCKET, objectKey(uuid), row.uploadId);
  if (row.tailKey) await env.EXPORTS_BUCKET.delete(row.tailKey);
  await db(env)
    .update(cdrExports)
    .set({ uploadId: null, parts: [], tailKey: null, tailSize: 0 })
    .where(eq(cdrExports.id, row.id));
}
