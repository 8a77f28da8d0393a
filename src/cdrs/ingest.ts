// CDR ingestion: validates an NDJSON batch whole, then writes it idempotently (by uuid) in one D1 batch.
import { parseAddress } from "../auth/ip-networks";
import { config } from "../config";
import { CDR_COLUMNS } from "../file-format/columns";
import { TAIL_SQL } from "../file-format/csv";
import { parseTimestampMicros } from "../file-format/time-format";

export const MAX_INGEST_BYTES = 32 * 1024 * 1024;
const MAX_REPORTED_PROBLEMS = 100;
/** D1 caps a bound value at 2 MB; rows travel as one JSON parameter per statement, well under it. */
const CHUNK_JSON_BYTES = 900_000;

const COLUMNS = Object.keys(CDR_COLUMNS);
const REQUIRED = ["uuid", "time_start"];
const DECIMAL = /^-?\d{1,20}(\.\d{1,20})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type LineProblem = { line: number; column: string | null; message: string };
type Cell = string | number | null;

function cell(column: string, value: unknown): Cell | { error: string } {
  if (value === null)
    return column === "uuid" || column === "time_start" ? { error: "can't be blank" } : null;
  switch (CDR_COLUMNS[column]) {
    case "time": {
      const micros = typeof value === "string" ? parseTimestampMicros(value) : null;
      return micros ?? { error: "is not a timestamp with a zone (RFC 3339 or PostgreSQL text)" };
    }
    case "bool":
      if (value === true || value === "t" || value === "true") return 1;
      if (value === false || value === "f" || value === "false") return 0;
      return { error: "is not a boolean" };
    case "int": {
      const n = typeof value === "string" && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
      return typeof n === "number" && Number.isSafeInteger(n) ? n : { error: "is not an integer" };
    }
    case "decimal": {
      const text = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
      return typeof text === "string" && DECIMAL.test(text) ? text : { error: "is not a decimal" };
    }
    default: {
      if (typeof value !== "string") return { error: "is not a string" };
      if (column === "uuid" && !UUID.test(value)) return { error: "is not a uuid" };
      if (column === "auth_orig_ip" && !parseAddress(value)) return { error: "is not an IP address" };
      return value;
    }
  }
}

/** Parses every line; returns rows (cells in COLUMNS order) or the problems, never both. */
export function parseNdjson(text: string): { rows: Cell[][]; problems: LineProblem[] } {
  const rows: Cell[][] = [];
  const problems: LineProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length && problems.length < MAX_REPORTED_PROBLEMS; i++) {
    const line = (lines[i] as string).trim();
    if (!line) continue;
    const number = i + 1;
    let object: unknown;
    try {
      object = JSON.parse(line);
    } catch {
      problems.push({ line: number, column: null, message: "is not valid JSON" });
      continue;
    }
    if (typeof object !== "object" || object === null || Array.isArray(object)) {
      problems.push({ line: number, column: null, message: "is not a JSON object" });
      continue;
    }
    const record = object as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(CDR_COLUMNS, key))
        problems.push({ line: number, column: key, message: "is not a CDR column" });
    }
    for (const key of REQUIRED) {
      if (record[key] === undefined) problems.push({ line: number, column: key, message: "can't be blank" });
    }
    const row: Cell[] = [];
    for (const column of COLUMNS) {
      const value = cell(column, record[column] ?? null);
      if (value !== null && typeof value === "object") {
        if (record[column] !== undefined) problems.push({ line: number, column, message: value.error });
        row.push(null);
      } else row.push(value);
    }
    rows.push(row);
  }
  // An empty body (or only blank lines) is a mistake, most often a wrong file name after `@`.
  if (!rows.length && !problems.length) {
    problems.push({ line: 1, column: null, message: "holds no CDR: send one JSON object a line" });
  }
  return problems.length ? { rows: [], problems } : { rows, problems };
}

const quotedColumns = COLUMNS.map((c) => `"${c}"`).join(", ");
const extracts = COLUMNS.map((c, i) => `json_extract(value, '$[${i}]') AS "${c}"`).join(", ");
// With CDR_STORE_CSV_TAIL (the default), each row's customer-export CSV tail is rendered here, over the
// values as they are stored (the cells are already of their columns' types), with the scan's own
// expression. An upsert fed by a SELECT needs the WHERE to parse unambiguously (SQLite's documented quirk).
const INSERT_SQL = `INSERT INTO cdrs (${quotedColumns}) SELECT ${extracts} FROM json_each(?) WHERE true ON CONFLICT(uuid) DO NOTHING`;
const INSERT_WITH_TAIL_SQL = `INSERT INTO cdrs (${quotedColumns}, "csv_tail")
  SELECT *, ${TAIL_SQL} FROM (SELECT ${extracts} FROM json_each(?)) WHERE true ON CONFLICT(uuid) DO NOTHING`;

/** CDR_STORE_CSV_TAIL: "false" keeps cdrs.csv_tail empty (less storage, each export renders in SQLite). */
export function storesCsvTail(env: Env): boolean {
  return config(env).CDR_STORE_CSV_TAIL;
}

function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Surrogate pairs: 2 units, 4 bytes; other units above U+07FF take 3 bytes, above U+007F 2.
    if (code > 0x7ff) bytes += code >= 0xd800 && code <= 0xdfff ? 1 : 2;
    else if (code > 0x7f) bytes += 1;
  }
  return bytes;
}

/** Writes all rows in one D1 batch (a transaction): all or nothing. */
export async function insertCdrs(env: Env, rows: Cell[][]): Promise<{ inserted: number; present: number }> {
  const statements: D1PreparedStatement[] = [];
  const insert = storesCsvTail(env) ? INSERT_WITH_TAIL_SQL : INSERT_SQL;
  let chunk: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (!chunk.length) return;
    statements.push(env.DB.prepare(insert).bind(`[${chunk.join(",")}]`));
    chunk = [];
    bytes = 0;
  };
  for (const row of rows) {
    const json = JSON.stringify(row);
    // The cap is on UTF-8 bytes: non-ASCII text takes up to 3 bytes per UTF-16 unit of `json.length`.
    const size = utf8Length(json);
    if (bytes + size > CHUNK_JSON_BYTES) flush();
    chunk.push(json);
    bytes += size + 1;
  }
  flush();
  if (!statements.length) return { inserted: 0, present: 0 };
  const results = await env.DB.batch(statements);
  const inserted = results.reduce((sum, r) => sum + (r.meta.changes ?? 0), 0);
  return { inserted, present: rows.length - inserted };
}
