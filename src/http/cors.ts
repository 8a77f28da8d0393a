// CORS for a customer portal: only origins listed in CORS_ALLOWED_ORIGINS get CORS headers (default none).
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";

const ALLOW_METHODS = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS =
  "Authorization, Content-Type, Accept, Range, If-Range, If-None-Match, X-Request-Id, Idempotency-Key, X-D1-Bookmark";
const EXPOSE_HEADERS = "Content-Disposition, Content-Range, ETag, X-Request-Id, Retry-After, X-D1-Bookmark";

/**
 * The configured origins in the serialized form browsers send ("https://portal.example.com"), so an entry
 * written with a trailing slash, a path or upper case still matches. Entries that are not URLs are kept
 * as written (and can only match an identical Origin header).
 */
function allowedOrigins(env: Env): string[] {
  return (env.CORS_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      try {
        const { origin } = new URL(o);
        return origin === "null" ? o : origin;
      } catch {
        return o;
      }
    });
}

export const cors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("Origin");
  const allowed = origin !== undefined && allowedOrigins(c.env).includes(origin);
  const preflight = c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined;
  if (preflight) {
    // A refused origin gets a bare 204: without the headers the browser blocks the real request.
    const headers: Record<string, string> = { Vary: "Origin" };
    if (allowed) {
      Object.assign(headers, {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": ALLOW_METHODS,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Max-Age": "600",
      });
    }
    return c.body(null, 204, headers);
  }
  await next();
  c.header("Vary", "Origin", { append: true });
  if (allowed) {
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Allow-Credentials", "true");
    c.header("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  }
});
