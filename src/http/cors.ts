// CORS for a customer portal: Hono's `cors`, answering only origins listed in CORS_ALLOWED_ORIGINS (default none).
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { config } from "../config";
import type { AppEnv } from "../context";

const portal = cors({
  origin: (origin, c) => (config(c.env).CORS_ALLOWED_ORIGINS.includes(origin) ? origin : null),
  credentials: true,
  allowMethods: ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
  allowHeaders: [
    "Authorization",
    "Content-Type",
    "Accept",
    "Range",
    "If-Range",
    "If-None-Match",
    "X-Request-Id",
    "Idempotency-Key",
    "X-D1-Bookmark",
  ],
  exposeHeaders: [
    "Content-Disposition",
    "Content-Range",
    "ETag",
    "X-Request-Id",
    "Retry-After",
    "X-D1-Bookmark",
  ],
  maxAge: 600,
});

/**
 * Hono's `cors` runs for an allowed origin only: for any other it would still send Allow-Credentials,
 * Expose-Headers, and on a preflight Allow-Methods and the echoed request headers. A refused origin gets
 * none of them (a bare 204 on a preflight, so the browser blocks the real request), only `Vary: Origin`.
 */
export const portalCors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("Origin");
  if (origin !== undefined && config(c.env).CORS_ALLOWED_ORIGINS.includes(origin)) return portal(c, next);
  if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined) {
    return c.body(null, 204, { Vary: "Origin" });
  }
  await next();
  c.header("Vary", "Origin", { append: true });
});
