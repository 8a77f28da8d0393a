// `npm run bench [-- --rows N]`: export throughput against sqlite3|gzip, memory of a small and a large
// export, API requests/s and latency, latency to file. See bench/README.md; results go to bench/out/.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CUSTOMER_COLUMNS } from "../src/file-format/columns.ts";
import { Api, cdrSpec, loadCdrs } from "./lib/api.mjs";
import {
  baselineQuery,
  copyDatabase,
  d1File,
  ensureSqlite3,
  runBaseline,
  timedShell,
  versionOf,
} from "./lib/baseline.mjs";
import {
  applyMigrations,
  BENCH_EXPORT_RATE_LIMIT,
  buildBenchWorker,
  DevServer,
  OUT,
  ROOT,
  wranglerRun,
} from "./lib/dev-server.mjs";
import { gcMark, gcWindow, workerIsolate } from "./lib/gc-trace.mjs";
import { sampleHeap } from "./lib/heap.mjs";
import { loadTest } from "./lib/http-bench.mjs";
import {
  contentDigest,
  loadPostgres,
  PG_DATABASE,
  pgExportQuery,
  psqlVersion,
  rowsOf,
  runPgBaseline,
  setupPostgres,
} from "./lib/postgres.mjs";
import { stageProfile, startCpuProfile, summarizeProfile } from "./lib/profile.mjs";
import { renderReport, renderTable } from "./lib/report.mjs";

const { values: opts } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    seed: { type: "string", default: "20261001" },
    batch: { type: "string", default: "10000" },
    "latency-runs": { type: "string", default: "20" },
    "list-exports": { type: "string", default: "10000" },
    connections: { type: "string", default: "32" },
    seconds: { type: "string", default: "15" },
    profile: { type: "boolean", default: false },
    "no-profile": { type: "boolean", default: false },
    "skip-api": { type: "boolean", default: false },
    reuse: { type: "boolean", default: false },
    var: { type: "string", multiple: true, default: [] },
    // "postgres": the export reads Yeti's cdr.cdr through CDR_DB (bench/lib/postgres.mjs) instead of D1.
    source: { type: "string", default: "d1" },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  console.log(readFileSync(path.join(import.meta.dirname, "README.md"), "utf8"));
  process.exit(0);
}
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `Node ${process.version}: run the bench with \`npm run bench\` (Node 22 from the devDependency).`,
  );
  process.exit(1);
}

const ROWS = Number(opts.rows);
const SEED = Number(opts.seed);
const SMALL_ROWS = Math.round(ROWS / 10);
// One calendar month: October 2026, UTC.
const FROM = Date.UTC(2026, 9, 1);
const TO = Date.UTC(2026, 10, 1);
const SPAN = TO - FROM;
const STATE = path.join(OUT, "state");
const MARKER = path.join(STATE, "bench-data.json");
const TARGETS = {
  throughputRatio: 0.75,
  sizeRatio: 1.2,
  cpuVsGzip: 0.5,
  heapMiB: 64,
  memoryRatio: 1.1,
  showP99Ms: 1000,
  postVsNoop: 0.4,
  postP99Ms: 150,
  listVsNoop: 0.4,
  d1RoundTrips: 1,
  latencyMs: 1500,
};
const LEVELS = [1, 3, 6, 9];

const started = Date.now();
const log = (message) => console.log(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${message}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** p50/p99/max of latencies in ms (nearest rank), and how many. */
function percentiles(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? null;
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? null };
}
const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

/** CPU seconds (user+sys) a process has used so far, from /proc/<pid>/stat. */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * Samples the workerd's VmRSS every 100 ms while `run` runs; returns run's result with memory and CPU.
 * With `heap`, also the Worker isolate's V8 heap (bench/lib/heap.mjs): not while a CPU profile holds the
 * inspector, which takes one client at a time.
 */
