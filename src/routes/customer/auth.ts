// Customer API v1 `/auth`: log in for a JWT or a session cookie, check the session, log out.
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { clientAddress } from "../../auth/client-address";
import { customerAuth, SESSION_COOKIE, sessionCookie, sourceAllowed } from "../../auth/customer-auth";
import { issueToken } from "../../auth/customer-token";
import { rateLimitSource } from "../../auth/ip-networks";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../../auth/password";
import { enforceRateLimit } from "../../auth/rate-limit";
import type { AppEnv } from "../../context";
import { db } from "../../db/client";
import { apiAccesses } from "../../db/schema";
import { ApiError } from "../../errors";
import { isPlainObject, readJsonBody } from "../../http/json-api";

const LOGIN_PERIOD_SECONDS = 60;

export const auth = new Hono<AppEnv>();

function loginFailed(): ApiError {
  // One answer for unknown login, wrong password and disallowed source: nothing to learn from it.
  return new ApiError(401, [{ title: "Authentication failed", detail: "Authentication failed" }]);
}

auth.post("/", async (c) => {
  const body = await readJsonBody(c);
  const credentials = body.auth;
  if (
    !isPlainObject(credentials) ||
    typeof credentials.login !== "string" ||
    typeof credentials.password !== "string"
  ) {
    throw new ApiError(422, [
      {
        title: "is invalid",
        detail: "auth - requires login and password strings",
        source: { pointer: "/auth" },
      },
    ]);
  }
  const address = clientAddress(c);
  await enforceRateLimit(c.env.LOGIN_RATE_LIMITER, `login:${credentials.login}`, LOGIN_PERIOD_SECONDS);
  if (address) {
    await enforceRateLimit(c.env.LOGIN_RATE_LIMITER, `ip:${rateLimitSource(address)}`, LOGIN_PERIOD_SECONDS);
  }

  const access = await db(c.env)
    .select()
    .from(apiAccesses)
    .where(eq(apiAccesses.login, credentials.login))
    .get();
  // Verify against a dummy hash when the login is unknown, so both cases take the same time.
  const { ok, needsRehash } = await verifyPassword(
    credentials.password,
    access?.passwordHash ?? DUMMY_PASSWORD_HASH,
  );
  if (!access || !ok || !sourceAllowed(address, access.allowedIps)) throw loginFailed();
  if (needsRehash) {
    await db(c.env)
      .update(apiAccesses)
      .set({ passwordHash: await hashPassword(credentials.password), updatedAt: Date.now() })
      .where(eq(apiAccesses.id, access.id));
  }

  const { token, exp } = await issueToken(c.env, { sub: access.id });
  if (credentials.cookie_auth === true || body.cookie_auth === true) {
    sessionCookie(c, token, exp);
    return c.body(null, 201);
  }
  return c.json({ jwt: token }, 201);
});

auth.get("/", customerAuth, async (c) => {
  const scope = c.get("customer");
  let allowRec = false;
  if (scope.accessId !== "D") {
    const row = await db(c.env)
      .select({ allowRec: apiAccesses.allowListenRecording })
      .from(apiAccesses)
      .where(eq(apiAccesses.id, scope.accessId))
      .get();
    allowRec = row?.allowRec ?? false;
  }
  return c.json({ "allow-rec": allowRec });
});

auth.delete("/", (c) => {
  // The same attributes as the session cookie (Secure over https), so the overwrite always lands.
  const secure = new URL(c.req.url).protocol === "https:" ? "; Secure" : "";
  c.header(
    "Set-Cookie",
    `${SESSION_COOKIE}=logout; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly${secure}; SameSite=Lax`,
  );
  return c.body(null, 204);
});
