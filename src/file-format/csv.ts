// CSV lines as PostgreSQL's COPY (FORMAT CSV, HEADER, FORCE_QUOTE *) writes them.
import { CDR_COLUMNS, CUSTOMER_COLUMNS, headerName } from "./columns";

/** The header line: Yeti's column aliases, unquoted, `\n`-terminated. */
export function csvHeader(columns: readonly string[]): string {
  return `${columns.map(headerName).join(",")}\n`;
}

type Cell = string | number | null;

/**
 * How the scan returns a row: a time column raw (microseconds, formatted here in the export's zone), and
 * each run of other columns as one piece of finished CSV text rendered by SQLite. Fewer, larger values
 * per row cut D1's result decoding and the garbage it leaves, the export's largest costs after gzip.
 */
export type CsvSegment = { kind: "time"; column: string } | { kind: "text"; columns: string[] };

export function csvSegments(columns: readonly string[]): CsvSegment[] {
  const segments: CsvSegment[] = [];
  for (const column of columns) {
    const kind = CDR_COLUMNS[column];
    if (kind === undefined || !Object.hasOwn(CDR_COLUMNS, column))
      throw new Error(`unknown export field ${column}`);
    const last = segments[segments.length - 1];
    if (kind === "time") segments.push({ kind: "time", column });
    else if (last?.kind === "text") last.columns.push(column);
    else segments.push({ kind: "text", columns: [column] });
  }
  return segments;
}

export type CsvOptions = {
  /**
   * Prefix text values a spreadsheet would run as a formula (first character `=`, `+`, `-`, `@`, tab or CR)
   * with `'`, as OWASP advises against CSV injection; plain signed numbers (`-0.01`, `+380441234567`: a
   * sign, then only digits and dots) are left alone. Off by default: Yeti writes values as stored.
   */
  neutraliseFormulas?: boolean;
};

/** SQLite: the text value would start a spreadsheet formula (and is not a signed number). */
function formulaSql(c: string): string {
  const rest = `substr(${c}, 2)`;
  const signedNumber = `(substr(${c}, 1, 1) IN ('+', '-') AND ${rest} <> '' AND ${rest} NOT GLOB '*[^0-9.]*')`;
  return `substr(${c}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13)) AND NOT ${signedNumber}`;
}

/** SQLite rendering of one cell as COPY writes it: quoted, inner quotes doubled; NULL an empty field. */
function cellSql(column: string, options: CsvOptions): string {
  const c = `"${column}"`;
  switch (CDR_COLUMNS[column]) {
    case "bool":
      return `CASE ${c} WHEN 1 THEN '"t"' WHEN 0 THEN '"f"' ELSE '' END`;
    case "int":
      return `COALESCE('"' || ${c} || '"', '')`;
    default: {
      const value = `replace(${c}, '"', '""')`;
      if (!options.neutraliseFormulas) return `COALESCE('"' || ${value} || '"', '')`;
      // '''' is SQL for a one-character string holding the apostrophe.
      return `COALESCE('"' || CASE WHEN ${formulaSql(c)} THEN '''' ELSE '' END || ${value} || '"', '')`;
    }
  }
}

function renderedSql(columns: readonly string[], options: CsvOptions): string {
  return columns.map((column) => cellSql(column, options)).join(" || ',' || ");
}

/**
 * The run of text columns every customer export writes (all of CUSTOMER_COLUMNS after the three times),
 * rendered once, when a CDR is ingested, into `cdrs.csv_tail` with exactly the expression the scan would
 * evaluate (TAIL_SQL): reading one stored text per row through D1 costs ~40 % less than rendering it
 * at each export (bench/RESULTS.md). Rows without it (ingested before the column) render on the fly.
 */
const TAIL_COLUMNS: readonly string[] = CUSTOMER_COLUMNS.filter((column) => CDR_COLUMNS[column] !== "time");
export const TAIL_SQL = renderedSql(TAIL_COLUMNS, {});

function isTail(columns: readonly string[]): boolean {
  return columns.length === TAIL_COLUMNS.length && columns.every((column, i) => column === TAIL_COLUMNS[i]);
}

/** The select-list expression of a segment (column names come from CDR_COLUMNS only). */
export function segmentSql(segment: CsvSegment, options: CsvOptions = {}): string {
  if (segment.kind === "time") return `"${segment.column}"`;
  if (!options.neutraliseFormulas && isTail(segment.columns)) return `COALESCE("csv_tail", ${TAIL_SQL})`;
  return renderedSql(segment.columns, options);
}

/** Builds the encoder of one data row from its segments; per-segment writers are chosen once. */
export function createRowEncoder(
  segments: readonly CsvSegment[],
  formatTime: (micros: number) => string,
): (row: readonly Cell[]) => string {
  const writers = segments.map((segment): ((v: Cell) => string) =>
    segment.kind === "time"
      ? (v) => (v === null ? "" : `"${formatTime(v as number)}"`)
      : (v) => (v === null ? "" : (v as string)),
  );
  const last = writers.length - 1;
  return (row) => {
    let line = "";
    for (let i = 0; i < last; i++) line += `${(writers[i] as (v: Cell) => string)(row[i] ?? null)},`;
    return `${line}${(writers[last] as (v: Cell) => string)(row[last] ?? null)}\n`;
  };
}
