// Where an export reads its CDRs: what a slice of either source (D1, PostgreSQL) is given and gives back.

import { config } from "../config";
import type { ExportRow } from "../db/queries/cdr-exports";
import type { GzipSegments } from "../file-format/gzip-member";
import type { Cursor } from "./cdr-scan";

/** CDR_SOURCE: `d1` (the default, CDRs pushed through the ingest API) or `postgres` (Yeti's cdr.cdr). */
export const CDR_SOURCES = ["d1", "postgres"] as const;
export type CdrSourceName = (typeof CDR_SOURCES)[number];

/**
 * The source an export created now reads from, as configured; stored with the export, so a checkpoint is
 * always continued by the source that wrote it. A value that is neither name is kept, and the export fails
 * saying so (the ingest API answers 409 for anything but d1).
 */
export function configuredSource(env: Env): string {
  return config(env).CDR_SOURCE;
}

export function isCdrSource(name: string): name is CdrSourceName {
  return (CDR_SOURCES as readonly string[]).includes(name);
}

/** An error that retrying cannot fix: the export is marked Failed at once. */
export class PermanentExportError extends Error {}

/** Where a slice puts the file's bytes. */
export type SliceOutput = {
  gzip: GzipSegments;
  /** Hands what `gzip` has compressed to the R2 parts (renewing the lease); `rows` = this slice's so far. */
  store(rows: number): Promise<void>;
};

export type SliceLimits = {
  /** Rows after which the slice stops at the next point it can checkpoint. */
  budgetRows: number;
  /** Epoch ms after which it stops likewise. */
  deadline: number;
};

/**
 * What a slice wrote: its rows, whether the export has no more, and where the next slice goes on. The
 * cursor lands in the export's cursor columns; each source says what its two numbers mean.
 */
export type SliceResult = { rows: number; finished: boolean; cursor: Cursor | null };

/** The stored checkpoint of `row` as a cursor; null before the first checkpoint. */
export function storedCursor(row: ExportRow): Cursor | null {
  return row.cursorTimeStart !== null && row.cursorId !== null
    ? { timeStart: row.cursorTimeStart, id: row.cursorId }
    : null;
}
