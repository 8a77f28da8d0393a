// Helpers of the /auth and CORS tests: log in, unique source addresses, stored hashes.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/app";
import { CUSTOMER, call, createApiAccess, createContractor, JSON_API } from "./api";

export const AUTH = `${CUSTOMER}/auth`;
export const PASSWORD = "correct horse battery";
export const SESSION_COOKIE = "_yeti_customer_v1_session";

export type LoginOptions = {
  /** CF-Connecting-IP of the request (none = an unknown source). */
  ip?: string;
  cookie?: boolean;
  /** Use an https:// URL (a Secure cookie is expected then). */
  https?: boolean;
  contentType?: string;
  headers?: Record<string, string>;
};

export function authUrl(https = false): string {
  return https ? AUTH.replace(/^http:/, "https:") : AUTH;
}

/** POST /auth with a raw body. */
export async function postAuth(
  body: string,
  options: { contentType?: string; ip?: string; https?: boolean; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.contentType !== "") headers["Content-Type"] = options.contentType ?? "application/json";
  if (options.ip !== undefined) headers["CF-Connecting-IP"] = options.ip;
  return call(authUrl(options.https), { method: "POST", headers, body });
}

/** POST /auth with `{"auth": {login, password}}` (and `cookie_auth` when asked). */
export async function login(loginName: string, password: string, options: LoginOptions = {}) {
  return postAuth(
    JSON.stringify({
      auth: { login: loginName, password, ...(options.cookie ? { cookie_auth: true } : {}) },
    }),
    options,
  );
}

/** Logs in and returns the JWT; fails the test on anything but 201. */
export async function loginToken(loginName: string, password = PASSWORD, options: LoginOptions = {}) {
  const res = await login(loginName, password, options);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`login expected 201, got ${res.status}: ${text}`);
  return (JSON.parse(text) as { jwt: string }).jwt;
}

/** A customer and an API access (default password PASSWORD); `login` is its login name. */
export async function loginAccess(attributes: Record<string, unknown> = {}) {
  const customer = await createContractor();
  const access = await createApiAccess(customer.id, attributes);
  return { customer, access, id: Number(access.id), login: access.attributes.login as string };
}

function randomByte(): number {
  return crypto.getRandomValues(new Uint8Array(1))[0] ?? 0;
}

function randomHextet(): string {
  return (crypto.getRandomValues(new Uint16Array(1))[0] ?? 0).toString(16);
}

/** A random /24 in 100.64.0.0/10 (shared address space, unlikely to be used elsewhere in the suite). */
export function randomNet4(): { net: string; host: (n: number) => string } {
  const base = `100.${64 + (randomByte() & 63)}.${randomByte()}`;
  return { net: `${base}.0/24`, host: (n) => `${base}.${n}` };
}

/** A random /48 in 2001:db8::/32. */
export function randomNet6(): { net: string; host: (suffix: string) => string } {
  const base = `2001:db8:${randomHextet()}`;
  return { net: `${base}::/48`, host: (suffix) => `${base}:${suffix}` };
}

/** A random IPv4 address, for a test that needs a source of its own. */
export function uniqueIPv4(): string {
  return randomNet4().host(1 + (randomByte() % 254));
}

/** The stored password hash of an API access, read straight from D1. */
export async function storedHash(accessId: number): Promise<string> {
  const row = await env.DB.prepare("SELECT password_hash FROM api_accesses WHERE id = ?")
    .bind(accessId)
    .first<{ password_hash: string }>();
  if (!row) throw new Error(`no api access ${accessId}`);
  return row.password_hash;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Set-Cookie header of the session cookie, or null. */
export function sessionSetCookie(res: Response): string | null {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`)) ?? null;
}

/** Calls the app with some vars replaced (the rest of the bindings are the test Worker's). */
export async function fetchWithVars(request: Request, vars: Partial<Record<keyof Env, string>>) {
  const ctx = createExecutionContext();
  const res = await app.fetch(request, { ...env, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export { JSON_API };
