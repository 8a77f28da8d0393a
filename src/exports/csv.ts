// CSV lines as PostgreSQL's COPY (FORMAT CSV, HEADER, FORCE_QUOTE *) writes them.
import { CDR_COLUMNS, titleize } from "./columns";

/** The header line: titleized names, unquoted, `\n`-terminated. */
export function csvHeader(columns: readonly string[]): string {
  return `${columns.map(titleize).join(",")}\n`;
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

/** SQLite rendering of one cell as COPY writes it: quoted, inner quotes doubled; NULL an empty field. */
function cellSql(column: string): string {
  const c = `"${column}"`;
  switch (CDR_COLUMNS[column]) {
    case "bool":
      return `CASE ${c} WHEN 1 THEN '"t"' WHEN 0 THEN '"f"' ELSE '' END`;
    case "int":
      return `COALESCE('"' || ${c} || '"', '')`;
    default:
      return `COALESCE('"' || replace(${c}, '"', '""') || '"', '')`;
  }
}

/** The select-list expression of a segment (column names come from CDR_COLUMNS only). */
export function segmentSql(segment: CsvSegment): string {
  return segment.kind === "time" ? `"${segment.column}"` : segment.columns.map(cellSql).join(" || ',' || ");
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
