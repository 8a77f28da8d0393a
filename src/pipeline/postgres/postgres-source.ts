// One slice of an export from Yeti's PostgreSQL: COPY statements of bounded time ranges, newest first.
import { Client } from "pg";
import type { Filters } from "../../cdr-exports/filters";
import { config } from "../../config";
import type { ExportRow } from "../../db/queries/cdr-exports";
import { log } from "../../log";
import {
  PermanentExportError,
  type SliceLimits,
  type SliceOutput,
  type SliceResult,
  storedCursor,
} from "../cdr-source";
import { copyOut } from "./copy-out";
import { PgSocket } from "./pg-socket";
import {
  type CdrTable,
  copySql,
  type ExportQuery,
  exportSql,
  type TimeRange,
  timeEnvelope,
  timeZoneSql,
} from "./yeti-sql";

/**
 * Statement lengths. Hyperdrive ends a statement after 60 s, and a COPY lasts as long as the Worker takes
 * to compress and store its output: each statement covers one time range, a day to start with, resized
 * after each statement so the next one takes about TARGET_MS (down to a minute, up to 30 days when the
 * ranges are sparse). A slice that is retried starts with half the range per attempt, so a statement
 * that was cut off at 60 s is split.
 */
const FIRST_SPAN_S = 86_400;
const MIN_SPAN_S = 60;
const MAX_SPAN_S = 30 * 86_400;
const TARGET_MS = 15_000;

export function nextSpan(spanSeconds: number, elapsedMs: number): number {
  if (elapsedMs > TARGET_MS) return Math.max(MIN_SPAN_S, Math.floor((spanSeconds * TARGET_MS) / elapsedMs));
  if (elapsedMs < TARGET_MS / 4) return Math.min(MAX_SPAN_S, spanSeconds * 2);
  return spanSeconds;
}

/** Errors about the query or the configuration, which a retry would meet again (SQLSTATE classes). */
function isPermanent(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  // 22 data exception, 28 invalid authorization, 3D/3F unknown database/schema, 42 syntax or access rule.
  return typeof code === "string" && /^(22|28|3D|3F|42)/.test(code);
}

function connectionString(env: Env): string {
  // The direct connection (no Hyperdrive) runs the very same code: README, "PostgreSQL source".
  const direct = config(env).CDR_PG_CONNECTION_STRING;
  if (direct) return direct;
  if (!env.CDR_DB?.connectionString) {
    throw new PermanentExportError("CDR_SOURCE is postgres but the Hyperdrive binding CDR_DB is missing");
  }
  return env.CDR_DB.connectionString;
}

async function connect(env: Env): Promise<Client> {
  const client = new Client({
    connectionString: connectionString(env),
    application_name: "cdr-exports",
    // The config pg hands its stream factory carries `ssl` (from sslmode): TLS is started on the socket.
    stream: ((config: { ssl?: unknown }) => new PgSocket(config.ssl)) as never,
  });
  // A connection that breaks while idle (or after end()) reports here instead of raising in the isolate.
  // Messages only: pg's errors never carry the password, and the connection string is not logged.
  client.on("error", (error) => log("warn", "PostgreSQL connection error", { error: error.message }));
  await client.connect();
  return client;
}

/** Ends the connection without waiting long for a server that no longer answers. */
async function close(client: Client): Promise<void> {
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5_000));
  await Promise.race([client.end().catch(() => {}), timeout]);
}

/**
 * One COPY of `range` in its own read-only transaction, after `SET LOCAL timezone`; the bytes go into
 * the gzip segments as they arrive. Returns the rows COPY wrote (the header not counted).
 */
async function copyRange(
  client: Client,
  query: ExportQuery,
  table: CdrTable,
  range: TimeRange,
  header: boolean,
  output: SliceOutput,
  rowsBefore: number,
): Promise<number> {
  await client.query(`BEGIN READ ONLY; ${timeZoneSql(query.timeZoneName)}`);
  let messages = 0;
  const rows = await copyOut(client, copySql(exportSql(query, table, range), header), {
    write(bytes) {
      output.gzip.writeBytes(bytes);
      messages++;
      return output.gzip.ready;
    },
    // PostgreSQL sends one CopyData message a line: a progress count until COPY reports its own.
    drain: () => output.store(rowsBefore + Math.max(0, messages - (header ? 1 : 0))),
  });
  await client.query("COMMIT");
  return rows;
}

/**
 * Writes the export's rows from the stored cursor on. The cursor columns hold, here: `cursor_time_start`
 * = the exclusive upper bound (epoch ms) of what is left to export, `cursor_id` = the length in seconds of
 * the next statement's range. Nothing else is needed to continue: every statement's rows are in the
 * output before its range is given up, and a slice that fails half-way is redone from the checkpoint.
 */
export async function readPostgresSlice(
  env: Env,
  row: ExportRow,
  table: CdrTable,
  limits: SliceLimits,
  output: SliceOutput,
): Promise<SliceResult> {
  const query: ExportQuery = {
    fields: row.fields,
    filters: row.filters as Filters,
    accountId: row.customerAccountId,
    timeFormat: row.timeFormat,
    timeZoneName: row.timeZoneName,
  };
  let envelope: TimeRange;
  try {
    envelope = timeEnvelope(query);
    exportSql(query, table, envelope);
  } catch (error) {
    throw new PermanentExportError(error instanceof Error ? error.message : String(error));
  }
  const stored = storedCursor(row);
  let upper = stored?.timeStart ?? envelope.to;
  let span = Math.max(
    MIN_SPAN_S,
    Math.floor((stored?.id ?? FIRST_SPAN_S) / 2 ** Math.max(0, row.attempts - 1)),
  );
  let header = stored === null;
  let rows = 0;
  const client = await connect(env).catch((error) => {
    throw isPermanent(error) ? new PermanentExportError(error.message) : error;
  });
  try {
    // At least one statement for a new file, so even filters that select nothing give the header line.
    while (upper > envelope.from || header) {
      const range = { from: Math.max(envelope.from, upper - span * 1000), to: upper };
      const started = Date.now();
      rows += await copyRange(client, query, table, range, header, output, rows);
      header = false;
      upper = range.from;
      span = nextSpan(span, Date.now() - started);
      await output.store(rows);
      if (rows >= limits.budgetRows || Date.now() >= limits.deadline) break;
    }
  } catch (error) {
    if (isPermanent(error)) throw new PermanentExportError((error as Error).message);
    throw error;
  } finally {
    await close(client);
  }
  return { rows, finished: upper <= envelope.from, cursor: { timeStart: upper, id: span } };
}
