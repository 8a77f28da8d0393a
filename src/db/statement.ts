// D1 statements from Drizzle `sql` templates: column names and bound values written once, run as plain D1
// statements so that several go in one `batch()` (one round trip) and list pages come back as raw arrays.
import { Column, type GetColumnData, type SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect, type SQLiteColumn } from "drizzle-orm/sqlite-core";

/** A D1 database or one request's session of it (`withSession`): both prepare and batch alike. */
export type D1Handle = D1Database | D1DatabaseSession;

const dialect = new SQLiteAsyncDialect();

export function statement(d1: D1Handle, query: SQL): D1PreparedStatement {
  const { sql: text, params } = dialect.sqlToQuery(query);
  return d1.prepare(text).bind(...params);
}

/**
 * A fragment without bound values, rendered to its text once: every statement that embeds it then copies
 * one string instead of walking Drizzle's chunks again (the list's SQL is built on each request).
 */
export function frozen(fragment: SQL): SQL {
  const { sql: text, params } = dialect.sqlToQuery(fragment);
  if (params.length) throw new Error("a frozen SQL fragment cannot bind values");
  return sql.raw(text);
}

/**
 * A batch's rows as arrays in select order. D1 returns batch rows as objects keyed by column name, so
 * every statement run through here must give its columns distinct names (aliases), or one hides another.
 */
export function rowsOf(result: D1Result | undefined): unknown[][] {
  return (result?.results ?? []).map((row) => Object.values(row as Record<string, unknown>));
}

type Columns = Record<string, SQLiteColumn>;
export type Decoded<T extends Columns> = { [K in keyof T]: GetColumnData<T[K]> };

/** Columns a statement selects (distinctly named) and how to read them back from a raw row at an offset. */
export type RowReader<T> = {
  readonly select: SQL;
  readonly width: number;
  decode(row: readonly unknown[], at: number): T | null;
};

/**
 * Columns selected under aliases of their own (`<prefix><key>`) and read back from raw rows by position,
 * with each column's own driver mapping where it has one (JSON, booleans): Drizzle's types without its
 * per-row machinery.
 */
export class Projection<T extends Columns> implements RowReader<Decoded<T>> {
  readonly width: number;
  readonly select: SQL;
  private readonly keys: string[];
  private readonly mappers: (((value: unknown) => unknown) | null)[];

  constructor(
    readonly prefix: string,
    readonly columns: T,
  ) {
    const entries = Object.entries(columns);
    this.keys = entries.map(([key]) => key);
    this.mappers = entries.map(([, column]) =>
      column.mapFromDriverValue === Column.prototype.mapFromDriverValue
        ? null
        : (value: unknown) => column.mapFromDriverValue(value),
    );
    this.width = entries.length;
    this.select = frozen(
      sql.join(
        entries.map(([key, column]) => sql`${column} AS ${sql.identifier(this.alias(key))}`),
        sql`, `,
      ),
    );
  }

  alias(key: keyof T & string): string {
    return `${this.prefix}${key}`;
  }

  /** The row's values from `at` on; null when the first column is NULL (nothing matched a LEFT JOIN). */
  decode(row: readonly unknown[], at: number): Decoded<T> | null {
    if (row[at] === null || row[at] === undefined) return null;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < this.width; i++) {
      const value = row[at + i];
      const map = this.mappers[i];
      out[this.keys[i] as string] = value === null || !map ? value : map(value);
    }
    return out as Decoded<T>;
  }
}
