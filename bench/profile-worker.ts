// Bench-only Worker (never deployed): the real Worker (its D1 round trips counted for requests that carry
// `x-bench-d1-trips`, see countedFetch) plus `GET /__bench/gc-mark` (see gcMark) and
// `GET /__bench/stage`, which runs the export's read → CSV → TextEncoder → gzip → R2 pipeline up to one
// stage, sequentially (no page prefetch), with the src/ modules the export uses. Differences between stages' wall times attribute an
// export's time to D1, CSV encoding, UTF-8 encoding, gzip and R2. Run by bench/lib/profile.mjs.

import { CUSTOMER_FILTERS, normalizeFilters } from "../src/cdr-exports/filters";
import { backfillCsvTails } from "../src/cdrs/backfill";
import { customerColumns } from "../src/file-format/columns";
import { createRowEncoder, csvHeader } from "../src/file-format/csv";
import { type GzipLevel, GzipSegments } from "../src/file-format/gzip-member";
import { createTimeFormatter } from "../src/file-format/time-format";
import worker from "../src/index";
import { type Cursor, cursorOf, fetchPage, planScan } from "../src/pipeline/cdr-scan";
import { PartWriter } from "../src/pipeline/part-writer";
import { exportSettings } from "../src/pipeline/run-export";

const STAGES = ["scan", "csv", "utf8", "gzip", "r2"] as const;
type Stage = (typeof STAGES)[number];

async function runStage(env: Env, query: URLSearchParams): Promise<Record<string, unknown>> {
  const stage = query.get("stage") as Stage;
  if (!STAGES.includes(stage)) throw new Error(`stage must be one of ${STAGES.join(", ")}`);
  const at = (s: Stage) => STAGES.indexOf(stage) >= STAGES.indexOf(s);
  const settings = exportSettings(env);
  const pageRows = Number(query.get("pageRows") ?? settings.pageRows);
  const fields = customerColumns(env.CUSTOMER_HIDDEN_COLUMNS);
  const { filters } = normalizeFilters(
    { time_start_gteq: query.get("from"), time_start_lt: query.get("to") },
    CUSTOMER_FILTERS,
  );
  const plan = planScan(fields, filters, Number(query.get("account")));
  const encode = createRowEncoder(plan.segments, createTimeFormatter("with_timezone", null));
  const utf8 = new TextEncoder();

  const key = `bench/profile-${crypto.randomUUID()}.csv.gz`;
  const parts = at("r2")
    ? new PartWriter(
        env.EXPORTS_BUCKET,
        key,
        settings.partSize,
        { httpMetadata: { contentType: "application/gzip" } },
        { uploadId: null, parts: [] },
      )
    : null;
  const level = Number(query.get("level") ?? settings.gzipLevel) as GzipLevel;
  const gzip = at("gzip") ? new GzipSegments(level) : null;
  let gzipBytes = 0;
  const store = async () => {
    for (const piece of gzip?.take() ?? []) {
      gzipBytes += piece.length;
      if (parts) await parts.write(piece);
    }
  };

  const started = Date.now();
  let d1Ms = 0;
  let rows = 0;
  let pages = 0;
  let chars = 0;
  let bytes = 0;
  let cursor: Cursor | null = null;
  // As the export does: each line into the writer, compressed segments stored as they come. Without
  // gzip, the utf8 stage encodes each line on its own.
  const line = (text: string) => {
    chars += text.length;
    if (gzip) gzip.write(text);
    else if (at("utf8")) bytes += utf8.encode(text).length;
  };
  if (at("csv")) line(csvHeader(fields));
  for (;;) {
    const t = Date.now();
    const page = await fetchPage(env, plan, cursor, pageRows);
    d1Ms += Date.now() - t;
    pages++;
    rows += page.length;
    const last = page[page.length - 1];
    if (last) cursor = cursorOf(plan, last);
    if (at("csv")) {
      for (const r of page) {
        line(encode(r));
        if (gzip?.ready) await store();
      }
    }
    if (page.length < pageRows) break;
  }
  gzip?.finish();
  await store();
  let objectSize = 0;
  if (parts) {
    objectSize = await parts.finish();
    await env.EXPORTS_BUCKET.delete(key);
  }
  return {
    stage,
    pageRows,
    level,
    rows,
    pages,
    chars,
    bytes,
    gzipBytes,
    objectSize,
    d1Ms,
    totalMs: Date.now() - started,
  };
}

const TRIPS_HEADER = "x-bench-d1-trips";
const RUNS = new Set(["first", "all", "raw", "run"]);

/**
 * The D1 binding with its round trips counted: each statement run and each batch is one, on the database
 * and on its sessions. Statements stay the real ones underneath (a batch gets them unwrapped).
 */
function countingD1(real: D1Database): { db: D1Database; trips: () => number } {
  let trips = 0;
  const realOf = new WeakMap<object, D1PreparedStatement>();
  const statement = (s: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(s, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => statement(target.bind(...values));
        const value = Reflect.get(target, prop);
        if (typeof value !== "function") return value;
        if (!RUNS.has(String(prop))) return value.bind(target);
        return (...args: unknown[]) => {
          trips++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    realOf.set(proxy, s);
    return proxy;
  };
  const handle = <T extends D1Database | D1DatabaseSession>(h: T): T =>
    new Proxy(h, {
      get(target, prop) {
        if (prop === "prepare") return (query: string) => statement(target.prepare(query));
        if (prop === "batch") {
          return (statements: D1PreparedStatement[]) => {
            trips++;
            return target.batch(statements.map((s) => realOf.get(s) ?? s));
          };
        }
        if (prop === "withSession") {
          return (constraint?: string) => handle((target as D1Database).withSession(constraint));
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return { db: handle(real), trips: () => trips };
}

/** Runs one request of the real Worker on a counting D1; the answer carries its round trips. */
async function countedFetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const d1 = countingD1(env.DB);
  const res = await worker.fetch(request, { ...env, DB: d1.db }, ctx);
  const counted = new Response(res.body, res);
  counted.headers.set(TRIPS_HEADER, String(d1.trips()));
  return counted;
}

/**
 * Allocates `mb` MiB of short-lived objects in this isolate and nowhere else, so the bench can tell this
 * isolate's lines in workerd's GC trace (it also hosts miniflare's and the D1/R2 simulators' isolates).
 */
function gcMark(query: URLSearchParams): Record<string, unknown> {
  const chunks = Number(query.get("mb") ?? 64) * 1024;
  let kept = 0;
  for (let i = 0; i < chunks; i++) kept += new Array(128).fill(i).length;
  return { allocated: kept };
}

/** The cron's csv_tail backfill run to the end, for a reused database loaded before migration 0005. */
async function backfillAll(env: Env): Promise<{ rows: number; ms: number }> {
  const started = Date.now();
  let rows = 0;
  for (let n = await backfillCsvTails(env); n > 0; n = await backfillCsvTails(env)) rows += n;
  return { rows, ms: Date.now() - started };
}

export default {
  ...worker,
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/gc-mark") return Response.json(gcMark(url.searchParams));
    if (url.pathname === "/__bench/backfill") return Response.json(await backfillAll(env));
    if (request.headers.has(TRIPS_HEADER)) return countedFetch(request, env, ctx);
    if (url.pathname !== "/__bench/stage") return worker.fetch(request, env, ctx);
    try {
      return Response.json(await runStage(env, url.searchParams));
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env, unknown>;
