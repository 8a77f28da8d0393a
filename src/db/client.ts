// The Drizzle handle over the D1 binding, or over a request's session of it.
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";
import type { D1Handle } from "./statement";

export function db(env: Env, d1: D1Handle = env.DB) {
  // A session prepares and batches as the database does, which is all Drizzle asks of it.
  return drizzle(d1 as D1Database, { schema });
}

export type Db = ReturnType<typeof db>;
