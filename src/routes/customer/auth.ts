// Customer API v1 `/auth`: log in for a JWT or a session cookie, check the session, log out (Yeti's
// Api::Rest::Customer::V1::AuthController), each route one createRoute definition.
import type { ZodMediaTypeObject } from "@asteasolutions/zod-to-openapi";
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { sourceAllowed } from "../../auth/caller";
import { clientAddress } from "../../auth/client-address";
import { authorize, customerAuth, SESSION_COOKIE, sessionCookie, takeToken } from "../../auth/customer-auth";
import { issueToken, newSessionId, verifyToken } from "../../auth/customer-token";
import { readLoginParams } from "../../auth/login-params";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../../auth/password";
import { enforceLoginLimits } from "../../auth/rate-limit";
import { endSession, issueTime } from "../../auth/revocation";
import { db } from "../../db/client";
import { checkCaller } from "../../db/queries/caller";
import { apiAccesses, contractors } from "../../db/schema";
import { ApiError } from "../../errors";
import { errors } from "../../openapi/schemas";
import { customerRouter, SECURITY } from "./openapi";

export const auth = customerRouter();

/** A JSON Schema (not zod: the route validates nothing itself). */
type JsonSchema = Exclude<ZodMediaTypeObject["schema"], z.ZodType>;

const credentialProperties = {
  login: { type: "string" as const, example: "demo", description: "Compared case-sensitively." },
  password: { type: "string" as const, example: "demo-password" },
  cookie_auth: {
    type: ["boolean" as const, "string" as const],
    description:
      'Any value but `false` or `null` (Ruby truthiness: `true`, `"true"`, also `"false"`): answer with the session cookie instead of a token.',
  },
};

// Plain JSON Schemas, not zod: the credentials are read as Rails reads them (readLoginParams: JSON wrapped or
// bare, forms, any other body a 400 without `auth`), which a validator with its own 415 would not.
const loginJson: JsonSchema = {
  description:
    '`{"auth": {"login", "password", "cookie_auth"}}`; with `application/json` the members may also come without the `auth` wrapper (Rails wraps them).',
  type: "object",
  properties: { auth: { type: "object", properties: { ...credentialProperties } } },
  example: { auth: { login: "demo", password: "demo-password" } },
};

const loginForm: JsonSchema = {
  type: "object",
  properties: {
    "auth[login]": { type: "string", example: "demo" },
    "auth[password]": { type: "string", example: "demo-password" },
    "auth[cookie_auth]": { type: "string", description: "As `cookie_auth` (every string is truthy)." },
  },
};

/** Yeti's login failure (JSONAPI::Exceptions::AuthenticationFailed), one answer for every cause. */
function authenticationFailed(): ApiError {
  return new ApiError(401, [
    { title: "Authentication failed", detail: "Incorrect login or password.", code: "401" },
  ]);
}

const cookieHeader = {
  "Set-Cookie": {
    description: `With cookie_auth: \`${SESSION_COOKIE}=<jwt>; Path=/; HttpOnly; SameSite=Lax\` (+ \`Secure\` over https, \`Expires\` when tokens have a lifetime).`,
    schema: { type: "string" as const },
  },
};

const login = createRoute({
  method: "post",
  path: "/",
  tags: ["auth"],
  summary: "Log in",
  description:
    "A token, or with `cookie_auth` the session cookie (and no body). JSON (`application/json`, `application/vnd.api+json`) or a form (`auth[login]=...&auth[password]=...`). No `auth` at all: 400; a missing login or password, an unknown login, a wrong password or a source outside the access's networks: the same 401 (`Authentication failed`, `Incorrect login or password.`). Too many attempts: 429 with `Retry-After`.",
  security: [],
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: loginJson },
        "application/vnd.api+json": { schema: loginJson },
        "application/x-www-form-urlencoded": { schema: loginForm },
        "multipart/form-data": { schema: loginForm },
      },
    },
  },
  responses: {
    201: {
      description: 'Logged in: `{"jwt": ...}`; with `cookie_auth` an empty body and the session cookie.',
      headers: cookieHeader,
      content: { "application/json": { schema: z.strictObject({ jwt: z.string() }) } },
    },
    ...errors(400, 401, 413, 429),
  },
});

auth.openapi(login, async (c) => {
  const params = await readLoginParams(c.req);
  const address = clientAddress(c);
  await enforceLoginLimits(c.env, params.login ?? "", address);

  const access =
    params.login === null
      ? undefined
      : await db(c.env, c.get("d1"))
          .select({
            id: apiAccesses.id,
            login: apiAccesses.login,
            customerId: apiAccesses.customerId,
            passwordHash: apiAccesses.passwordHash,
            allowedIps: apiAccesses.allowedIps,
            accessRevokedAt: apiAccesses.tokensRevokedAt,
            customerRevokedAt: contractors.tokensRevokedAt,
          })
          .from(apiAccesses)
          .innerJoin(contractors, eq(contractors.id, apiAccesses.customerId))
          .where(eq(apiAccesses.login, params.login))
          .get();
  // Verify against a dummy hash when the login is unknown (or no password came), so every failure takes the
  // same time. Logins compare byte for byte, as in Yeti's PostgreSQL: checked again here so that no column
  // collation (NOCASE) can ever widen the match.
  const { ok, needsRehash } = await verifyPassword(
    params.password ?? "",
    access?.passwordHash ?? DUMMY_PASSWORD_HASH,
  );
  if (
    !access ||
    access.login !== params.login ||
    params.password === null ||
    !ok ||
    !sourceAllowed(address, access.allowedIps)
  ) {
    throw authenticationFailed();
  }
  if (needsRehash) {
    await db(c.env, c.get("d1"))
      .update(apiAccesses)
      .set({ passwordHash: await hashPassword(params.password), updatedAt: Date.now() })
      .where(eq(apiAccesses.id, access.id));
  }

  const { token, exp } = await issueToken(c.env, {
    sub: access.id,
    iat: issueTime([access.accessRevokedAt, access.customerRevokedAt]),
    session: newSessionId(),
    customerId: access.customerId,
  });
  if (params.cookieAuth) {
    sessionCookie(c, token, exp);
    // The documented 201 without its body (a route's typed answers cannot say "this body or none").
    return c.body(null, 201) as never;
  }
  return c.json({ jwt: token }, 201);
});

const check = createRoute({
  method: "get",
  path: "/",
  tags: ["auth"],
  summary: "Check the session",
  security: SECURITY,
  middleware: [customerAuth] as const,
  responses: {
    200: {
      description: "The session is valid.",
      content: {
        "application/json": {
          schema: z.strictObject({
            "allow-rec": z.boolean().openapi({ description: "May listen to recordings." }),
          }),
        },
      },
    },
    ...errors(401),
  },
});

auth.openapi(check, async (c) => {
  const scope = authorize(c, await checkCaller(c.get("d1"), c.get("caller")));
  return c.json({ "allow-rec": scope.allowRec }, 200);
});

const logout = createRoute({
  method: "delete",
  path: "/",
  tags: ["auth"],
  summary: "Log out",
  description:
    "Ends the session of the token sent (the `Authorization` header, else the session cookie): that token, and for a cookie session every refreshed cookie of it, is refused from then on, with the download links it made. Overwrites the session cookie with `logout`, expired. Needs no valid token: 204 either way.",
  security: [],
  responses: {
    204: {
      description: "Logged out.",
      headers: {
        "Set-Cookie": { description: `${SESSION_COOKIE}=logout, expired.`, schema: { type: "string" } },
      },
    },
  },
});

auth.openapi(logout, async (c) => {
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
