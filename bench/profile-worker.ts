// Bench-only Worker (never deployed): the real Worker plus `GET /__bench/gc-mark` (see gcMark) and
// `GET /__bench/stage`, which runs the export's read → CSV → TextEncoder → gzip → R2 pipeline up to one
// stage, sequentially (no page prefetch), with the src/ modules the export uses. Differences between stages' wall times attribute an
// export's time to D1, CSV encoding, UTF-8 encoding, gzip and R2. Run by bench/lib/profile.mjs.
import { type Cursor, cursorOf, fetchPage, planScan } from "../src/exports/cdr-scan";
import { customerColumns } from "../src/exports/columns";
import { createRowEncoder, csvHeader } from "../src/exports/csv";
import { CUSTOMER_FILTERS, normalizeFilters } from "../src/exports/filters";
import { type GzipLevel, GzipSegments } from "../src/exports/gzip-member";
import { PartWriter } from "../src/exports/part-writer";
import { exportSettings } from "../src/exports/run-export";
import { createTimeFormatter } from "../src/exports/time-format";
import worker from "../src/index";

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

export default {
  ...worker,
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/gc-mark") return Response.json(gcMark(url.searchParams));
    if (url.pathname !== "/__bench/stage") return worker.fetch(request, env, ctx);
    try {
      return Response.json(await runStage(env, url.searchParams));
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env, unknown>;
