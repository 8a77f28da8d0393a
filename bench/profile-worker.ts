// Bench-only Worker for profiling exports (never deployed): the real Worker plus `GET /__bench/stage`, which
// runs the export's read → CSV → TextEncoder → gzip → R2 pipeline up to one stage, sequentially (no page
// prefetch), with the src/ modules the export uses. Differences between stages' wall times attribute an
// export's time to D1, CSV encoding, UTF-8 encoding, gzip and R2. Run by bench/lib/profile.mjs.
import { type Cursor, cursorOf, fetchPage, planScan } from "../src/exports/cdr-scan";
import { customerColumns } from "../src/exports/columns";
import { createRowEncoder, csvHeader } from "../src/exports/csv";
import { CUSTOMER_FILTERS, normalizeFilters } from "../src/exports/filters";
import { PartWriter } from "../src/exports/part-writer";
import { createTimeFormatter } from "../src/exports/time-format";
import worker from "../src/index";

const STAGES = ["scan", "csv", "utf8", "gzip", "r2"] as const;
type Stage = (typeof STAGES)[number];

async function runStage(env: Env, query: URLSearchParams): Promise<Record<string, unknown>> {
  const stage = query.get("stage") as Stage;
  if (!STAGES.includes(stage)) throw new Error(`stage must be one of ${STAGES.join(", ")}`);
  const at = (s: Stage) => STAGES.indexOf(stage) >= STAGES.indexOf(s);
  const pageRows = Number(query.get("pageRows") ?? env.EXPORT_PAGE_ROWS ?? 5000);
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
        Number(env.EXPORT_PART_SIZE_BYTES ?? 8 * 1024 * 1024),
        { httpMetadata: { contentType: "application/gzip" } },
        { uploadId: null, parts: [] },
      )
    : null;
  let gzipBytes = 0;
  let writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  let drain: Promise<void> = Promise.resolve();
  if (at("gzip")) {
    const gzip = new CompressionStream("gzip");
    writer = gzip.writable.getWriter();
    drain = (async () => {
      const reader = gzip.readable.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        gzipBytes += value.length;
        if (parts) await parts.write(value);
      }
    })();
  }

  const started = Date.now();
  let d1Ms = 0;
  let rows = 0;
  let pages = 0;
  let chars = 0;
  let bytes = 0;
  let cursor: Cursor | null = null;
  const sink = async (text: string) => {
    chars += text.length;
    if (!at("utf8")) return;
    const encoded = utf8.encode(text);
    bytes += encoded.length;
    if (writer) await writer.write(encoded);
  };
  if (at("csv")) await sink(csvHeader(fields));
  for (;;) {
    const t = Date.now();
    const page = await fetchPage(env, plan, cursor, pageRows);
    d1Ms += Date.now() - t;
    pages++;
    rows += page.length;
    const last = page[page.length - 1];
    if (last) cursor = cursorOf(plan, last);
    if (at("csv")) {
      let text = "";
      for (const r of page) text += encode(r);
      await sink(text);
    }
    if (page.length < pageRows) break;
  }
  if (writer) {
    await writer.close();
    await drain;
  }
  let objectSize = 0;
  if (parts) {
    objectSize = await parts.finish();
    await env.EXPORTS_BUCKET.delete(key);
  }
  return {
    stage,
    pageRows,
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

export default {
  ...worker,
  async fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const url = new URL(request.url);
    if (url.pathname !== "/__bench/stage") return worker.fetch(request, env, ctx);
    try {
      return Response.json(await runStage(env, url.searchParams));
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Env, unknown>;
