// CSV lines as PostgreSQL's COPY (FORMAT CSV, HEADER, FORCE_QUOTE *) writes them.
import { CDR_COLUMNS, titleize } from "./columns";

/** The header line: titleized names, unquoted, `\n`-terminated. */
export function csvHeader(columns: readonly string[]): string {
  return `${columns.map(titleize).join(",")}\n`;
}

/** Every non-NULL value quoted with inner quotes doubled; NULL is an empty, unquoted field. */
export function quote(value: string): string {
  return value.includes('"') ? `"${value.replaceAll('"', '""')}"` : `"${value}"`;
}

type Cell = string | number | null;

/**
 * Builds the encoder of one data row (values in `columns` order, as D1 returns them with `raw()`).
 * Per-column writers are chosen once so the hot loop does no lookups by name.
 */
export function createRowEncoder(
  columns: readonly string[],
  formatTime: (micros: number) => string,
): (row: readonly Cell[]) => string {
  const writers = columns.map((name): ((v: Cell) => string) => {
    switch (CDR_COLUMNS[name]) {
      case "time":
        return (v) => (v === null ? "" : `"${formatTime(v as number)}"`);
      case "bool":
        return (v) => (v === null ? "" : v ? '"t"' : '"f"');
      case "int":
        return (v) => (v === null ? "" : `"${v}"`);
      case "text":
        return (v) => (v === null ? "" : quote(String(v)));
      default:
        throw new Error(`unknown column ${name}`);
    }
  });
  const last = writers.length - 1;
  return (row) => {
    let line = "";
    for (let i = 0; i < last; i++) line += `${(writers[i] as (v: Cell) => string)(row[i] ?? null)},`;
    return `${line}${(writers[last] as (v: Cell) => string)(row[last] ?? null)}\n`;
  };
}
