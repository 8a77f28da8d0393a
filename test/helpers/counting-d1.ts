// A D1 binding that counts round trips: each statement run (first, all, raw, run) and each batch is one,
// on the database and on every session of it. Statements and batches are the real ones underneath.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/app";

export type CountingD1 = {
  db: D1Database;
  /** Round trips since the last reset. */
  trips: () => number;
  /** The SQL of each round trip (a batch's statements joined by " ;; "). */
  log: string[];
  /** What each withSession call was given. */
  sessions: (string | undefined)[];
  reset: () => void;
};

const RUN_METHODS = new Set(["first", "all", "raw", "run"]);

export function countingD1(real: D1Database = env.DB): CountingD1 {
  const log: string[] = [];
  const sessions: (string | undefined)[] = [];
  const realOf = new WeakMap<object, D1PreparedStatement>();
  const sqlOf = new WeakMap<object, string>();

  const wrapStatement = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrapStatement(target.bind(...values), sql);
        const value = Reflect.get(target, prop);
        if (typeof value !== "function") return value;
        if (RUN_METHODS.has(String(prop))) {
          return (...args: unknown[]) => {
            log.push(sql);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
    realOf.set(proxy, statement);
    sqlOf.set(proxy, sql);
    return proxy;
  };

  const wrapHandle = <T extends D1Database | D1DatabaseSession>(handle: T): T =>
    new Proxy(handle, {
      get(target, prop) {
        if (prop === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), sql);
        if (prop === "batch") {
          return (statements: D1PreparedStatement[]) => {
            log.push(statements.map((s) => sqlOf.get(s) ?? "?").join(" ;; "));
            return target.batch(statements.map((s) => realOf.get(s) ?? s));
          };
        }
        if (prop === "withSession") {
          return (constraint?: string) => {
            sessions.push(constraint);
            return wrapHandle((target as D1Database).withSession(constraint));
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });

  return {
    db: wrapHandle(real),
    trips: () => log.length,
    log,
    sessions,
    reset: () => {
      log.length = 0;
      sessions.length = 0;
    },
  };
}

/** Sends a request to the app with the counting database (and any other bindings replaced). */
export async function fetchCounted(
  d1: CountingD1,
  request: Request,
  overrides: Partial<Env> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(request, { ...env, ...overrides, DB: d1.db } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
