// cdrs.csv_tail: the customer export's CSV text after the time columns, rendered once at ingest and read
// by the scan; rows without it (ingested before migration 0005) render on the fly and the cron backfills
// them. Either way the file's bytes are the same.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { backfillCsvTails } from "../src/cdrs/backfill";
import { insertCdrs, parseNdjson } from "../src/cdrs/ingest";
import { config } from "../src/config";
import { insertExport } from "../src/db/queries/cdr-exports";
import { customerColumns } from "../src/file-format/columns";
import { TAIL_SQL } from "../src/file-format/csv";
import { runExport } from "../src/pipeline/run-export";
import { type Tenant, tenant } from "./helpers/api";
import { capturingEnv, gunzipText, ingestCdrs, ndjson, objectBytes, randomText } from "./helpers/cdrs";

const DAY = { time_start_gteq: "2025-04-01T00:00:00.000Z", time_start_lt: "2025-04-02T00:00:00.000Z" };
const ROWS = 40;

let t: Tenant;

/** Every column, with NULLs, quotes, commas, newlines and non-ASCII text among the values. */
function cdr(i: number): Record<string, unknown> {
  const odd = i % 2 === 1;
  return {
    uuid: crypto.randomUUID(),
    customer_id: Number(t.customer.id),
    customer_acc_id: t.accountId,
    time_start: `2025-04-01T10:${String(i).padStart(2, "0")}:00.123456Z`,
    time_connect: odd ? null : `2025-04-01T10:${String(i).padStart(2, "0")}:01Z`,
    time_end: `2025-04-01T10:${String(i).padStart(2, "0")}:30Z`,
    success: odd ? null : i % 3 === 0,
    duration: odd ? null : i * 7,
    src_name_in: i % 5 === 0 ? 'say "hi", then\nbye' : randomText(12),
    src_prefix_in: `38044${i}`,
    dst_prefix_in: odd ? null : "ÄÖü-日本",
    lega_disconnect_code: 200 + i,
    auth_orig_ip: odd ? "2001:db8::1" : "192.0.2.7",
    auth_orig_port: 5060,
    destination_initial_rate: "0.0100",
    customer_price: odd ? "-1.5" : null,
    orig_call_id: `call-${i}`,
    diversion_in: i % 4 === 0 ? "" : null,
  };
}

beforeAll(async () => {
  t = await tenant();
  await ingestCdrs(Array.from({ length: ROWS }, (_, i) => cdr(i)));
});

async function exportText(overrides: Partial<Env> = {}): Promise<string> {
  const row = await insertExport(env, {
    filters: { ...DAY },
    fields: customerColumns(config({ ...env, ...overrides }).CUSTOMER_HIDDEN_COLUMNS),
    timeFormat: "with_timezone",
    timeZoneName: null,
    callbackUrl: null,
    customerAccountId: t.accountId,
  });
  const { env: e } = capturingEnv(overrides);
  expect(await runExport(e, { exportId: row.uuid })).toBe("completed");
  return gunzipText(await objectBytes(`exports/${row.uuid}.csv.gz`));
}

async function account(sql: string): Promise<number> {
  const r = await env.DB.prepare(`${sql} AND customer_acc_id = ?`).bind(t.accountId).first<{ n: number }>();
  return r?.n ?? -1;
}

describe("cdrs.csv_tail", () => {
  it("is rendered at ingest with the scan's own expression over the stored values", async () => {
    expect(await account("SELECT count(*) AS n FROM cdrs WHERE csv_tail IS NOT NULL")).toBe(ROWS);
    expect(await account(`SELECT count(*) AS n FROM cdrs WHERE csv_tail IS NOT (${TAIL_SQL})`)).toBe(0);
  });

  it("gives the same file as rendering at export time, and the cron's backfill restores it", async () => {
    const stored = await exportText();
    // Rows start with their quoted time_start (some values hold newlines of their own).
    expect(stored.match(/^"2025-04-01 /gm)).toHaveLength(ROWS);
    await env.DB.prepare("UPDATE cdrs SET csv_tail = NULL WHERE customer_acc_id = ?").bind(t.accountId).run();
    expect(await exportText()).toBe(stored);

    const missing = await account("SELECT count(*) AS n FROM cdrs WHERE csv_tail IS NULL");
    expect(missing).toBe(ROWS);
    let rendered = 0;
    for (let n = await backfillCsvTails(env, 15); n > 0; n = await backfillCsvTails(env, 15)) rendered += n;
    expect(rendered).toBeGreaterThanOrEqual(ROWS);
    expect(await account(`SELECT count(*) AS n FROM cdrs WHERE csv_tail IS NOT (${TAIL_SQL})`)).toBe(0);
    expect(await exportText()).toBe(stored);
  });

  it("is what the scan reads for the default columns, and not when columns are hidden or formulas neutralised", async () => {
    await env.DB.prepare(
      `UPDATE cdrs SET csv_tail = '"stored-marker"' WHERE customer_acc_id = ? AND orig_call_id = 'call-3'`,
    )
      .bind(t.accountId)
      .run();
    try {
      expect(await exportText()).toContain('"stored-marker"');
      const hidden = await exportText({ CUSTOMER_HIDDEN_COLUMNS: "local_tag" });
      expect(hidden).not.toContain("stored-marker");
      expect(hidden).toContain('"call-3"');
      const neutralised = await exportText({ EXPORT_NEUTRALISE_FORMULAS: "true" });
      expect(neutralised).not.toContain("stored-marker");
      expect(neutralised).toContain('"call-3"');
    } finally {
      await env.DB.prepare(
        `UPDATE cdrs SET csv_tail = ${TAIL_SQL} WHERE customer_acc_id = ? AND orig_call_id = 'call-3'`,
      )
        .bind(t.accountId)
        .run();
    }
  });

  it("is not stored, nor backfilled, with CDR_STORE_CSV_TAIL=false", async () => {
    const off = { ...env, CDR_STORE_CSV_TAIL: "false" } as Env;
    const uuid = crypto.randomUUID();
    const record = { ...cdr(0), uuid, orig_call_id: "untailed" };
    const { rows, problems } = parseNdjson(ndjson([record]));
    expect(problems).toEqual([]);
    expect(await insertCdrs(off, rows)).toEqual({ inserted: 1, present: 0 });
    const stored = () =>
      env.DB.prepare("SELECT csv_tail FROM cdrs WHERE uuid = ?")
        .bind(uuid)
        .first<{ csv_tail: string | null }>();
    expect(await stored()).toEqual({ csv_tail: null });
    expect(await backfillCsvTails(off)).toBe(0);
    expect(await stored()).toEqual({ csv_tail: null });
    expect(await exportText()).toContain('"untailed"');
  });
});
