// D1 read replication for the customer API: each request runs on one D1 session; `x-d1-bookmark` in
// carries the freshness a client has seen, `x-d1-bookmark` out the freshness this request reached.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";

export const BOOKMARK_HEADER = "x-d1-bookmark";

/** D1's bookmark form (e.g. `00000085-0000024c-00004c6d-8e61117bf38d7adb71b934ebbf891683`). */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * A request with a bookmark reads from any replica at least that fresh. A request without one — every
 * Yeti client — starts at the primary ("first-primary"), so it sees every write acknowledged before it,
 * its own creates among them: a show right after a create never answers 404. Writes always go to the
 * primary. A header that is no bookmark is read as none: the primary is at least as fresh as any
 * bookmark, so that costs freshness nothing.
 */
export const d1Session = createMiddleware<AppEnv>(async (c, next) => {
  const given = c.req.header(BOOKMARK_HEADER)?.trim().toLowerCase();
  const bookmark = given && BOOKMARK.test(given) ? given : undefined;
  const session = c.env.DB.withSession(bookmark ?? "first-primary");
  c.set("d1", session);
  await next();
  const reached = session.getBookmark() ?? bookmark;
  if (reached) c.header(BOOKMARK_HEADER, reached);
});
