// The summary table and the Markdown report of a bench run (bench/out/results.md).

const MiB = 2 ** 20;
const fmt = (n, digits = 0) =>
  Number(n).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const met = (ok) => (ok ? "met" : "NOT met");

/** The Worker's own CPU for CSV + UTF-8 + gzip from the stage profile (stage differences), in ms. */
function csvGzipMs(r) {
  const s = r.profile?.stages;
  return s ? s.csv.ownMs + s.utf8.ownMs + s.gzip.ownMs : null;
}

/** The rows of a `--source postgres` run: the export from PostgreSQL against `psql \copy | gzip -6`. */
function postgresRows(r) {
  const t = r.targets;
  const e = r.pgExport;
  const b = r.pgBaseline;
  const ratio = e.rowsPerSec / b.rowsPerSec;
  const out = [
    [
      `Export from PostgreSQL (${fmt(e.rows)} rows, gzip level ${e.gzipLevel})`,
      `${fmt(e.rowsPerSec)} rows/s (${fmt(e.ms / 1000, 1)} s) vs psql \\copy \\| gzip -6 ${fmt(b.rowsPerSec)} rows/s (${fmt(b.wallMs / 1000, 1)} s) = ${fmt(ratio, 2)}×`,
      `≥ ${fmt(t.throughputRatio, 1)}×`,
      met(ratio >= t.throughputRatio),
    ],
    [
      "File: content vs the baseline's, size",
      `${e.sameAsBaseline ? "identical bytes after gunzip" : "DIFFERS"}; ${fmt(e.bytes / MiB, 1)} MiB vs ${fmt(b.bytes / MiB, 1)} MiB = ${fmt(e.bytes / b.bytes, 2)}×`,
      "identical",
      met(e.sameAsBaseline),
    ],
  ];
  out.push(
    e.gc
      ? [
          "Worker heap peak, V8 used at any GC, from its GC trace",
          `${fmt(e.gc.peakUsed, 1)} MiB (${e.gc.gcs} GCs, ${e.gc.markCompacts} full; after full GCs ${e.gc.peakAfterMarkCompact ?? "—"} MiB)`,
          `≤ ${t.heapMiB} MiB`,
          met(e.gc.peakUsed <= t.heapMiB),
        ]
      : ["Worker heap peak", "no GC trace (see the bench log)", "—", "—"],
  );
  out.push([
    "workerd VmHWM (Worker + local D1/R2 simulators)",
    `idle ${fmt(e.idleHwm / MiB)} MiB → ${fmt(e.hwm / MiB)} MiB; workerd CPU ${fmt(e.cpuMs / 1000, 1)} s`,
    "—",
    "—",
  ]);
  out.push([
    `GET /cdr-exports/{id} during the export`,
    `${e.shows.count} requests, p50 ${fmt(e.shows.p50)} ms, p99 ${fmt(e.shows.p99)} ms; ${e.progressValues} distinct rows-written values`,
    "—",
    "—",
  ]);
  return out;
}

