// The PostgreSQL tests' global setup, in Node: finds the database scripts/pg/setup.sh seeds, prints with psql
// the file of each case (test/pg/cases.ts) and hands the files to the tests. Without a reachable database the
// tests are skipped, saying why, unless REQUIRE_POSTGRES=1 (CI), which makes it a failure.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ACCOUNT, BIG_ACCOUNT, fixtureCdrs, SIBLING_ACCOUNT } from "../../scripts/pg/fixture.mjs";
import { CASES, type CaseName, type PostgresFixture } from "./cases";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TEXT_LIMIT = 2 * 1024 * 1024;

/** The CDR_DB connection the Worker gets: the environment's override, else wrangler.toml's local one. */
function connectionString(): string {
  const fromEnv = process.env.CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_CDR_DB;
  if (fromEnv) return fromEnv;
  const config = readFileSync(path.join(ROOT, "wrangler.toml"), "utf8");
  const match = /localConnectionString\s*=\s*"([^"]+)"/.exec(config);
  if (!match?.[1]) throw new Error("wrangler.toml has no localConnectionString for CDR_DB");
  return match[1];
}

/** psql with nothing of the caller's session defaults (zone, date style, options) and UTF-8 output. */
function psql(url: string, args: string[]): { ok: boolean; stdout: Buffer; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCLIENTENCODING: "UTF8", PGCONNECT_TIMEOUT: "5" };
  for (const name of ["PGTZ", "PGDATESTYLE", "PGOPTIONS", "PGSERVICE"]) delete env[name];
  const r = spawnSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, ...args], {
    env,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) return { ok: false, stdout: Buffer.alloc(0), stderr: String(r.error.message) };
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.toString("utf8").trim() };
}

/** Why the database cannot serve the tests, or null when it holds the fixture's CDRs. */
function problem(url: string): string | null {
  const ids = [ACCOUNT.id, SIBLING_ACCOUNT.id, BIG_ACCOUNT.id];
  const r = psql(url, [
    "-At",
    "-c",
    `SELECT customer_acc_id, count(*) FROM cdr.cdr WHERE customer_acc_id IN (${ids.join(",")}) GROUP BY 1 ORDER BY 1`,
  ]);
  if (!r.ok) return `PostgreSQL is not reachable or has no cdr.cdr (${r.stderr.split("\n")[0]})`;
  const want = new Map<number, number>();
  for (const cdr of fixtureCdrs()) {
    const id = cdr.customer_acc_id as number;
    if (ids.includes(id)) want.set(id, (want.get(id) ?? 0) + 1);
  }
  const expected = ids.map((id) => `${id}|${want.get(id)}`).join("\n");
  if (r.stdout.toString("utf8").trim() !== expected) {
    return "cdr.cdr does not hold the fixture's CDRs (scripts/pg/fixture.mjs): run scripts/pg/setup.sh";
  }
  return null;
}

/** The file of one case as psql's \copy prints it, in the transaction Yeti's job uses. */
function expectedFile(url: string, name: CaseName) {
  const c = CASES[name];
  const zone = c.timeZoneName ?? "UTC";
  const r = psql(url, [
    "-c",
    "BEGIN",
    "-c",
    `SET LOCAL timezone TO '${zone}'`,
    "-c",
    `\\copy (${c.sql}) to stdout with (format csv, header, force_quote *)`,
    "-c",
    "COMMIT",
  ]);
  if (!r.ok) throw new Error(`psql failed for case ${name}: ${r.stderr}`);
  // Rows, not lines: a value may hold a line break.
  const count = psql(url, [
    "-At",
    "-c",
    "BEGIN",
    "-c",
    `SET LOCAL timezone TO '${zone}'`,
    "-c",
    `SELECT count(*) FROM (${c.sql}) export`,
    "-c",
    "COMMIT",
  ]);
  if (!count.ok) throw new Error(`psql failed counting case ${name}: ${count.stderr}`);
  return {
    text: r.stdout.length <= TEXT_LIMIT ? r.stdout.toString("utf8") : null,
    sha256: createHash("sha256").update(r.stdout).digest("hex"),
    bytes: r.stdout.length,
    rows: Number(count.stdout.toString("utf8").trim()),
  };
}

/** The CDRs of the D1 comparison's accounts, one JSON object a line, as POST /api/rest/admin/cdrs takes them. */
function ndjson(url: string): string {
  const r = psql(url, [
    "-At",
    "-c",
    "SET timezone TO 'UTC'",
    "-c",
    // Decimals as text (JSON numbers would lose trailing zeros); host() writes inet without a /32.
    `SELECT json_build_object('id', id, 'uuid', uuid, 'customer_id', customer_id, 'customer_acc_id', customer_acc_id,
      'vendor_id', vendor_id, 'vendor_acc_id', vendor_acc_id, 'is_last_cdr', is_last_cdr,
      'time_start', time_start::text, 'time_connect', time_connect::text, 'time_end', time_end::text,
      'success', success, 'duration', duration, 'src_name_in', src_name_in, 'src_prefix_in', src_prefix_in,
      'dst_prefix_in', dst_prefix_in, 'from_domain', from_domain, 'to_domain', to_domain, 'ruri_domain', ruri_domain,
      'lega_disconnect_code', lega_disconnect_code, 'lega_disconnect_reason', lega_disconnect_reason,
      'auth_orig_ip', host(auth_orig_ip), 'auth_orig_port', auth_orig_port,
      'src_prefix_routing', src_prefix_routing, 'dst_prefix_routing', dst_prefix_routing,
      'destination_prefix', destination_prefix, 'destination_initial_interval', destination_initial_interval,
      'destination_next_interval', destination_next_interval,
      'destination_initial_rate', destination_initial_rate::text, 'destination_next_rate', destination_next_rate::text,
      'destination_fee', destination_fee::text, 'customer_price', customer_price::text,
      'customer_duration', customer_duration, 'orig_call_id', orig_call_id, 'local_tag', local_tag,
      'lega_user_agent', lega_user_agent, 'diversion_in', diversion_in)
    FROM cdr.cdr WHERE customer_acc_id IN (${ACCOUNT.id}, ${SIBLING_ACCOUNT.id}) ORDER BY id`,
  ]);
  if (!r.ok) throw new Error(`psql failed reading the CDRs for D1: ${r.stderr}`);
  return r.stdout.toString("utf8");
}

export default function setup(project: TestProject) {
  const url = connectionString();
  const reason = problem(url);
  let fixture: PostgresFixture;
  if (reason) {
    if (process.env.REQUIRE_POSTGRES === "1") throw new Error(`REQUIRE_POSTGRES=1, but ${reason}`);
    console.warn(`\nPostgreSQL tests skipped: ${reason}\n`);
    fixture = { available: false, reason };
  } else {
    const expected = Object.fromEntries(
      (Object.keys(CASES) as CaseName[]).map((name) => [name, expectedFile(url, name)]),
    ) as Record<CaseName, ReturnType<typeof expectedFile>>;
    fixture = { available: true, expected, ndjson: ndjson(url) };
  }
  project.provide("postgres", fixture);
}
