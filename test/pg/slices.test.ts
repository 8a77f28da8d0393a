// The PostgreSQL source's slices, driven directly (no background consumer): one COPY per time range,
// checkpoints between statements into one gzip member, a slice redone after a crash, permanent and
// retried failures, and the COPY handler's back-pressure.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Client } from "pg";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { BIG_ACCOUNT } from "../../scripts/pg/fixture.mjs";
import { CUSTOMER_FILTERS, normalizeFilters } from "../../src/cdr-exports/filters";
import { type ExportRow, insertExport } from "../../src/db/queries/cdr-exports";
import { handleExportMessage } from "../../src/pipeline/consumer";
import { copyOut } from "../../src/pipeline/postgres/copy-out";
import { PgSocket } from "../../src/pipeline/postgres/pg-socket";
import { PermanentExportError, type RunOptions, runExport } from "../../src/pipeline/run-export";
import { capturingEnv, objectBytes } from "../helpers/cdrs";
import { COLUMNS } from "../helpers/expected-csv";
import { CASES } from "./cases";
import { envWith, expected, expectPsqlFile, exportCase, postgres, titled, yetiCustomer } from "./helpers";

const MiB = 1024 * 1024;
const PART = 5 * MiB;
/** A checkpoint after every statement. */
const EVERY_STATEMENT: RunOptions = { partSize: PART, budgetRows: 1, budgetMs: 600_000 };

async function bigExport(e: Env = env): Promise<ExportRow> {
  const { filters } = normalizeFilters(CASES.big.filters, CUSTOMER_FILTERS);
  return insertExport(e, {
    filters,
    fields: COLUMNS.map(([name]) => name),
    timeFormat: "with_timezone",
    timeZoneName: null,
    callbackUrl: null,
    customerAccountId: BIG_ACCOUNT.id,
  });
}

async function rowOf(uuid: string): Promise<Record<string, unknown>> {
  const row = await env.DB.prepare("SELECT * FROM cdr_exports WHERE uuid = ?").bind(uuid).first();
  if (!row) throw new Error(`no export ${uuid}`);
  return row;
}

/** Runs slices until the export completes, following its continuation messages; `fail` may throw once. */
async function drive(uuid: string, options: RunOptions) {
  const { env: e, sent } = capturingEnv();
  let step = 0;
  const slices: Record<string, unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    let outcome: string;
    try {
      outcome = await runExport(e, step ? { exportId: uuid, step } : { exportId: uuid }, options);
    } catch (error) {
      if (!String(error).includes("injected")) throw error;
      continue;
    }
    slices.push(await rowOf(uuid));
    if (outcome === "completed") return { slices, sent };
    expect(outcome).toBe("continued");
    step++;
    expect(sent.at(-1)).toEqual({ exportId: uuid, step });
  }
  throw new Error("export does not finish");
}

