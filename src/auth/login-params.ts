// The credentials of `POST /auth`, read as Rails reads `params.require(:auth).permit(:login, :password,
// :cookie_auth)` in Yeti's AuthController: JSON (wrapped by ParamsWrapper when `auth` is absent) or a form.
import type { HonoRequest } from "hono";
import { ApiError } from "../errors";
import { isPlainObject } from "../http/json-api";

export type LoginParams = {
  /** Absent or not a scalar: no login (the login fails, 401). */
  login: string | null;
  password: string | null;
  /** Ruby truthiness of `auth[cookie_auth]`: any permitted value but `false` and `nil` (so "false" too). */
  cookieAuth: boolean;
};

/** Rails' answer to `params.require(:auth)` on a missing or empty `auth` (ActionController::ParameterMissing). */
export function authMissing(): ApiError {
  return new ApiError(400, [
    {
      title: "Bad Request",
      detail: "param is missing or the value is empty: auth",
      code: "400",
      source: { parameter: "auth" },
    },
  ]);
}

/** A permitted scalar as the string Ruby compares (`42` → "42"); an object or array is dropped by `permit`. */
function scalar(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

function fromAuth(auth: unknown): LoginParams {
  // `require` refuses nil, "", {} and []; any other non-hash cannot be permitted either.
  if (!isPlainObject(auth) || Object.keys(auth).length === 0) throw authMissing();
  const cookie = auth.cookie_auth;
  return {
    login: scalar(auth.login),
    password: scalar(auth.password),
    cookieAuth: cookie !== undefined && cookie !== null && cookie !== false && scalar(cookie) !== null,
  };
}

function mediaType(request: HonoRequest): string {
  return (request.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/**
 * JSON: `{"auth": {...}}`, or for `application/json` the bare credentials (Rails' wrap_parameters wraps a
 * JSON body under the controller's key unless that key is present; `application/vnd.api+json` is
 * jsonapi-resources' own MIME type, which the wrapper's `[:json]` format list does not cover). Forms:
 * `auth[login]=...&auth[password]=...` (urlencoded or multipart; bare keys are not wrapped). Any other or no
 * media type carries no `auth`: 400.
 */
export async function readLoginParams(request: HonoRequest): Promise<LoginParams> {
  const type = mediaType(request);
  if (type === "application/json" || type === "application/vnd.api+json") {
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      throw ApiError.badRequest("Bad Request", "The request body is not valid JSON.", { pointer: "" });
    }
    if (!isPlainObject(body)) throw authMissing();
    if ("auth" in body) return fromAuth(body.auth);
    return fromAuth(type === "application/json" ? body : undefined);
  }
  if (type === "application/x-www-form-urlencoded" || type === "multipart/form-data") {
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      throw ApiError.badRequest("Bad Request", "The request body is not a valid form.", { pointer: "" });
    }
    const auth: Record<string, string> = {};
    for (const [key, value] of form) {
      const name = /^auth\[([a-z_]+)\]$/.exec(key)?.[1];
      if (name && typeof value === "string") auth[name] = value;
    }
    return fromAuth(auth);
  }
  throw authMissing();
}
