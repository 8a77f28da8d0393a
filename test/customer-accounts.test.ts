// Customer API v1 `accounts`: the caller's accounts only, Yeti's nine attributes (decimals as BigDecimal
// strings), filters, sorting, paging, sparse fieldsets, ids.
import { beforeAll, describe, expect, it } from "vitest";
import { admin, CUSTOMER, customer, JSON_API, type Tenant, tenant, token } from "./helpers/api";

type ErrorObject = { status: string; code?: string; title: string; detail?: string };
// biome-ignore lint/suspicious/noExplicitAny: documents are checked member by member
type Doc = { data: any; meta?: { "total-count": number }; links?: Record<string, string> };

async function get(auth: string, path: string) {
  const res = await customer(auth, "GET", path);
  return { res, body: (await res.clone().json()) as Doc & { errors?: ErrorObject[] } };
}

const bad = (title: string, detail: string, code: string): ErrorObject => ({
  status: "400",
  code,
  title,
  detail,
});

async function patchAccount(id: number, attributes: Record<string, unknown>) {
  const res = await admin("PATCH", `/accounts/${id}`, {
    data: { type: "accounts", id: String(id), attributes },
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

describe("GET /accounts and /accounts/{id}", () => {
  let t: Tenant;
  let stranger: Tenant;
  beforeAll(async () => {
    t = await tenant();
    stranger = await tenant();
    await patchAccount(t.accountId, {
      balance: "1000",
      "min-balance": "-100",
      "max-balance": "12.50",
      "destination-rate-limit": "0.0125",
      "origination-capacity": 10,
      "termination-capacity": 20,
      "total-capacity": 30,
      currency: "EUR",
    });
    await patchAccount(t.otherAccountId, { balance: "-5.5", "total-capacity": null });
  });

  it("shows an account with Yeti's nine attributes, decimals as BigDecimal renders them", async () => {
    const { res, body } = await get(t.auth, `/accounts/${t.accountUuid}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe(JSON_API);
    expect(body).toEqual({
      data: {
        id: t.accountUuid,
        type: "accounts",
        links: { self: `${CUSTOMER}/accounts/${t.accountUuid}` },
        attributes: {
          name: t.account.attributes.name,
          balance: "1000.0",
          "min-balance": "-100.0",
          "max-balance": "12.5",
          "destination-rate-limit": "0.0125",
          "origination-capacity": 10,
          "termination-capacity": 20,
          "total-capacity": 30,
          currency: "EUR",
        },
      },
    });
  });

  it("the included account's links.self resolves to the same document", async () => {
    const { body } = await get(t.auth, `/accounts/${t.accountUuid}`);
    const self = await fetchSelf(t.auth, body.data.links.self);
    expect(self).toEqual(body);
  });

  it("lists only the caller's accounts, ordered by uuid, with total-count and links", async () => {
    const { res, body } = await get(t.auth, "/accounts");
    expect(res.status).toBe(200);
    expect(body.data.map((a: { id: string }) => a.id)).toEqual([t.accountUuid, t.otherAccountUuid].sort());
    expect(body.meta).toEqual({ "total-count": 2 });
    const page = "page%5Bnumber%5D=1&page%5Bsize%5D=50";
    expect(body.links).toEqual({
      first: `${CUSTOMER}/accounts?${page}`,
      last: `${CUSTOMER}/accounts?${page}`,
    });
  });

  it("an API access limited to some accounts sees only those", async () => {
    const limited = await tenant({ restrictToFirstAccount: true });
    const { body } = await get(limited.auth, "/accounts");
    expect(body.data.map((a: { id: string }) => a.id)).toEqual([limited.accountUuid]);
    const other = await get(limited.auth, `/accounts/${limited.otherAccountUuid}`);
    expect(other.res.status).toBe(404);
  });

  it("a sub: D token sees its cfg.account_ids", async () => {
    const jwt = await token({
      sub: "D",
      aud: ["customer-v1"],
      cfg: { customer_id: Number(t.customer.id), account_ids: [t.otherAccountId] },
    });
    const { res, body } = await get(`Bearer ${jwt}`, "/accounts");
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.map((a: { id: string }) => a.id)).toEqual([t.otherAccountUuid]);
  });

  const ids: Array<[string, (x: Tenant, s: Tenant) => string, number, ErrorObject[] | null]> = [
    ["an upper-case uuid", (x) => x.accountUuid.toUpperCase(), 200, null],
    ["another customer's account", (_x, s) => s.accountUuid, 404, null],
    [
      "a malformed id",
      () => "42",
      400,
      [bad("Invalid field value", "42 is not a valid value for id.", "103")],
    ],
  ];
  it.each(ids)("GET /accounts/{%s}", async (_name, id, status, errors) => {
    const given = id(t, stranger);
    const { res, body } = await get(t.auth, `/accounts/${given}`);
    expect(res.status).toBe(status);
    if (status === 404) {
      expect(body.errors).toEqual([
        {
          status: "404",
          code: "404",
          title: "Record not found",
          detail: `The record identified by ${given} could not be found.`,
        },
      ]);
    }
    if (errors) expect(body.errors).toEqual(errors);
  });

  const queries: Array<[string, (x: Tenant) => string[]]> = [
    ["filter[balance_gt]=0", (x) => [x.accountUuid]],
    ["filter[balance_lt]=0", (x) => [x.otherAccountUuid]],
    ["filter[balance-eq]=1000.0", (x) => [x.accountUuid]],
    ["filter[total_capacity_not_eq]=30", () => []],
    ["filter[total_capacity_in]=30,40", (x) => [x.accountUuid]],
    ["filter[uuid_eq]=UPPER", (x) => [x.otherAccountUuid]],
    ["filter[name_cont]=ACCOUNT", (x) => [x.accountUuid, x.otherAccountUuid].sort()],
    ["sort=balance", (x) => [x.otherAccountUuid, x.accountUuid]],
    ["sort=-balance", (x) => [x.accountUuid, x.otherAccountUuid]],
    ["sort=-total_capacity", (x) => [x.otherAccountUuid, x.accountUuid]],
    ["sort=total-capacity", (x) => [x.accountUuid, x.otherAccountUuid]],
    ["sort=-id", (x) => [x.accountUuid, x.otherAccountUuid].sort().reverse()],
    ["page[size]=1&sort=balance", (x) => [x.otherAccountUuid]],
    ["page[size]=1&page[number]=2&sort=balance", (x) => [x.accountUuid]],
  ];
  it.each(queries)("GET /accounts?%s", async (query, expected) => {
    const q = query.replace("UPPER", t.otherAccountUuid.toUpperCase());
    const { res, body } = await get(t.auth, `/accounts?${q}`);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.map((a: { id: string }) => a.id)).toEqual(expected(t));
  });

  it("fields[accounts]=name,balance: only those attributes", async () => {
    const { body } = await get(t.auth, `/accounts/${t.accountUuid}?fields[accounts]=name,balance`);
    expect(body.data.attributes).toEqual({ name: t.account.attributes.name, balance: "1000.0" });
  });

  const errors: Array<[string, ErrorObject]> = [
    ["filter[currency_eq]=EUR", bad("Filter not allowed", "currency_eq is not allowed.", "102")],
    [
      "filter[balance_eq]=1,2",
      bad("Invalid filter value", "1,2 is not a valid value for balance_eq.", "107"),
    ],
    [
      "sort=contractor",
      bad("Invalid sort criteria", "contractor is not a valid sort criteria for accounts", "114"),
    ],
    ["fields[accounts]=uuid", bad("Invalid field", "uuid is not a valid field for accounts.", "104")],
    ["include=contractor", bad("Invalid field", "contractor is not a valid relationship of accounts", "112")],
    ["page[size]=5000", bad("Invalid page value", "size exceeds maximum page size of 1000.", "118")],
  ];
  it.each(errors)("GET /accounts?%s: 400", async (query, error) => {
    const { res, body } = await get(t.auth, `/accounts?${query}`);
    expect(res.status).toBe(400);
    expect(body.errors).toEqual([error]);
  });

  it("without a token: 401", async () => {
    const res = await customer("", "GET", "/accounts");
    expect(res.status).toBe(401);
  });
});

async function fetchSelf(auth: string, url: string) {
  const res = await customer(auth, "GET", url.slice(CUSTOMER.length));
  return res.json();
}
