// Test helpers: call the Worker, provision tenants through the operator API, mint tokens.
import { exports } from "cloudflare:workers";
import { SignJWT } from "jose";

export const ADMIN_TOKEN = "test-admin-token";
export const JWT_SECRET = "test-customer-v1-secret";
export const BASE = "http://example.org";
export const CUSTOMER = `${BASE}/api/rest/customer/v1`;
export const ADMIN = `${BASE}/api/rest/admin`;
export const JSON_API = "application/vnd.api+json";

export async function call(url: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(url, init));
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

/** A customer with two accounts and an API access seeing both; `auth` is its Authorization header value. */
export async function tenant() {
  const customer = await createContractor();
  const account = await createAccount(customer.id);
  const otherAccount = await createAccount(customer.id);
  const access = await createApiAccess(customer.id);
  const jwt = await token({ sub: Number(access.id), aud: ["customer-v1"] });
  return {
    customer,
    account,
    otherAccount,
    access,
    accountUuid: account.attributes.uuid as string,
    otherAccountUuid: otherAccount.attributes.uuid as string,
    auth: `Bearer ${jwt}`,
  };
}

export async function customer(auth: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
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
