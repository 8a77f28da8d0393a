// The baseline: the same rows in a plain SQLite file, `sqlite3 -csv -header` of the export's query piped
// to `gzip -6`. Also: sqlite3 availability (apt-get when root) and a copy of the bench's local D1 file.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
// Node 22 strips the types of this dependency-free module: the baseline uses the export's own column list.
import { CUSTOMER_COLUMNS, titleize } from "../../src/file-format/columns.ts";

export function ensureSqlite3() {
  if (spawnSync("sqlite3", ["--version"]).status === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error("sqlite3 is missing: run `apt-get update && apt-get install -y sqlite3` (as root)");
  }
  console.log("installing sqlite3 (apt-get update && apt-get install -y sqlite3) ...");
  for (const args of [["update"], ["install", "-y", "sqlite3"]]) {
    const r = spawnSync("apt-get", args, {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed`);
  }
}

export function versionOf(command, args = ["--version"]) {
  const r = spawnSync(command, args, { encoding: "utf8" });
  return r.status === 0 ? `${r.stdout}${r.stderr}`.split("\n")[0].trim() : "missing";
}

/** The local D1 database file under a --persist-to dir. */
export function d1File(persistTo) {
  const dir = path.join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one D1 database in ${dir}, found ${files.join(", ")}`);
  return path.join(dir, files[0]);
}

/**
 * A consistent copy (sqlite3 .backup) of the D1 database: the baseline's plain SQLite file. The Worker's
 * stored CSV text (`csv_tail`) is dropped from the copy and the file vacuumed, so the baseline reads the
 * CDRs as a plain table holds them, not rows made larger by our own data shape.
 */
export function copyDatabase(from, to) {
  const r = spawnSync("sqlite3", [from, `.backup '${to}'`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`sqlite3 .backup failed: ${r.stderr}`);
  const plain = spawnSync(
    "sqlite3",
    [to, "DROP INDEX IF EXISTS cdrs_csv_tail_missing_idx; ALTER TABLE cdrs DROP COLUMN csv_tail; VACUUM;"],
    { encoding: "utf8" },
  );
  if (plain.status !== 0) throw new Error(`sqlite3 (dropping csv_tail) failed: ${plain.stderr}`);
  return statSync(to).size;
}

/** PostgreSQL's timestamptz text in UTC ("2026-10-01 00:00:00.5+00"), as the export's with_timezone/UTC. */
function timeSql(column) {
  const seconds = `strftime('%Y-%m-%d %H:%M:%S', "${column}" / 1000000, 'unixepoch')`;
  const fraction = `rtrim(rtrim(printf('.%06d', "${column}" % 1000000), '0'), '.')`;
  return `${seconds} || ${fraction} || '+00'`;
}

const KIND = {
  time_start: "time",
  time_connect: "time",
  time_end: "time",
  success: "bool",
};

/** The export's query in plain SQL: same columns, order, filters; times and booleans formatted by SQLite. */
export function baselineQuery(accountId, fromMs, toMs) {
  const select = CUSTOMER_COLUMNS.map((c) => {
    const value =
      KIND[c] === "time"
        ? timeSql(c)
        : KIND[c] === "bool"
          ? `CASE "${c}" WHEN 1 THEN 't' WHEN 0 THEN 'f' END`
          : `"${c}"`;
    return `${value} AS "${titleize(c)}"`;
  }).join(", ");
  return (
    `SELECT ${select} FROM cdrs WHERE "customer_acc_id" = ${accountId} ` +
    `AND "time_start" >= ${fromMs * 1000} AND "time_start" < ${toMs * 1000} ` +
    `ORDER BY "time_start" DESC, "id" DESC;`
  );
}

/** Runs a shell pipeline under bash's `time`; returns wall and CPU (user+sys of every process) seconds. */
export function timedShell(script) {
  const r = spawnSync("bash", ["-c", `set -o pipefail; TIMEFORMAT='%R %U %S'; time ( ${script} )`], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${script}\n failed: ${r.stderr}`);
  const [real, user, sys] = r.stderr.trim().split("\n").pop().split(" ").map(Number);
  return { wallMs: real * 1000, cpuMs: (user + sys) * 1000, stdout: r.stdout };
}

/** `sqlite3 -csv -header db query | gzip -6 > out`, `runs` times; returns each run and the output's lines. */
export function runBaseline({ db, query, out, runs = 3 }) {
  const results = [];
  const q = query.replaceAll("'", "'\\''");
  for (let i = 0; i < runs; i++) {
    results.push(timedShell(`sqlite3 -csv -header '${db}' '${q}' | gzip -6 > '${out}'`));
  }
  const lines = Number(timedShell(`gzip -dc '${out}' | wc -l`).stdout.trim());
  // The SQLite scan alone (same query, rows thrown away): the floor under any export of these rows.
  const scan = timedShell(`sqlite3 '${db}' '${q}' > /dev/null`);
  return {
    runs: results.map(({ wallMs, cpuMs }) => ({ wallMs, cpuMs })),
    lines,
    scan,
    bytes: statSync(out).size,
  };
}
