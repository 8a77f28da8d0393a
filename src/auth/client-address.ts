// The caller's address as Cloudflare reports it; X-Real-IP only when the Worker sits behind a trusted proxy.

import { config } from "../config";
import type { AppContext } from "../context";

export function clientAddress(c: AppContext): string {
  const cf = c.req.header("CF-Connecting-IP");
  if (cf) return cf.trim();
  if (config(c.env).TRUST_PROXY) return c.req.header("X-Real-IP")?.trim() ?? "";
  return "";
}