async function measured(server, run, { heap = false } = {}) {
  const pid = server.workerdPid;
  let peakRss = 0;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, server.memory()?.rss ?? 0);
  }, 100);
  // A failed heap reading costs the heap figures only, not the export's other numbers.
  const skipHeap = (error) => log(`Worker heap sampling failed: ${error.message}`);
  const stopHeap = heap ? await sampleHeap(server).catch(skipHeap) : undefined;
  const cpuBefore = cpuMsOf(pid);
  const gcFrom = server.gcTraceFile ? gcMark(server.gcTraceFile) : null;
  try {
    const result = await run();
    const workerd = { peakRss, hwm: server.memory().hwm, cpuMs: cpuMsOf(pid) - cpuBefore };
    const gc =
      gcFrom === null
        ? undefined
        : gcWindow(server.gcTraceFile, pid, gcFrom).find((i) => i.isolate === server.isolate);
    return { ...result, ...workerd, gc, heap: await stopHeap?.().catch(skipHeap) };
  } finally {
    clearInterval(timer);
  }
}

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
/** One log line on an export's memory: the workerd process's, then the Worker isolate's own heap. */
function logMemory(e) {
  const heap = e.heap
    ? `; Worker V8 heap used idle ${mib(e.heap.idleUsed)}, peak ${mib(e.heap.peakUsed)} ` +
      `(total ${mib(e.heap.peakTotal)}), ArrayBuffers ${mib(e.heap.peakBuffers)} ` +
      `(${e.heap.samples} readings, longest gap ${e.heap.maxGapMs} ms)`
    : "";
  log(`  memory: workerd VmHWM ${mib(e.hwm)} (idle ${mib(e.idleHwm)})${heap}`);
  const g = e.gc;
  if (g) {
    log(
      `  Worker isolate's GC trace: ${g.gcs} GCs (${g.markCompacts} full), used peak ${g.peakUsed} MiB, ` +
        `after full GCs ${g.peakAfterMarkCompact ?? "—"} MiB, committed peak ${g.peakCommitted} MiB`,
    );
  }
}

function gitInfo() {
  const git = (...args) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  return { commit: git("rev-parse", "--short", "HEAD"), dirty: git("status", "--short", "--", "src") !== "" };
}

function machine() {
  const pkg = (p) =>
    JSON.parse(readFileSync(path.join(ROOT, "node_modules", p, "package.json"), "utf8")).version;
  const workerd = ["wrangler/node_modules/workerd", "workerd"].find((p) =>
    existsSync(path.join(ROOT, "node_modules", p, "package.json")),
  );
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    wrangler: pkg("wrangler"),
    workerd: workerd ? pkg(workerd) : "unknown",
    autocannon: pkg("autocannon"),
    sqlite3: versionOf("sqlite3").split(" ").slice(0, 2).join(" "),
    gzip: versionOf("gzip"),
    ...gitInfo(),
  };
}

/** POST → Completed of [fromMs, toMs); downloads the file and checks it has rows-count + 1 lines. */
async function exportAndVerify(api, tenant, fromMs, toMs, file, pollMs) {
  const done = await api.timedExport(tenant, fromMs, toMs, { pollMs });
  const rows = done.attributes["rows-count"];
  writeFileSync(file, await api.download(tenant, done.id));
  const lines = Number(timedShell(`gzip -dc '${file}' | wc -l`).stdout.trim());
  const pending = done.polls.filter((p) => p.status === "Pending");
  const shows = percentiles(pending.map((p) => p.ms));
  const progressValues = new Set(pending.map((p) => p.rowsWritten)).size;
  const bytes = statSync(file).size;
  return { id: done.id, ms: done.ms, rows, lines, bytes, linesOk: lines === rows + 1, shows, progressValues };
}

/** The export's CSV and the baseline's, compared with quotes removed (FORCE_QUOTE vs minimal quoting). */
function sameContent(exportFile, baselineFile) {
  const digest = (f) => timedShell(`gzip -dc '${f}' | tr -d '"' | md5sum`).stdout.split(" ")[0];
  return digest(exportFile) === digest(baselineFile);
}

/** 10k exports of the list tenant, written straight into the local D1 (no queue work). */
function seedListExports(config, accountId, count) {
  const fields = JSON.stringify(CUSTOMER_COLUMNS);
  const filters = JSON.stringify({
    time_start_gteq: new Date(FROM).toISOString(),
    time_start_lt: new Date(TO).toISOString(),
  });
  const base = Date.UTC(2026, 10, 1);
  const sql = `INSERT INTO cdr_exports (uuid, status, filters, fields, time_format, rows_count, customer_account_id,
  created_at, updated_at, progress_at, object_key, object_size)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
SELECT printf('00000000-0000-4000-8000-%012d', i), 'Completed', '${filters}', '${fields}', 'with_timezone', 1000,
  ${accountId}, ${base} + i * 1000, ${base} + i * 1000 + 500, ${base} + i * 1000 + 500,
  printf('exports/00000000-0000-4000-8000-%012d.csv.gz', i), 123456 FROM n;\n`;
  const file = path.join(OUT, "seed-list-exports.sql");
  writeFileSync(file, sql);
  wranglerRun(
    ["d1", "execute", "DB", "--local", "-c", config, "--persist-to", STATE, "--file", file, "-y"],
    path.join(OUT, "seed-list-exports.log"),
  );
}