/** [metric, measured, target, verdict] rows. */
function rows(r) {
  if (r.source === "postgres") return postgresRows(r);
  const t = r.targets;
  const out = [];
  const { small, large } = r;
  const ratio = large.rowsPerSec / r.baseline.rowsPerSec;
  out.push([
    `Export throughput (${fmt(large.rows)} rows)`,
    `${fmt(large.rowsPerSec)} rows/s (${fmt(large.ms / 1000, 1)} s) vs sqlite3 \\| gzip -6 ${fmt(r.baseline.rowsPerSec)} rows/s (${fmt(r.baseline.wallMs / 1000, 1)} s) = ${fmt(ratio, 2)}×`,
    `≥ ${fmt(t.throughputRatio, 2)}×`,
    met(ratio >= t.throughputRatio),
  ]);
  const sizeRatio = large.bytes / r.baseline.bytes;
  out.push([
    "File size at the default level vs the baseline's",
    `${fmt(large.bytes / MiB, 1)} MiB vs ${fmt(r.baseline.bytes / MiB, 1)} MiB = ${fmt(sizeRatio, 2)}×`,
    `≤ ${fmt(t.sizeRatio, 1)}×`,
    met(sizeRatio <= t.sizeRatio),
  ]);
  const cpu = csvGzipMs(r);
  if (cpu === null || !large.gzip6)
    out.push(["Worker CPU for CSV + gzip vs gzip -6 alone", "not measured (--no-profile)", "—", "—"]);
  else {
    const cpuRatio = cpu / large.gzip6.alone.cpuMs;
    out.push([
      `Worker CPU for CSV + gzip of ${fmt(large.rows)} rows vs gzip -6 alone on the same CSV`,
      `${fmt(cpu / 1000, 2)} s vs ${fmt(large.gzip6.alone.cpuMs / 1000, 2)} s = ${fmt(cpuRatio, 2)}×`,
      `≤ ${fmt(t.cpuVsGzip, 1)}×`,
      met(cpuRatio <= t.cpuVsGzip),
    ]);
  }
  const sizes = `${fmt(small.rows)} / ${fmt(large.rows)} rows`;
  if (!small.gc || !large.gc)
    out.push([`Worker heap peak (${sizes})`, "no GC trace (see the bench log)", "—", "—"]);
  else {
    const heapRatio = large.gc.peakUsed / small.gc.peakUsed;
    out.push([
      `Worker heap peak, V8 used at any GC, from its GC trace (${sizes})`,
      `${fmt(small.gc.peakUsed, 1)} MiB / ${fmt(large.gc.peakUsed, 1)} MiB = ${fmt(heapRatio, 2)}× ` +
        `(${small.gc.gcs} / ${large.gc.gcs} GCs; after full GCs ${small.gc.peakAfterMarkCompact ?? "—"} / ${large.gc.peakAfterMarkCompact ?? "—"} MiB)`,
      `≤ ${t.heapMiB} MiB, ≤ ${fmt(t.memoryRatio, 1)}×`,
      met(Math.max(small.gc.peakUsed, large.gc.peakUsed) <= t.heapMiB && heapRatio <= t.memoryRatio),
    ]);
  }
  out.push([
    `GET /cdr-exports/{id} during the ${fmt(large.rows)}-row export`,
    `${large.shows.count} requests, p50 ${fmt(large.shows.p50)} ms, p99 ${fmt(large.shows.p99)} ms, max ${fmt(large.shows.max)} ms; ` +
      `${large.progressValues} distinct rows-written values seen`,
    `p99 < ${fmt(t.showP99Ms)} ms`,
    met(large.shows.p99 !== null && large.shows.p99 < t.showP99Ms),
  ]);
  const memRatio = large.hwm / small.hwm;
  out.push([
    `workerd VmHWM: Worker + local D1/R2 simulators (${sizes})`,
    `${fmt(small.hwm / MiB)} MiB → ${fmt(large.hwm / MiB)} MiB = ${fmt(memRatio, 2)}×; above idle ` +
      `${fmt((small.hwm - small.idleHwm) / MiB)} → ${fmt((large.hwm - large.idleHwm) / MiB)} MiB`,
    "—",
    "—",
  ]);
  if (r.api) {
    const { noop, list, post } = r.api;
    const postRatio = post.rps / noop.rps;
    out.push([
      `POST /cdr-exports (${r.api.connections} conn., ${r.api.seconds} s)`,
      `${fmt(post.rps)} req/s, p50 ${post.p50} ms, p99 ${post.p99} ms; ${fmt(postRatio, 2)}× no-op`,
      `≥ ${t.postVsNoop}× no-op, p99 < ${t.postP99Ms} ms`,
      met(postRatio >= t.postVsNoop && post.p99 < t.postP99Ms),
    ]);
    const listRatio = list.rps / noop.rps;
    out.push([
      "GET /cdr-exports (50 of 10k)",
      `${fmt(list.rps)} req/s, p50 ${list.p50} ms, p99 ${list.p99} ms; ${fmt(listRatio, 2)}× no-op`,
      `≥ ${t.listVsNoop}× no-op`,
      met(listRatio >= t.listVsNoop),
    ]);
    const trips = r.api.roundTrips;
    if (trips) {
      const most = t.d1RoundTrips;
      out.push([
        "D1 round trips per request, the access check included",
        `create ${trips.create}, show ${trips.show}, list ${trips.list} (first create through an access ` +
          `the isolate has not seen, token without cid: ${trips.createUnknownAccess})`,
        `create ${most}, show ${most}, list ${most}`,
        met(trips.create <= most && trips.show <= most && trips.list <= most),
      ]);
    }
    out.push([
      "No-op (JSON 404)",
      `${fmt(noop.rps)} req/s, p50 ${noop.p50} ms, p99 ${noop.p99} ms`,
      "—",
      "—",
    ]);
  }
  out.push([
    `Latency to file, 1k rows (median of ${r.latency.runs.length})`,
    `${fmt(r.latency.medianMs)} ms (min ${fmt(r.latency.minMs)}, max ${fmt(r.latency.maxMs)})`,
    `< ${fmt(t.latencyMs)} ms`,
    met(r.latency.medianMs < t.latencyMs),
  ]);
  return out;
}

