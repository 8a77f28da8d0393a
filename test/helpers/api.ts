// Test helpers: call the Worker, provision tenants through the operator API, mint tokens.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { app } from "../../src/app";
import { db } from "../../src/db/client";
import { cdrExports } from "../../src/db/schema";

export const ADMIN_TOKEN = "test-admin-token";
export const JWT_SECRET = "test-customer-v1-secret";
export const BASE = "http://example.org";
export const CUSTOMER = `${BASE}/api/rest/customer/v1`;
export const ADMIN = `${BASE}/api/rest/admin`;
export const JSON_API = "application/vnd.api+json";

let bindingOverrides: Partial<Env> | null = null;

export async function call(url: string, init: RequestInit = {}): Promise<Response> {
  if (!bindingOverrides) return exports.default.fetch(new Request(url, init));
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(url, init), { ...env, ...bindingOverrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Runs `body` with some of the Worker's bindings replaced for every `call` it makes (not concurrently). */
export async function withBindings<T>(overrides: Partial<Env>, body: () => Promise<T>): Promise<T> {
  if (bindingOverrides) throw new Error("withBindings does not nest");
  bindingOverrides = overrides;
  try {
    return await body();
  } finally {
    bindingOverrides = null;
  }
}

/**
 * A Rate Limiting binding that counts per key in one window until `newWindow()`: the rate-limit tests
 * decide when a window ends instead of waiting for the wall clock (the real binding's windows are).
 */
export class WindowedLimiter implements RateLimit {
  private counts = new Map<string, number>();
  constructor(private readonly max: number) {}
  async limit({ key }: RateLimitOptions): Promise<RateLimitOutcome> {
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return { success: n <= this.max };
  }
  newWindow(): void {
    this.counts.clear();
  }
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return call(`${ADMIN}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": JSON_API },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function created(res: Response): Promise<{ id: string; attributes: Record<string, unknown> }> {
  if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { data: { id: string; attributes: Record<string, unknown> } }).data;
}

export async function createContractor(attributes: Record<string, unknown> = {}) {
  return created(
    await admin("POST", "/contractors", {
      data: { type: "contractors", attributes: { name: unique("customer"), customer: true, ...attributes } },
    }),
  );
}

export async function createAccount(contractorId: string, attributes: Record<string, unknown> = {}) {
  return created(
    await admin("POST", "/accounts", {
      data: {
        type: "accounts",
        attributes: { name: unique("account"), ...attributes },
        relationships: { contractor: { data: { type: "contractors", id: contractorId } } },
      },
    }),
  );
}

export async function createApiAccess(customerId: string, attributes: Record<string, unknown> = {}) {
  return created(
    await admin("POST", "/api-accesses", {
      data: {
        type: "api-accesses",
        attributes: { login: unique("login"), password: "correct horse battery", ...attributes },
        relationships: { customer: { data: { type: "contractors", id: customerId } } },
      },
    }),
  );
}

export async function token(claims: Record<string, unknown>, secret = JWT_SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
}

/**
 * A customer with two accounts and an API access seeing both; `auth` is its Authorization header value.
 * `accessAttributes` go to the API access (e.g. `allowed-ips`); `restrictToFirstAccount` limits its
 * `account-ids` to the first account.
 */
export async function tenant(
  options: { accessAttributes?: Record<string, unknown>; restrictToFirstAccount?: boolean } = {},
) {
  const customer = await createContractor();
  const account = await createAccount(customer.id);
  const otherAccount = await createAccount(customer.id);
  const access = await createApiAccess(customer.id, {
    ...(options.restrictToFirstAccount ? { "account-ids": [Number(account.id)] } : {}),
    ...options.accessAttributes,
  });
  const jwt = await token({ sub: Number(access.id), aud: ["customer-v1"] });
  return {
    customer,
    account,
    otherAccount,
    access,
    accountId: Number(account.id),
    otherAccountId: Number(otherAccount.id),
    accountUuid: account.attributes.uuid as string,
    otherAccountUuid: otherAccount.attributes.uuid as string,
    jwt,
    auth: `Bearer ${jwt}`,
  };
}

export type Tenant = Awaited<ReturnType<typeof tenant>>;

export async function customer(
  auth: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return call(`${CUSTOMER}${path}`, {
    method,
    headers: { Authorization: auth, Accept: JSON_API, "Content-Type": JSON_API, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export function createBody(accountUuid: string | null, attributes: Record<string, unknown> = {}) {
  return {
    data: {
      type: "cdr-exports",
      attributes: {
        filters: { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-02 00:00:00" },
        ...attributes,
      },
      ...(accountUuid ? { relationships: { account: { data: { type: "accounts", id: accountUuid } } } } : {}),
    },
  };
}

export type ExportInsert = typeof cdrExports.$inferInsert;

/**
 * Writes an export row straight into D1, without a queue message, so its status, counts and timestamps
 * stay exactly as given (the background consumer never touches it).
 */
export async function seedExport(customerAccountId: number | null, values: Partial<ExportInsert> = {}) {
  const now = Date.now();
  const [row] = await db(env)
    .insert(cdrExports)
    .values({
      uuid: crypto.randomUUID(),
      status: "Pending",
      filters: { time_start_gteq: "2019-01-01T00:00:00.000Z", time_start_lt: "2019-01-02T00:00:00.000Z" },
      fields: ["time_start"],
      createdAt: now,
      updatedAt: now,
      customerAccountId,
      ...values,
    })
    .returning();
  if (!row) throw new Error("seedExport: no row");
  return row;
}

/** `n` Pending rows one second apart, oldest first (for paging tests); returns their uuids. */
export async function seedExports(customerAccountId: number, n: number, start = Date.UTC(2024, 0, 1)) {
  const d = db(env);
  const rows = Array.from({ length: n }, (_, i) => ({
    uuid: crypto.randomUUID(),
    filters: {},
    fields: ["time_start"],
    createdAt: start + i * 1000,
    updatedAt: start + i * 1000,
    customerAccountId,
  }));
  // D1 binds at most 100 parameters per statement: one row per statement, all in one batch.
  const [first, ...rest] = rows.map((row) => d.insert(cdrExports).values(row));
  if (first) await d.batch([first, ...rest]);
  return rows.map((r) => r.uuid);
}

export type ListBody = {
  data: Array<{ id: string; type: string; attributes: Record<string, unknown>; [k: string]: unknown }>;
  meta: { "total-count": number };
  links: Record<string, string>;
  included?: Array<Record<string, unknown>>;
};

/** GET the list with a raw query string (e.g. `filter[status_eq]=Pending`). */
export async function list(auth: string, query = ""): Promise<{ res: Response; body: ListBody }> {
  const res = await customer(auth, "GET", `/cdr-exports${query ? `?${query}` : ""}`);
  const body = (await res.clone().json()) as ListBody;
  return { res, body };
}

/** The caller's export count (meta.total-count of the list). */
export async function exportCount(auth: string): Promise<number> {
  const { res, body } = await list(auth);
  if (res.status !== 200) throw new Error(`list answered ${res.status}`);
  return body.meta["total-count"];
}

/** Polls the show route until `done` holds for the export's attributes, or fails after `timeoutMs`. */
export async function waitForExport(
  auth: string,
  id: string,
  done: (attributes: Record<string, unknown>) => boolean,
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await customer(auth, "GET", `/cdr-exports/${id}`);
    const attributes = ((await res.json()) as { data: { attributes: Record<string, unknown> } }).data
      .attributes;
    if (done(attributes)) return attributes;
    if (Date.now() > deadline) throw new Error(`export ${id} still ${JSON.stringify(attributes)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The security headers of the published example. */
export const SECURITY_HEADERS: Record<string, string> = {
  "X-Frame-Options": "SAMEORIGIN",
  "X-XSS-Protection": "0",
  "X-Content-Type-Options": "nosniff",
  "X-Download-Options": "noopen",
  "X-Permitted-Cross-Domain-Policies": "none",
  "Referrer-Policy": "strict-origin-when-cross-origin",
};
