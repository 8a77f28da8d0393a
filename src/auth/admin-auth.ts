// Operator API auth: a bearer token from ADMIN_API_TOKEN (comma-separated, for rotation), compared in constant time.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";

const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

/** Hashing first gives equal-length inputs, so neither the length nor the content leaks through timing. */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [da, db] = await Promise.all([digest(a), digest(b)]);
  return crypto.subtle.timingSafeEqual(da, db);
}

export async function adminTokenValid(env: Env, presented: string): Promise<boolean> {
  const tokens = (env.ADMIN_API_TOKEN ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  let ok = false;
  // Compare against every configured token so the position of a match does not show in the timing.
  for (const token of tokens) ok = (await constantTimeEqual(presented, token)) || ok;
  return ok;
}

export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !(await adminTokenValid(c.env, match[1] as string))) {
    throw new ApiError(
      401,
      [{ title: "Unauthorized", detail: "A valid operator bearer token is required." }],
      {
        "WWW-Authenticate": 'Bearer realm="admin"',
      },
    );
  }
  await next();
});
