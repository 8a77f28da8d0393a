// The caller's address as Cloudflare reports it; X-Real-IP only when the Worker sits behind a trusted proxy.
import type { AppContext } from "../context";

export function clientAddress(c: AppContext): string {
  const cf = c.req.header("CF-Connecting-IP");
  if (cf) return cf.trim();
  if (c.env.TRUST_PROXY === "true") return c.req.header("X-Real-IP")?.trim() ?? "";
  return "";
}
