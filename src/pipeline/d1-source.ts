// One slice of an export from D1: keyset pages of `cdrs`, newest first, rendered to CSV in the Worker.

import type { ExportRow } from "../db/queries/cdr-exports";
import { createRowEncoder, csvHeader } from "../file-format/csv";
import { createTimeFormatter } from "../file-format/time-format";
import { type Cursor, cursorOf, fetchPage, planScan } from "./cdr-scan";
import {
  PermanentExportError,
  type SliceLimits,
  type SliceOutput,
  type SliceResult,
  storedCursor,
} from "./cdr-source";

export type D1Options = { pageRows: number; neutraliseFormulas: boolean };

/**
 * Writes rows from the stored cursor on (the header first when the export has none yet) until the CDRs
 * end or a limit is reached at a page's end. The cursor is the last row's (time_start µs, id).
 */
export async function readD1Slice(
  env: Env,
  row: ExportRow,
  options: D1Options,
  limits: SliceLimits,
  output: SliceOutput,
): Promise<SliceResult> {
  let plan: ReturnType<typeof planScan>;
  let formatTime: (micros: number) => string;
  try {
    plan = planScan(
      row.fields,
      row.filters as never,
      row.customerAccountId,
      { neutraliseFormulas: options.neutraliseFormulas },
      row.timeZoneName,
    );
    formatTime = createTimeFormatter(row.timeFormat, row.timeZoneName);
  } catch (error) {
    throw new PermanentExportError(error instanceof Error ? error.message : String(error));
  }
  const encode = createRowEncoder(plan.segments, formatTime);
  const { gzip } = output;

  let cursor = storedCursor(row);
  if (cursor === null) gzip.write(csvHeader(row.fields));
  let rows = 0;
  let finished = false;
  // A prefetched page is dropped when the slice stops early; its failure must not go unhandled.
  const prefetch = (from: Cursor | null) => {
    const page = fetchPage(env, plan, from, options.pageRows);
    page.catch(() => {});
    return page;
  };
  let next = prefetch(cursor);
  for (;;) {
    const page = await next;
    const last = page[page.length - 1];
    finished = page.length < options.pageRows;
    if (last) cursor = cursorOf(plan, last);
    const budgetSpent = rows + page.length >= limits.budgetRows;
    // Fetch the next page while this one is encoded and compressed (not when the row budget ends the slice).
    if (!finished && !budgetSpent) next = prefetch(cursor);
    for (const r of page) {
      gzip.write(encode(r));
      rows++;
      if (gzip.ready) await output.store(rows);
    }
    if (finished || budgetSpent || Date.now() >= limits.deadline) break;
  }
  return { rows, finished, cursor };
}