/** Waits until the tenant has no Pending export (the consumer drained the POST benchmark's exports). */
async function drain(api, tenant, limitMs = 180_000) {
  const t0 = performance.now();
  for (;;) {
    const body = await api.customer(
      tenant.auth,
      "GET",
      "/cdr-exports?filter[status_eq]=Pending&page[size]=1",
    );
    const pending = body.meta["total-count"];
    if (pending === 0 || performance.now() - t0 > limitMs) return { pending, ms: performance.now() - t0 };
    await sleep(500);
  }
}

/**
 * D1 round trips of one create, show and list, the access check included, counted by the bench Worker
 * (bench/profile-worker.ts) for requests that carry `x-bench-d1-trips`. The create uses a token from
 * POST /auth, as Yeti clients do; `createUnknownAccess` is the first create through an access the isolate
 * has not seen, with a token minted elsewhere (no `cid`), which checks the access first.
 */
async function roundTrips(base, api, tenants) {
  const customerBase = `${base}/api/rest/customer/v1`;
  const counted = async (path, init) => {
    const res = await fetch(`${customerBase}${path}`, {
      ...init,
      headers: { Accept: "application/vnd.api+json", ...init.headers, "x-bench-d1-trips": "1" },
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return { trips: Number(res.headers.get("x-bench-d1-trips")), body: text ? JSON.parse(text) : null };
  };
  const create = (auth, tenant) =>
    counted("/cdr-exports", {
      method: "POST",
      headers: { Authorization: auth, "Content-Type": "application/vnd.api+json" },
      body: JSON.stringify(Api.exportBody(tenant.accountUuid, FROM, TO)),
    });
  const login = await fetch(`${customerBase}/auth`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ auth: { login: `${tenants.api.name}-login`, password: "bench-password" } }),
  });
  if (login.status !== 201) throw new Error(`login: ${login.status}`);
  const auth = `Bearer ${(await login.json()).jwt}`;
  const created = await create(auth, tenants.api);
  const show = await counted(`/cdr-exports/${created.body.data.id}?include=account`, {
    headers: { Authorization: auth },
  });
  const list = await counted("/cdr-exports?include=account", {
    headers: { Authorization: tenants.list.auth },
  });
  const unknown = await api.tenant(`bench-trips-${Date.now()}`);
  const createUnknownAccess = await create(unknown.auth, unknown);
  return {
    create: created.trips,
    show: show.trips,
    list: list.trips,
    createUnknownAccess: createUnknownAccess.trips,
  };
}

/**
 * no-op, list and POST at `--connections` for `--seconds`, through wrangler's port (its proxy workerd in
 * front, as `wrangler dev` serves) and straight to the user workerd's entry; then short CPU profiles.
 */