export function renderTable(r) {
  const header = ["metric", "measured", "target", "verdict"];
  const body = rows(r);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

function markdownTable(header, body) {
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`]
    .concat(body.map((row) => `| ${row.join(" | ")} |`))
    .join("\n");
}

/** The Markdown report of a `--source postgres` run. */
function renderPostgresReport(r) {
  const m = r.machine;
  const b = r.pgBaseline;
  const parts = [`# Bench run ${r.startedAt} (PostgreSQL source)\n`];
  parts.push(
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, wrangler ${m.wrangler}, ` +
      `workerd ${m.workerd}, ${m.psql}, ${m.gzip}; commit ${m.commit}${m.dirty ? " + uncommitted src/ changes" : ""}. ` +
      `Load average at start ${r.loadavg.start}, at end ${r.loadavg.end}.\n`,
  );
  parts.push(`Command: \`npm run bench -- ${r.args.join(" ")}\` (${r.totalSeconds} s)\n`);
  parts.push(markdownTable(["metric", "measured", "target", "verdict"], postgresRows(r)));
  parts.push("\n## Details\n");
  if (r.load) {
    parts.push(
      `- Load: ${fmt(r.load.rows)} CDRs written as COPY text in ${fmt(r.load.generatedMs / 1000, 1)} s ` +
        `(${fmt(r.load.bytes / MiB)} MiB), COPY FROM it in ${fmt(r.load.loadMs / 1000, 1)} s.`,
    );
  }
  parts.push(
    `- Baseline runs (wall / CPU s, psql + gzip): ${b.runs.map((x) => `${fmt(x.wallMs / 1000, 2)} / ${fmt(x.cpuMs / 1000, 2)}`).join(", ")}; ` +
      `psql alone (no gzip) ${fmt(b.psqlAlone.wallMs / 1000, 2)} s wall; file ${fmt(b.bytes / MiB, 1)} MiB.`,
  );
  const e = r.pgExport;
  parts.push(
    `- Export: ${fmt(e.rows)} rows in ${fmt(e.ms / 1000, 2)} s (POST to Completed), ${fmt(e.lines)} lines ` +
      `(${e.linesOk ? "= rows + 1" : "WRONG"}); VmHWM idle ${fmt(e.idleHwm / MiB)} MiB → ${fmt(e.hwm / MiB)} MiB, ` +
      `sampled peak VmRSS ${fmt(e.peakRss / MiB)} MiB` +
      (e.heap
        ? `; Worker V8 heap (inspector) used idle ${fmt(e.heap.idleUsed / MiB, 1)} MiB → peak ${fmt(e.heap.peakUsed / MiB, 1)} MiB, ArrayBuffers ${fmt(e.heap.peakBuffers / MiB, 1)} MiB.`
        : "."),
  );
  if (e.gc) {
    parts.push(
      `- Worker isolate's GC trace: ${e.gc.gcs} GCs (${e.gc.markCompacts} full), V8 used peak ${e.gc.peakUsed} MiB, ` +
        `after full GCs ${e.gc.peakAfterMarkCompact ?? "—"} MiB, committed peak ${e.gc.peakCommitted} MiB.`,
    );
  }
  const p = r.pgProfile;
  if (p) {
    parts.push(
      `\nCPU profile of a second export (${fmt(p.exportMs / 1000, 1)} s under the profiler, ${fmt(p.totalMs / 1000, 1)} s sampled), self time by file:\n`,
    );
    parts.push(
      markdownTable(
        ["file / frame", "self ms", "share"],
        p.files.map((f) => [f.name, fmt(f.ms), `${fmt(100 * f.share, 1)} %`]),
      ),
    );
    parts.push("\nTop functions:\n");
    parts.push(
      markdownTable(
        ["function", "self ms", "share"],
        p.functions.map((f) => [f.name, fmt(f.ms), `${fmt(100 * f.share, 1)} %`]),
      ),
    );
  }
  return `${parts.join("\n")}\n`;
}

export function renderReport(r) {
  if (r.source === "postgres") return renderPostgresReport(r);
  const m = r.machine;
  const parts = [];
  parts.push(`# Bench run ${r.startedAt}\n`);
  parts.push(
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, wrangler ${m.wrangler}, ` +
      `workerd ${m.workerd}, ${m.sqlite3}, ${m.gzip}, autocannon ${m.autocannon}; commit ${m.commit}` +
      `${m.dirty ? " + uncommitted src/ changes" : ""}. Load average at start ${r.loadavg.start}, at end ${r.loadavg.end}.\n`,
  );
  parts.push(
    `Command: \`npm run bench${r.args.length ? ` -- ${r.args.join(" ")}` : ""}\` (${r.totalSeconds} s)\n`,
  );
  parts.push(markdownTable(["metric", "measured", "target", "verdict"], rows(r)));
  parts.push("\n## Details\n");
  if (r.load) {
    parts.push(
      `- Load: ${fmt(r.load.rows)} CDRs in ${fmt(r.load.ms / 1000, 1)} s (${fmt(r.load.rows / (r.load.ms / 1000))} rows/s), ` +
        `${r.load.requests} NDJSON requests, ${fmt(r.load.bytes / MiB)} MiB.`,
    );
  }
  const b = r.baseline;
  parts.push(
    `- Baseline runs (wall / CPU s): ${b.runs.map((x) => `${fmt(x.wallMs / 1000, 2)} / ${fmt(x.cpuMs / 1000, 2)}`).join(", ")}; ` +
      `file ${fmt(b.bytes / MiB, 1)} MiB; SQLite scan alone ${fmt(b.scan.wallMs / 1000, 2)} s.`,
  );
  for (const [name, e] of [
    ["Large export", r.large],
    ["Small export", r.small],
  ]) {
    parts.push(
      `- ${name}: ${fmt(e.rows)} rows in ${fmt(e.ms / 1000, 2)} s (${fmt(e.rowsPerSec)} rows/s), workerd CPU ${fmt(e.cpuMs / 1000, 1)} s; ` +
        `file ${fmt(e.bytes / MiB, 1)} MiB, ${fmt(e.lines)} lines (${e.linesOk ? "= rows + 1" : "WRONG"})` +
        `${e.sameAsBaseline === undefined ? "" : `, content ${e.sameAsBaseline ? "equals" : "DIFFERS from"} the baseline's (quotes aside)`}; ` +
        `VmHWM idle ${fmt(e.idleHwm / MiB)} MiB → ${fmt(e.hwm / MiB)} MiB, sampled peak VmRSS ${fmt(e.peakRss / MiB)} MiB` +
        (e.heap
          ? `; Worker V8 heap used idle ${fmt(e.heap.idleUsed / MiB, 1)} MiB → peak ${fmt(e.heap.peakUsed / MiB, 1)} MiB ` +
            `(total ${fmt(e.heap.peakTotal / MiB, 1)} MiB), ArrayBuffers off-heap peak ` +
            `${fmt(e.heap.peakBuffers / MiB, 1)} MiB; ${fmt(e.heap.samples)} readings asked every ` +
            `${e.heap.everyMs} ms, longest gap ${fmt(e.heap.maxGapMs)} ms.`
          : "; Worker heap not read."),
    );
  }
  for (const [name, e] of [
    ["large", r.large],
    ["small", r.small],
  ]) {
    if (!e.gc) continue;
    parts.push(
      `- Worker isolate's GC trace, ${name} export: ${e.gc.gcs} GCs (${e.gc.markCompacts} full), V8 used peak ` +
        `${e.gc.peakUsed} MiB, after full GCs ${e.gc.peakAfterMarkCompact ?? "—"} MiB, committed peak ${e.gc.peakCommitted} MiB.`,
    );
  }
  if (r.large.gzip6) {
    parts.push(
      `- gzip -6 alone on the large export's CSV: ${fmt(r.large.gzip6.alone.wallMs / 1000, 2)} s wall, ` +
        `${fmt(r.large.gzip6.alone.cpuMs / 1000, 2)} s CPU.`,
    );
  }
  parts.push(`- Latency runs (ms): ${r.latency.runs.map((x) => fmt(x.ms)).join(", ")}.`);
  if (r.api) {
    for (const via of ["wrangler", "direct"]) {
      const a = r.api[via];
      if (!a) continue;
      for (const x of [a.noop, a.list, a.post]) {
        parts.push(
          `- ${x.title} (${via === "wrangler" ? "through wrangler's port" : "straight to the user workerd"}): ` +
            `${fmt(x.requests)} requests, ${fmt(x.rps)} req/s, p50 ${x.p50} ms, p99 ${x.p99} ms, ` +
            `max ${x.max} ms, non-2xx ${x.non2xx}, errors ${x.errors}.`,
        );
      }
      parts.push(
        `  - POST/no-op ${fmt(a.post.rps / a.noop.rps, 2)}×; ${fmt(a.drain.ms / 1000, 0)} s after the POST run, ` +
          `${fmt(a.drain.pending)} of its exports were still Pending (queue consumer backlog).`,
      );
    }
  }
  if (r.api?.cpu) {
    parts.push("\n## API CPU profiles (5 s at the same concurrency, straight to the user workerd)\n");
    for (const [name, cpu] of Object.entries(r.api.cpu)) {
      parts.push(`${name}: ${fmt(cpu.totalMs / 1000, 1)} s sampled, self time by file:\n`);
      parts.push(
        markdownTable(
          ["file / frame", "self ms", "share"],
          cpu.files.map((f) => [f.name, fmt(f.ms), `${fmt(100 * f.share, 1)} %`]),
        ),
      );
      parts.push("");
    }
  }
  if (r.profileError) parts.push(`\nProfile failed: ${r.profileError}\n`);
  if (r.profile) {
    const p = r.profile;
    parts.push("\n## Profile\n");
    parts.push("Stages of bench/profile-worker.ts, each run alone over all rows, sequential pages:\n");
    parts.push(
      markdownTable(
        ["up to stage", "wall s", "own s", "own share", "in-worker D1 wait s"],
        Object.values(p.stages).map((s) => [
          s.stage,
          fmt(s.wallMs / 1000, 2),
          fmt(s.ownMs / 1000, 2),
          `${fmt((100 * s.ownMs) / p.stages.r2.wallMs)} %`,
          fmt(s.d1Ms / 1000, 2),
        ]),
      ),
    );
    if (p.levels) {
      parts.push("\nCompression level (gzip stage less the utf8 stage, over all rows; file size):\n");
      parts.push(
        markdownTable(
          ["level", "gzip s", "file MiB"],
          Object.entries(p.levels).map(([level, x]) => [level, fmt(x.ms / 1000, 2), fmt(x.bytes / MiB, 1)]),
        ),
      );
    }
    parts.push(
      `\nScan alone by page size: ${Object.entries(p.pageRows)
        .map(([n, s]) => `${n} rows/page ${fmt(s.wallMs / 1000, 2)} s`)
        .join(", ")}; ${p.stages.scan.pageRows} rows/page ${fmt(p.stages.scan.wallMs / 1000, 2)} s.\n`,
    );
    if (!p.cpu) return `${parts.join("\n")}\n`;
    parts.push(
      `CPU profile of one real export (${fmt(p.cpu.exportMs / 1000, 1)} s under the profiler, workerd CPU ` +
        `${fmt(p.cpu.workerdCpuMs / 1000, 1)} s, ${fmt(p.cpu.totalMs / 1000, 1)} s sampled), self time by file:\n`,
    );
    parts.push(
      markdownTable(
        ["file / frame", "self ms", "share"],
        p.cpu.files.map((f) => [f.name, fmt(f.ms), `${fmt(100 * f.share, 1)} %`]),
      ),
    );
    parts.push("\nTop functions:\n");
    parts.push(
      markdownTable(
        ["function", "self ms", "share"],
        p.cpu.functions.map((f) => [f.name, fmt(f.ms), `${fmt(100 * f.share, 1)} %`]),
      ),
    );
  }
  return `${parts.join("\n")}\n`;
}