describe.skipIf(!postgres.available)(titled("PostgreSQL slices"), () => {
  beforeAll(async () => {
    await yetiCustomer();
  });

  it("exports the big account (over 5 MiB gzipped) through the API, as psql prints it", async () => {
    const { auth } = await yetiCustomer();
    const done = await exportCase("big", auth, {}, 60_000);
    expect(done.status).toBe("Completed");
    expect(done.rows).toBe(expected("big").rows);
    expect(done.file.length).toBeGreaterThan(PART);
    await expectPsqlFile(done.file, "big");
  });

  it("checkpoints between statements (range left, next span) and writes one member equal to psql's file", async () => {
    const row = await bigExport();
    const parts: number[] = [];
    const { slices } = await drive(row.uuid, {
      ...EVERY_STATEMENT,
      afterPart: async (n) => void parts.push(n),
    });
    // A day per statement at first (the next ranges grow while statements are quick): 2+ slices.
    expect(slices.length).toBeGreaterThanOrEqual(2);
    const [first] = slices;
    // cursor_time_start: the exclusive upper bound (ms) of what is left; cursor_id: the next range in seconds.
    expect(first?.cursor_time_start).toBe(Date.parse("2019-01-03T00:00:00Z"));
    expect(first?.cursor_id).toBeGreaterThanOrEqual(60);
    expect(first?.cdr_source).toBe("postgres");
    expect(parts.length).toBeGreaterThanOrEqual(1);
    const done = slices.at(-1);
    expect(done?.status).toBe("Completed");
    expect(done?.rows_count).toBe(expected("big").rows);
    await expectPsqlFile(await objectBytes(`exports/${row.uuid}.csv.gz`), "big");
  });

  it("redoes a slice that died after storing a part from its checkpoint: the same file", async () => {
    const row = await bigExport();
    let crashes = 0;
    const { slices } = await drive(row.uuid, {
      ...EVERY_STATEMENT,
      budgetRows: 9_000,
      afterPart: async (n) => {
        // Part 1 fills in the second slice (the first ends after one day's statement): stored in R2, then
        // the invocation dies before its checkpoint; the retry starts from the first slice's checkpoint.
        if (n === 1 && crashes++ === 0) throw new Error("injected crash after part 1");
      },
    });
    expect(crashes).toBeGreaterThan(0);
    expect(slices.at(-1)?.status).toBe("Completed");
    expect(slices.at(-1)?.rows_count).toBe(expected("big").rows);
    await expectPsqlFile(await objectBytes(`exports/${row.uuid}.csv.gz`), "big");
  });

  it("fails an export at once when the table does not exist (a permanent error), naming the cause", async () => {
    const e = envWith({ CDR_PG_TABLE: "no_such_table" });
    const row = await bigExport(e);
    await expect(runExport(e, { exportId: row.uuid })).rejects.toThrow(PermanentExportError);
    const batch = createMessageBatch("cdr-exports", [
      { id: "m0", timestamp: new Date(), attempts: 1, body: { exportId: row.uuid } },
    ]);
    await handleExportMessage(e, batch.messages[0] as Message<unknown>);
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(["m0"]);
    const failed = await rowOf(row.uuid);
    expect(failed.status).toBe("Failed");
    expect(failed.error).toBe('relation "cdr.no_such_table" does not exist');
  });

  it("fails an export whose stored source is neither d1 nor postgres, through the consumer", async () => {
    const e = envWith({ CDR_SOURCE: "postgress" });
    const row = await bigExport(e);
    const batch = createMessageBatch("cdr-exports", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { exportId: row.uuid } },
    ]);
    await handleExportMessage(e, batch.messages[0] as Message<unknown>);
    expect((await getQueueResult(batch, createExecutionContext())).explicitAcks).toEqual(["m1"]);
    const failed = await rowOf(row.uuid);
    expect(failed.status).toBe("Failed");
    expect(failed.error).toBe("CDR_SOURCE postgress is neither d1 nor postgres");
  });

  it("retries, and logs no password, when PostgreSQL cannot be reached; fails at once on a wrong password", async () => {
    const logged: string[] = [];
    const spies = (["log", "warn", "error"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => void logged.push(args.join(" "))),
    );
    try {
      const unreachable = envWith({
        CDR_PG_CONNECTION_STRING: "postgres://cdr_exports:s3cret-Pw@127.0.0.1:1/yeti_cdr?sslmode=disable",
      });
      const row = await bigExport(unreachable);
      const batch = createMessageBatch("cdr-exports", [
        { id: "m2", timestamp: new Date(), attempts: 1, body: { exportId: row.uuid } },
      ]);
      await handleExportMessage(unreachable, batch.messages[0] as Message<unknown>);
      expect((await getQueueResult(batch, createExecutionContext())).retryMessages).toEqual([
        { msgId: "m2" },
      ]);
      expect((await rowOf(row.uuid)).status).toBe("Pending");

      const url = new URL(env.CDR_DB.connectionString);
      url.password = "wrong-s3cret-Pw";
      const wrong = envWith({ CDR_PG_CONNECTION_STRING: String(url) });
      const other = await bigExport(wrong);
      await expect(runExport(wrong, { exportId: other.uuid })).rejects.toThrow(
        /password authentication failed/,
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(logged.join("\n")).toContain("export slice failed, retrying");
    expect(logged.join("\n")).not.toMatch(/s3cret-Pw/);
  });
});

async function connect(): Promise<Client> {
  const client = new Client({
    connectionString: env.CDR_DB.connectionString,
    application_name: "cdr-exports-test",
    stream: ((config: { ssl?: unknown }) => new PgSocket(config.ssl)) as never,
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

const TWENTY_MB = "COPY (SELECT repeat('x', 999) FROM generate_series(1, 20000)) TO STDOUT";

describe.skipIf(!postgres.available)(titled("the COPY handler"), () => {
  it("stops reading the socket while the sink drains: the rest waits in the server", async () => {
    const client = await connect();
    let total = 0;
    let pending = 0;
    let draining = false;
    let duringDrains = 0;
    let maxDuringOneDrain = 0;
    let drains = 0;
    const rows = await copyOut(client, TWENTY_MB, {
      write(bytes) {
        total += bytes.length;
        pending += bytes.length;
        if (draining) duringDrains += bytes.length;
        return pending >= 256 * 1024;
      },
      async drain() {
        draining = true;
        duringDrains = 0;
        drains++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        maxDuringOneDrain = Math.max(maxDuringOneDrain, duringDrains);
        pending = 0;
        draining = false;
      },
    });
    await client.end();
    expect(rows).toBe(20_000);
    expect(total).toBe(20_000 * 1000);
    expect(drains).toBeGreaterThan(50);
    // What arrives while paused is what the last socket read held, not the megabytes behind it.
    expect(maxDuringOneDrain).toBeLessThan(MiB);
  });

  it("fails the COPY with the sink's error when a drain fails, and the connection can be ended", async () => {
    const client = await connect();
    const copying = copyOut(client, TWENTY_MB, {
      write: () => true,
      drain: () => Promise.reject(new Error("R2 is down")),
    });
    await expect(copying).rejects.toThrow("R2 is down");
    await client.end();
    const probe = await connect();
    for (let i = 0; i < 40; i++) {
      const { rows } = await probe.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'cdr-exports-test' AND pid <> pg_backend_pid()",
      );
      if (rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { rows } = await probe.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'cdr-exports-test' AND pid <> pg_backend_pid()",
    );
    await probe.end();
    expect(rows[0].n).toBe(0);
  });

  it("reports the server's error for a statement that fails", async () => {
    const client = await connect();
    const sink = { write: () => false, drain: async () => {} };
    await expect(copyOut(client, "COPY (SELECT 1/0) TO STDOUT", sink)).rejects.toThrow("division by zero");
    // The connection stays usable after the error.
    expect((await client.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await client.end();
  });
});