async function apiBench(server, api, tenants) {
  const connections = Number(opts.connections);
  const seconds = Number(opts.seconds);
  const direct = await server.directBase();
  const out = { rateLimit: BENCH_EXPORT_RATE_LIMIT, connections, seconds, direct: direct !== null };
  const routes = (base) => ({
    noop: { title: "no-op (JSON 404)", url: `${base}/__bench/noop` },
    list: {
      title: "GET /cdr-exports",
      url: `${base}/api/rest/customer/v1/cdr-exports`,
      headers: { Authorization: tenants.list.auth, Accept: "application/vnd.api+json" },
    },
    post: {
      title: "POST /cdr-exports",
      url: `${base}/api/rest/customer/v1/cdr-exports`,
      method: "POST",
      headers: {
        Authorization: tenants.api.auth,
        Accept: "application/vnd.api+json",
        "Content-Type": "application/vnd.api+json",
      },
      body: JSON.stringify(Api.exportBody(tenants.api.accountUuid, FROM, TO)),
    },
  });
  const paths = [["wrangler", server.base], ...(direct ? [["direct", direct]] : [])];
  const run = async (via, name, route) => {
    log(`API (${via}): ${route.title}, ${connections} connections, ${seconds} s`);
    const r = await loadTest({
      ...route,
      connections,
      seconds,
      rawFile: path.join(OUT, `autocannon-${via}-${name}.json`),
    });
    out[via][name] = r;
    log(
      `  ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`,
    );
  };
  const profiled = async (name, route) => {
    try {
      const stop = await startCpuProfile(server);
      await loadTest({ ...route, connections, seconds: 5 });
      out.cpu[name] = summarizeProfile(await stop(), server.bundle, path.join(OUT, `api-${name}.cpuprofile`));
    } catch (error) {
      log(`CPU profile of ${name} failed: ${error}`);
    }
  };
  out.cpu = {};
  out.roundTrips = await roundTrips(server.base, api, tenants);
  log(`  D1 round trips: ${JSON.stringify(out.roundTrips)}`);
  // Read-only routes first; the POSTs last, as each leaves a backlog of exports for the queue consumer.
  for (const [via, base] of paths) {
    out[via] = {};
    for (const name of ["noop", "list"]) {
      await run(via, name, routes(base)[name]);
      await sleep(1000);
    }
  }
  // Where a request's time goes: 5 s CPU profiles (straight to the user workerd when found).
  await profiled("list", routes(direct ?? server.base).list);
  for (const [via, base] of paths) {
    await run(via, "post", routes(base).post);
    out[via].drain = await drain(api, tenants.api, 60_000);
    log(
      `  consumer: ${out[via].drain.pending} exports still Pending ${(out[via].drain.ms / 1000).toFixed(0)} s after`,
    );
  }
  await profiled("post", routes(direct ?? server.base).post);
  Object.assign(out, out.wrangler);
  return out;
}

/**
 * wrangler dev of the profiling bundle (the real Worker plus /__bench routes) with V8's GC trace on, and
 * the Worker's isolate found in it, so the heap is read from the isolate's own GC lines.
 */
async function exportServer(build, label, persistTo = STATE) {
  const server = await new DevServer({
    config: build.config,
    persistTo,
    label,
    gcTrace: true,
  }).start();
  server.bundle = build.bundle;
  await sleep(1000);
  server.isolate = await workerIsolate(server);
  await sleep(500);
  return server;
}

/** The PostgreSQL bench's Yeti ids: its customer and account, as cdr.cdr names them. */
const PG_TENANT = { customerId: 8001, accountId: 8101, accountUuid: "8e5b0c1a-0000-4000-8000-000000008101" };
const PG_TARGETS = { throughputRatio: 1.5, heapMiB: 64 };

/**
 * `--source postgres`: the same CDRs in PostgreSQL (COPY FROM a generated file), `psql \copy ... | gzip -6`
 * as the baseline, then one export of them all through the customer API with CDR_SOURCE=postgres.
 */
