// Customer API v1 `/auth`: log in for a JWT or a session cookie, check the session, log out.
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { sourceAllowed } from "../../auth/caller";
import { clientAddress } from "../../auth/client-address";
import { authorize, customerAuth, SESSION_COOKIE, sessionCookie, takeToken } from "../../auth/customer-auth";
import { issueToken, newSessionId, verifyToken } from "../../auth/customer-token";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../../auth/password";
import { enforceLoginLimits } from "../../auth/rate-limit";
import { endSession, issueTime } from "../../auth/revocation";
import type { AppEnv } from "../../context";
import { db } from "../../db/client";
import { checkCaller } from "../../db/queries/caller";
import { apiAccesses, contractors } from "../../db/schema";
import { ApiError } from "../../errors";
import { isPlainObject, readJsonBody } from "../../http/json-api";

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
  await enforceLoginLimits(c.env, credentials.login, address);

  const access = await db(c.env, c.get("d1"))
    .select({
      id: apiAccesses.id,
      customerId: apiAccesses.customerId,
      passwordHash: apiAccesses.passwordHash,
      allowedIps: apiAccesses.allowedIps,
      accessRevokedAt: apiAccesses.tokensRevokedAt,
      customerRevokedAt: contractors.tokensRevokedAt,
    })
    .from(apiAccesses)
    .innerJoin(contractors, eq(contractors.id, apiAccesses.customerId))
    .where(eq(apiAccesses.login, credentials.login))
    .get();
  // Verify against a dummy hash when the login is unknown, so both cases take the same time.
  const { ok, needsRehash } = await verifyPassword(
    credentials.password,
    access?.passwordHash ?? DUMMY_PASSWORD_HASH,
  );
  if (!access || !ok || !sourceAllowed(address, access.allowedIps)) throw loginFailed();
  if (needsRehash) {
    await db(c.env, c.get("d1"))
      .update(apiAccesses)
      .set({ passwordHash: await hashPassword(credentials.password), updatedAt: Date.now() })
      .where(eq(apiAccesses.id, access.id));
  }

  const { token, exp } = await issueToken(c.env, {
    sub: access.id,
    iat: issueTime([access.accessRevokedAt, access.customerRevokedAt]),
    session: newSessionId(),
    customerId: access.customerId,
  });
  if (credentials.cookie_auth === true || body.cookie_auth === true) {
    sessionCookie(c, token, exp);
    return c.body(null, 201);
  }
  return c.json({ jwt: token }, 201);
});

auth.get("/", customerAuth, async (c) => {
  const scope = authorize(c, await checkCaller(c.get("d1"), c.get("caller")));
  return c.json({ "allow-rec": scope.allowRec });
});

auth.delete("/", async (c) => {
  // Ends the session of the token that made the call, if any is valid; always 204, as Yeti answers.
  const taken = takeToken(c);
  const claims = taken?.token ? await verifyToken(c.env, taken.token) : null;
  if (claims) await endSession(c.env, claims, Date.now(), c.get("d1"));
  // The same attributes as the session cookie (Secure over https), so the overwrite always lands.
  const secure = new URL(c.req.url).protocol === "https:" ? "; Secure" : "";
  c.header(
    "Set-Cookie",
    `${SESSION_COOKIE}=logout; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly${secure}; SameSite=Lax`,
  );
  return c.body(null, 204);
});
