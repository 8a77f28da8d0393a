// The bench's PostgreSQL (`--source postgres`): a database of its own with Yeti's cdr schema, the bench's CDRs
// loaded with COPY FROM a generated file, and the baseline `psql \copy (Yeti's query) | gzip -6`.
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, statSync } from "node:fs";
import path from "node:path";
import { generateCdrs } from "../../scripts/cdr-generator.mjs";
import { copyHeader, copyLine, dayPartitionsSql } from "../../scripts/pg/copy-text.mjs";
// Node 22 strips the types of this dependency-free module: Yeti's column list and aliases as the Worker has them.
import { CUSTOMER_COLUMNS, headerName } from "../../src/file-format/columns.ts";
import { timedShell } from "./baseline.mjs";
import { ROOT } from "./dev-server.mjs";

export const PG_DATABASE = "yeti_cdr_bench";

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** psql as the postgres superuser over the local socket, SQL on stdin (the bench runs as root, as CI does). */
function admin(sql) {
  return run(
    "runuser",
    ["-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", PG_DATABASE],
    {
      cwd: "/",
      input: sql,
    },
  );
}

/**
 * scripts/pg/setup.sh for the bench's database, schema only (PostgreSQL installed and started if need be);
 * returns the read-only role's connection string, the one the Worker's CDR_DB gets.
 */
export function setupPostgres() {
  if (process.getuid?.() !== 0)
    throw new Error("--source postgres loads its database as root (runuser postgres)");
  const out = run(path.join(ROOT, "scripts", "pg", "setup.sh"), ["--schema-only"], {
    env: { ...process.env, CDR_PG_DATABASE: PG_DATABASE },
  });
  const url = /CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_CDR_DB='([^']+)'/.exec(out)?.[1];
  if (!url) throw new Error(`scripts/pg/setup.sh printed no connection string:\n${out}`);
  return url;
}

export function psqlVersion() {
  return run("psql", ["--version"]).trim();
}

/** Rows of `accountId` in the bench's cdr.cdr (0 when the database or table is missing). */
export function rowsOf(url, accountId) {
  const r = spawnSync(
    "psql",
    ["-X", "-At", "-d", url, "-c", `SELECT count(*) FROM cdr.cdr WHERE customer_acc_id = ${accountId}`],
    {
      encoding: "utf8",
    },
  );
  return r.status === 0 ? Number(r.stdout.trim()) : 0;
}

/**
 * Writes the CDRs of `spec` (scripts/cdr-generator.mjs) as COPY text into `file`, creates the day partitions
 * of [fromDay, toDay), and loads the file with `COPY cdr.cdr (...) FROM STDIN`; then ANALYZE.
 */
export async function loadPostgres({ spec, fromDay, toDay, file }) {
  const started = performance.now();
  const out = createWriteStream(file);
  for (const cdr of generateCdrs(spec)) {
    if (!out.write(copyLine(cdr))) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  const generatedMs = performance.now() - started;
  admin(dayPartitionsSql(fromDay, toDay));
  const load = timedShell(
    `runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d ${PG_DATABASE} -c "${copyHeader().trim().replace(/;$/, "")}" < '${file}'`,
  );
  admin("ANALYZE cdr.cdr;");
  return { rows: spec.count, generatedMs, loadMs: load.wallMs, bytes: statSync(file).size };
}

/** Yeti's SQL of a customer export of [fromMs, toMs) in UTC, with_timezone (as test/pg/cases.ts spells it). */
export function pgExportQuery(accountId, fromMs, toMs) {
  const select = CUSTOMER_COLUMNS.map((c) =>
    c.startsWith("time_") ? `cdr.cdr.${c} AS "${headerName(c)}"` : `${c} AS "${headerName(c)}"`,
  ).join(", ");
  const at = (ms) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
  return (
    `SELECT ${select} FROM "cdr"."cdr" WHERE ("cdr"."cdr"."time_start" >= '${at(fromMs)}' ` +
    `AND "cdr"."cdr"."time_start" < '${at(toMs)}' AND "cdr"."cdr"."customer_acc_id" = ${accountId}) ` +
    "ORDER BY cdr.cdr.time_start DESC"
  );
}

/** `psql \copy (query) ... | gzip -6 > out` in Yeti's transaction, `runs` times; the file of the last run. */
export function runPgBaseline({ url, query, out, runs = 3 }) {
  const copy = `\\copy (${query}) to stdout with (format csv, header, force_quote *)`;
  const psql = (target) =>
    `PGCLIENTENCODING=UTF8 psql -X -q -v ON_ERROR_STOP=1 -d '${url}' -c BEGIN -c "SET LOCAL timezone TO 'UTC'" ` +
    `-c '${copy.replaceAll("'", "'\\''")}' -c COMMIT ${target}`;
  const results = [];
  for (let i = 0; i < runs; i++) results.push(timedShell(`${psql("| gzip -6")} > '${out}'`));
  // psql alone (rows thrown away): what the server and the client take before any compression.
  const alone = timedShell(psql("> /dev/null"));
  return {
    runs: results.map(({ wallMs, cpuMs }) => ({ wallMs, cpuMs })),
    psqlAlone: { wallMs: alone.wallMs, cpuMs: alone.cpuMs },
    bytes: statSync(out).size,
  };
}

/** MD5 of a gzip file's content, to compare the export's with the baseline's byte for byte. */
export function contentDigest(file) {
  return timedShell(`gzip -dc '${file}' | md5sum`).stdout.split(" ")[0];
}