async function postgresBench(results, save) {
  log(`PostgreSQL: database ${PG_DATABASE} with Yeti's cdr schema (scripts/pg/setup.sh --schema-only)`);
  const month = ["2026-10-01", "2026-11-01"];
  const spec = { count: ROWS, seed: SEED, fromMs: FROM, toMs: TO, firstId: 1, ...PG_TENANT };
  let url;
  if (opts.reuse) {
    url = `postgres://cdr_exports:cdr_exports@127.0.0.1:5432/${PG_DATABASE}?sslmode=disable`;
    if (rowsOf(url, PG_TENANT.accountId) !== ROWS) url = null;
    else log(`--reuse: keeping the ${ROWS} CDRs in ${PG_DATABASE}`);
  }
  if (!url) {
    url = setupPostgres();
    log(`loading ${ROWS} CDRs (seed ${SEED}): COPY text file, then COPY cdr.cdr FROM STDIN`);
    results.load = await loadPostgres({
      spec,
      fromDay: month[0],
      toDay: month[1],
      file: path.join(OUT, "pg-cdrs.copy"),
    });
    rmSync(path.join(OUT, "pg-cdrs.copy"), { force: true });
    log(
      `  generated in ${(results.load.generatedMs / 1000).toFixed(1)} s, loaded in ${(results.load.loadMs / 1000).toFixed(1)} s`,
    );
  }
  if (rowsOf(url, PG_TENANT.accountId) !== ROWS) throw new Error(`${PG_DATABASE} does not hold ${ROWS} CDRs`);
  // The Worker's CDR_DB connects here (wrangler reads this variable; DevServer passes the environment on).
  process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_CDR_DB = url;

  log("baseline: psql \\copy (Yeti's query) | gzip -6 (3 runs)");
  const query = pgExportQuery(PG_TENANT.accountId, FROM, TO);
  writeFileSync(path.join(OUT, "pg-baseline-query.sql"), query);
  const baselineFile = path.join(OUT, "pg-baseline.csv.gz");
  const baseline = runPgBaseline({ url, query, out: baselineFile, runs: 3 });
  baseline.wallMs = median(baseline.runs.map((r) => r.wallMs));
  baseline.cpuMs = median(baseline.runs.map((r) => r.cpuMs));
  baseline.rowsPerSec = ROWS / (baseline.wallMs / 1000);
  results.pgBaseline = baseline;
  log(`baseline: ${(baseline.wallMs / 1000).toFixed(2)} s, ${Math.round(baseline.rowsPerSec)} rows/s`);
  save();

  const vars = Object.fromEntries(
    opts.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]),
  );
  const build = buildBenchWorker({
    vars: { ...vars, CDR_SOURCE: "postgres" },
    label: "wrangler.profile-pg",
    entry: path.join(ROOT, "bench", "profile-worker.ts"),
  });
  const state = path.join(OUT, "state-pg");
  rmSync(state, { recursive: true, force: true });
  applyMigrations(build.config, state, path.join(OUT, "migrations-pg.log"));
  const server = await exportServer(build, "export-pg", state);
  try {
    const api = new Api(server.base);
    const tenant = await api.yetiTenant("bench-pg", PG_TENANT);
    const idle = server.memory();
    log(
      `export of ${ROWS} rows from PostgreSQL (one month, UTC, with_timezone); workerd pid ${server.workerdPid}`,
    );
    const file = path.join(OUT, `export-pg-${ROWS}.csv.gz`);
    const e = await measured(server, () => exportAndVerify(api, tenant, FROM, TO, file, 100), { heap: true });
    e.idleHwm = idle.hwm;
    e.rowsPerSec = e.rows / (e.ms / 1000);
    e.sameAsBaseline = contentDigest(file) === contentDigest(baselineFile);
    e.gzipLevel = vars.EXPORT_GZIP_LEVEL ?? "wrangler.toml's";
    results.pgExport = e;
    if (opts.profile) {
      // Where the Worker's time goes: a CPU profile of a second export of the same rows.
      const stop = await startCpuProfile(server);
      const profiled = await api.timedExport(tenant, FROM, TO, { pollMs: 100 });
      results.pgProfile = summarizeProfile(
        await stop(),
        build.bundle,
        path.join(OUT, "export-pg.cpuprofile"),
      );
      results.pgProfile.exportMs = profiled.ms;
      log(
        `  CPU profile by file: ${results.pgProfile.files
          .slice(0, 8)
          .map((f) => `${f.name} ${f.ms} ms`)
          .join(", ")}`,
      );
    }
    log(
      `export: ${(e.ms / 1000).toFixed(2)} s, ${Math.round(e.rowsPerSec)} rows/s = ${(e.rowsPerSec / baseline.rowsPerSec).toFixed(2)}× ` +
        `psql | gzip -6; ${e.lines} lines (${e.linesOk ? "ok" : "WRONG"}); content ${e.sameAsBaseline ? "equals" : "DIFFERS FROM"} ` +
        `the baseline's byte for byte; file ${mib(e.bytes)} vs ${mib(baseline.bytes)}`,
    );
    logMemory(e);
  } finally {
    await server.stop();
  }
  save();
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  if (opts.source === "postgres") {
    const results = {
      source: "postgres",
      startedAt: new Date(started).toISOString(),
      args: process.argv.slice(2),
      rows: ROWS,
      seed: SEED,
      month: [new Date(FROM).toISOString(), new Date(TO).toISOString()],
      machine: { ...machine(), psql: psqlVersion() },
      targets: PG_TARGETS,
      loadavg: { start: loadavg() },
    };
    const save = () => writeFileSync(path.join(OUT, "results.json"), JSON.stringify(results, null, 2));
    log(`machine: ${JSON.stringify(results.machine)}`);
    log(`load average at start: ${results.loadavg.start}`);
    await postgresBench(results, save);
    finish(results);
    return;
  }
  if (opts.source !== "d1") throw new Error(`--source is d1 or postgres, not ${opts.source}`);
  ensureSqlite3();
  const results = {
    startedAt: new Date(started).toISOString(),
    args: process.argv.slice(2),
    rows: ROWS,
    seed: SEED,
    month: [new Date(FROM).toISOString(), new Date(TO).toISOString()],
    machine: machine(),
    targets: TARGETS,
    loadavg: { start: loadavg() },
  };
  const save = () => writeFileSync(path.join(OUT, "results.json"), JSON.stringify(results, null, 2));
  log(`machine: ${JSON.stringify(results.machine)}`);
  log(`load average at start: ${results.loadavg.start}`);

  log("bundling the Worker (a snapshot of src/; edits made while the bench runs do not reach it)");
  // --var NAME=value overrides a var of wrangler.toml in both bundles (e.g. EXPORT_GZIP_LEVEL=1).
  const vars = Object.fromEntries(
    opts.var.map((v) => [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)]),
  );
  const { config } = buildBenchWorker({ vars });
  // Built now too, so both bundles are the same snapshot of src/ as the migrations applied below.
  const profileBuild = buildBenchWorker({
    vars,
    label: "wrangler.profile",
    entry: path.join(ROOT, "bench", "profile-worker.ts"),
  });

  // Phase 1: tenants and CDRs, loaded through the operator API.
  let data = opts.reuse && existsSync(MARKER) ? JSON.parse(readFileSync(MARKER, "utf8")) : null;
  if (data && (data.rows !== ROWS || data.seed !== SEED)) data = null;
  if (data) {
    log(`--reuse: keeping the loaded ${ROWS} CDRs in ${STATE} (applying new migrations, if any)`);
    applyMigrations(config, STATE, path.join(OUT, "migrations.log"));
    // Rows loaded before cdrs.csv_tail existed get it as the cron's backfill would give it.
    const server = await new DevServer({
      config: profileBuild.config,
      persistTo: STATE,
      label: "backfill",
    }).start();
    try {
      const filled = await (await fetch(`${server.base}/__bench/backfill`)).json();
      if (filled.rows)
        log(`  backfilled cdrs.csv_tail of ${filled.rows} rows in ${(filled.ms / 1000).toFixed(1)} s`);
    } finally {
      await server.stop();
    }
  } else {
    rmSync(STATE, { recursive: true, force: true });
    applyMigrations(config, STATE, path.join(OUT, "migrations.log"));
    const server = await new DevServer({ config, persistTo: STATE, label: "load" }).start();
    try {
      const api = new Api(server.base);
      const tenants = {
        data: await api.tenant("bench-data"),
        api: await api.tenant("bench-api"),
        list: await api.tenant("bench-list"),
      };
      log(
        `loading ${ROWS} CDRs (seed ${SEED}, ${opts.batch} lines a request) through POST /api/rest/admin/cdrs`,
      );
      let shown = 0;
      const load = await loadCdrs(
        api,
        cdrSpec({ rows: ROWS, seed: SEED, tenant: tenants.data, fromMs: FROM, toMs: TO }),
        {
          batch: Number(opts.batch),
          onProgress: (n) => {
            if (n - shown >= ROWS / 10) {
              shown = n;
              log(`  ${n} rows loaded`);
            }
          },
        },
      );
      if (load.rows !== ROWS) throw new Error(`loaded ${load.rows} rows, expected ${ROWS}`);
      log(
        `loaded ${load.rows} rows in ${(load.ms / 1000).toFixed(1)} s (${Math.round(load.rows / (load.ms / 1000))} rows/s)`,
      );
      data = { rows: ROWS, seed: SEED, tenants, load };
    } finally {
      await server.stop();
    }
    log(`seeding ${opts["list-exports"]} exports of the list tenant (wrangler d1 execute --local --file)`);
    seedListExports(config, data.tenants.list.accountId, Number(opts["list-exports"]));
    writeFileSync(MARKER, JSON.stringify(data, null, 2));
  }
  results.load = data.load;
  const { tenants } = data;

  // Phase 2: the baseline, on a copy of the very same database file.
  log("baseline: sqlite3 -csv -header | gzip -6 on a copy of the local D1 file (3 runs)");
  const baselineDb = path.join(OUT, "baseline.sqlite");
  rmSync(baselineDb, { force: true });
  copyDatabase(d1File(STATE), baselineDb);
  const query = baselineQuery(tenants.data.accountId, FROM, TO);
  writeFileSync(path.join(OUT, "baseline-query.sql"), query);
  const baselineFile = path.join(OUT, "baseline.csv.gz");
  const baseline = runBaseline({ db: baselineDb, query, out: baselineFile, runs: 3 });
  baseline.wallMs = median(baseline.runs.map((r) => r.wallMs));
  baseline.cpuMs = median(baseline.runs.map((r) => r.cpuMs));
  baseline.rowsPerSec = ROWS / (baseline.wallMs / 1000);
  if (baseline.lines !== ROWS + 1)
    throw new Error(`baseline wrote ${baseline.lines} lines, expected ${ROWS + 1}`);
  results.baseline = baseline;
  log(`baseline: ${(baseline.wallMs / 1000).toFixed(2)} s, ${Math.round(baseline.rowsPerSec)} rows/s`);
  save();

  // Phase 3: the large export, on a fresh wrangler dev (so VmHWM is this export's).
  {
    const server = await exportServer(profileBuild, "export-large");
    try {
      const api = new Api(server.base);
      const idle = server.memory();
      log(`export of ${ROWS} rows (one month, UTC, with_timezone); workerd pid ${server.workerdPid}`);
      const file = path.join(OUT, `export-${ROWS}.csv.gz`);
      const large = await measured(server, () => exportAndVerify(api, tenants.data, FROM, TO, file, 100), {
        heap: true,
      });
      large.idleHwm = idle.hwm;
      large.rowsPerSec = large.rows / (large.ms / 1000);
      large.sameAsBaseline = sameContent(file, baselineFile);
      // The same CSV bytes through gzip -6 alone: what the Worker's CSV + gzip CPU is measured against.
      large.gzip6 = timedShell(
        `gzip -dc '${file}' > '${OUT}/export.csv' && gzip -6 -c '${OUT}/export.csv' > /dev/null`,
      );
      large.gzip6.alone = timedShell(`gzip -6 -c '${OUT}/export.csv' > /dev/null`);
      rmSync(path.join(OUT, "export.csv"), { force: true });
      results.large = large;
      log(
        `export: ${(large.ms / 1000).toFixed(2)} s, ${Math.round(large.rowsPerSec)} rows/s, ${large.lines} lines ` +
          `(${large.linesOk ? "ok" : "WRONG"}), content ${large.sameAsBaseline ? "equals" : "DIFFERS FROM"} the baseline's`,
      );
      logMemory(large);
      log(
        `  show during the export: ${large.shows.count} requests, p50 ${large.shows.p50} ms, p99 ${large.shows.p99} ms; ` +
          `gzip -6 alone on its CSV: ${(large.gzip6.alone.cpuMs / 1000).toFixed(2)} s CPU`,
      );
    } finally {
      await server.stop();
    }
  }

  // Phase 4: the small export (fresh server again), latency to file, and the API benchmarks.
  {
    const server = await exportServer(profileBuild, "export-small-api");
    try {
      const api = new Api(server.base);
      const idle = server.memory();
      log(`export of ~${SMALL_ROWS} rows (the month's first tenth)`);
      const file = path.join(OUT, `export-${SMALL_ROWS}.csv.gz`);
      const small = await measured(
        server,
        () => exportAndVerify(api, tenants.data, FROM, FROM + SPAN / 10, file, 100),
        { heap: true },
      );
      small.idleHwm = idle.hwm;
      small.rowsPerSec = small.rows / (small.ms / 1000);
      results.small = small;
      log(
        `small export: ${small.rows} rows in ${(small.ms / 1000).toFixed(2)} s, lines ${small.linesOk ? "ok" : "WRONG"}`,
      );
      logMemory(small);

      const runs = Number(opts["latency-runs"]);
      const window = (SPAN * 1000) / ROWS;
      log(`latency to file: ${runs} exports of ~1000 rows, one after another`);
      const latency = [];
      for (let i = 0; i < runs; i++) {
        const from = Math.round(FROM + SPAN / 2 + i * window);
        const r = await exportAndVerify(
          api,
          tenants.data,
          from,
          Math.round(from + window),
          path.join(OUT, "export-1k.csv.gz"),
          20,
        );
        if (!r.linesOk) throw new Error(`1k export ${r.id}: ${r.lines} lines for ${r.rows} rows`);
        latency.push({ ms: r.ms, rows: r.rows });
      }
      results.latency = {
        runs: latency,
        medianMs: median(latency.map((r) => r.ms)),
        minMs: Math.min(...latency.map((r) => r.ms)),
        maxMs: Math.max(...latency.map((r) => r.ms)),
      };
      log(`latency to file: median ${results.latency.medianMs.toFixed(0)} ms`);

      save();
      if (!opts["skip-api"]) results.api = await apiBench(server, api, tenants);
      save();
    } finally {
      await server.stop();
    }
  }

  // Phase 5: where the export's time goes (stages, gzip levels; a CPU profile when below target or with
  // --profile). The stages also give the Worker's CPU for CSV + gzip, judged against gzip -6 alone.
  const ratio = results.large.rowsPerSec / baseline.rowsPerSec;
  if (!opts["no-profile"]) {
    log("profile: stage timings (bench/profile-worker.ts) and a CPU profile of one export");
    const server = await new DevServer({
      config: profileBuild.config,
      persistTo: STATE,
      label: "profile",
    }).start();
    try {
      await profileExport(server, profileBuild.bundle, results, tenants, {
        cpu: opts.profile || ratio < TARGETS.throughputRatio,
      });
    } catch (error) {
      results.profileError = String(error?.stack ?? error);
      log(`profile failed: ${results.profileError}`);
    } finally {
      await server.stop();
    }
  }
  save();
  finish(results);
}

async function profileExport(server, bundle, results, tenants, { cpu: cpuProfile }) {
  const where = { accountId: tenants.data.accountId, fromMs: FROM, toMs: TO };
  const profile = { stages: await stageProfile(server.base, where) };
  results.profile = profile;
  // Each level's gzip stage (scan + CSV + UTF-8 + gzip) less the utf8 stage: the compressor's own time.
  profile.levels = {};
  for (const level of LEVELS) {
    const r = await stageProfile(server.base, { ...where, level, only: "gzip" });
    profile.levels[level] = { ms: r.gzip.wallMs - profile.stages.utf8.wallMs, bytes: r.gzip.gzipBytes };
    log(`  gzip level ${level}: ${(profile.levels[level].ms / 1000).toFixed(2)} s, ${mib(r.gzip.gzipBytes)}`);
  }
  profile.pageRows = {};
  for (const pageRows of [2000, 5000, 10000, 20000]) {
    const r = await stageProfile(server.base, { ...where, pageRows, only: "scan" });
    profile.pageRows[pageRows] = r.scan;
  }
  const own = Object.entries(profile.stages).map(([k, v]) => `${k} ${(v.ownMs / 1000).toFixed(2)} s`);
  log(`  stages (own time): ${own.join(", ")}`);
  if (!cpuProfile) return;
  const api = new Api(server.base);
  const stop = await startCpuProfile(server);
  const exported = await measured(server, () => api.timedExport(tenants.data, FROM, TO, { pollMs: 100 }));
  const cpu = await stop();
  profile.cpu = summarizeProfile(cpu, bundle, path.join(OUT, "export.cpuprofile"));
  profile.cpu.exportMs = exported.ms;
  profile.cpu.workerdCpuMs = exported.cpuMs;
  log(
    `  CPU profile by file: ${profile.cpu.files
      .slice(0, 6)
      .map((f) => `${f.name} ${f.ms} ms`)
      .join(", ")}`,
  );
}

function finish(results) {
  results.loadavg.end = loadavg();
  results.finishedAt = new Date().toISOString();
  results.totalSeconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(path.join(OUT, "results.json"), JSON.stringify(results, null, 2));
  writeFileSync(path.join(OUT, "results.md"), renderReport(results));
  console.log(`\n${renderTable(results)}\n`);
  log(`done in ${results.totalSeconds} s; bench/out/results.md and results.json written`);
}

await main();
