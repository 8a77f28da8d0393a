// Operator API POST /customer-tokens: minting `sub: "D"` tokens, their scope on the customer routes, bad input.
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  ADMIN,
  ADMIN_TOKEN,
  admin,
  call,
  createAccount,
  createBody,
  createContractor,
  customer,
  JSON_API,
  JWT_SECRET,
  json,
  seedExport,
  tenant,
} from "./helpers/api";
import { fetchWithVars } from "./helpers/login";

type TokenDocument = {
  data: {
    id: string;
    type: string;
    links: { self: string };
    attributes: { token: string; "expires-at": string | null };
  };
};

function mintBody(
  customerId: string | number,
  options: { accounts?: Array<string | number>; allowedIps?: unknown } = {},
) {
  return {
    data: {
      type: "customer-tokens",
      ...(options.allowedIps !== undefined ? { attributes: { "allowed-ips": options.allowedIps } } : {}),
      relationships: {
        customer: { data: { type: "contractors", id: String(customerId) } },
        ...(options.accounts
          ? { accounts: { data: options.accounts.map((id) => ({ type: "accounts", id: String(id) })) } }
          : {}),
      },
    },
  };
}

async function mint(body: unknown): Promise<TokenDocument> {
  const res = await admin("POST", "/customer-tokens", body);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  return JSON.parse(text) as TokenDocument;
}

describe("POST /api/rest/admin/customer-tokens", () => {
  it("answers Yeti's document: id = the customer, token and expires-at (null without a lifetime)", async () => {
    const t = await tenant();
    const doc = await mint(mintBody(t.customer.id));
    expect(doc).toEqual({
      data: {
        id: t.customer.id,
        type: "customer-tokens",
        links: { self: `${ADMIN}/customer-tokens/${t.customer.id}` },
        attributes: { token: expect.any(String), "expires-at": null },
      },
    });
    const jwt = doc.data.attributes.token;
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "HS256" });
    const { payload } = await jwtVerify(jwt, new TextEncoder().encode(JWT_SECRET), {
      algorithms: ["HS256"],
      audience: "customer-v1",
    });
    expect(payload).toMatchObject({
      sub: "D",
      aud: ["customer-v1"],
      cfg: { customer_id: Number(t.customer.id), account_ids: [], allowed_ips: ["0.0.0.0/0", "::/0"] },
    });
    expect(payload.exp).toBeUndefined();
  });

  it("sets exp and expires-at from CUSTOMER_V1_TOKEN_LIFETIME", async () => {
    const t = await tenant();
    const before = Math.floor(Date.now() / 1000);
    const res = await fetchWithVars(
      new Request(`${ADMIN}/customer-tokens`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": JSON_API },
        body: JSON.stringify(mintBody(t.customer.id)),
      }),
      { CUSTOMER_V1_TOKEN_LIFETIME: "600" },
    );
    expect(res.status).toBe(201);
    const doc = await json<TokenDocument>(res);
    const exp = decodeJwt(doc.data.attributes.token).exp ?? 0;
    expect(exp).toBeGreaterThanOrEqual(before + 600);
    expect(exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 601);
    expect(doc.data.attributes["expires-at"]).toBe(new Date(exp * 1000).toISOString());
  });

  it("the minted token works on the customer routes and sees every account of the customer", async () => {
    const t = await tenant();
    const mine = await seedExport(t.accountId);
    const other = await seedExport(t.otherAccountId);
    const jwt = (await mint(mintBody(t.customer.id))).data.attributes.token;
    const res = await customer(`Bearer ${jwt}`, "GET", "/cdr-exports");
    expect(res.status, await res.clone().text()).toBe(200);
    const ids = (await json<{ data: Array<{ id: string }> }>(res)).data.map((d) => d.id).sort();
    expect(ids).toEqual([mine.uuid, other.uuid].sort());
  });

  it("is scoped to the accounts given: list, show and create", async () => {
    const t = await tenant();
    const mine = await seedExport(t.accountId);
    const other = await seedExport(t.otherAccountId);
    const jwt = (await mint(mintBody(t.customer.id, { accounts: [t.accountId, t.accountId] }))).data
      .attributes.token;
    expect(decodeJwt(jwt).cfg).toMatchObject({ account_ids: [t.accountId] });
    const auth = `Bearer ${jwt}`;
    const listed = await json<{ data: Array<{ id: string }> }>(await customer(auth, "GET", "/cdr-exports"));
    expect(listed.data.map((d) => d.id)).toEqual([mine.uuid]);
    expect((await customer(auth, "GET", `/cdr-exports/${other.uuid}`)).status).toBe(404);
    expect((await customer(auth, "POST", "/cdr-exports", createBody(t.accountUuid))).status).toBe(201);
    const refused = await customer(auth, "POST", "/cdr-exports", createBody(t.otherAccountUuid));
    expect(refused.status).toBe(422);
  });

  it("is limited to allowed-ips (canonicalized)", async () => {
    const t = await tenant();
    const jwt = (await mint(mintBody(t.customer.id, { allowedIps: ["192.0.2.7", "2001:DB8::/32"] }))).data
      .attributes.token;
    expect(decodeJwt(jwt).cfg).toMatchObject({ allowed_ips: ["192.0.2.7/32", "2001:db8::/32"] });
    const from = (ip: string) =>
      customer(`Bearer ${jwt}`, "GET", "/cdr-exports", undefined, { "CF-Connecting-IP": ip });
    expect((await from("192.0.2.7")).status).toBe(200);
    expect((await from("2001:db8::1")).status).toBe(200);
    expect((await from("192.0.2.8")).status).toBe(401);
  });

  it("stops working when the customer's tokens are revoked", async () => {
    const t = await tenant();
    const jwt = (await mint(mintBody(t.customer.id))).data.attributes.token;
    expect((await customer(`Bearer ${jwt}`, "GET", "/cdr-exports")).status).toBe(200);
    expect((await admin("POST", `/contractors/${t.customer.id}/revoke-tokens`)).status).toBe(200);
    expect((await customer(`Bearer ${jwt}`, "GET", "/cdr-exports")).status).toBe(401);
    const fresh = (await mint(mintBody(t.customer.id))).data.attributes.token;
    expect((await customer(`Bearer ${fresh}`, "GET", "/cdr-exports")).status).toBe(200);
  });

  it("bad input: 4xx JSON:API errors", async () => {
    const t = await tenant();
    const vendor = await createContractor({ customer: false, vendor: true });
    const stranger = await createContractor();
    const foreign = await createAccount(stranger.id);
    const customerPointer = "/data/relationships/customer";
    const cases: Array<[string, unknown, number, unknown[]]> = [
      [
        "no customer",
        { data: { type: "customer-tokens", relationships: {} } },
        422,
        [
          {
            status: "422",
            title: "can't be blank",
            detail: "customer - can't be blank",
            source: { pointer: customerPointer },
          },
        ],
      ],
      [
        "an unknown customer",
        mintBody(987654321),
        422,
        [
          {
            status: "422",
            title: "can't be blank",
            detail: "customer - can't be blank",
            source: { pointer: customerPointer },
          },
        ],
      ],
      [
        "a contractor that is no customer",
        mintBody(vendor.id),
        422,
        [
          {
            status: "422",
            title: "is invalid",
            detail: "customer - is invalid",
            source: { pointer: customerPointer },
          },
        ],
      ],
      [
        "another customer's account",
        mintBody(t.customer.id, { accounts: [t.accountId, foreign.id] }),
        422,
        [
          {
            status: "422",
            title: "Account should be connected with selected Customer",
            detail: "account-ids - Account should be connected with selected Customer",
            source: { pointer: "/data/attributes/account-ids" },
          },
        ],
      ],
      [
        "an unknown account",
        mintBody(t.customer.id, { accounts: [987654321] }),
        422,
        [
          {
            status: "422",
            title: "Account should be connected with selected Customer",
            detail: "account-ids - Account should be connected with selected Customer",
            source: { pointer: "/data/attributes/account-ids" },
          },
        ],
      ],
      [
        "a malformed accounts linkage",
        mintBody(t.customer.id, { accounts: ["x"] }),
        422,
        [
          {
            status: "422",
            title: "is invalid",
            detail: "accounts - is invalid",
            source: { pointer: "/data/relationships/accounts" },
          },
        ],
      ],
      [
        "a bad allowed IP",
        mintBody(t.customer.id, { allowedIps: ["10.0.0.0/8", "not-an-ip"] }),
        422,
        [
          {
            status: "422",
            title: "Allowed IP is not valid",
            detail: "allowed-ips - Allowed IP is not valid",
            source: { pointer: "/data/attributes/allowed-ips/1" },
          },
        ],
      ],
      [
        "allowed-ips not an array",
        mintBody(t.customer.id, { allowedIps: "10.0.0.0/8" }),
        422,
        [
          {
            status: "422",
            title: "Allowed IP is not valid",
            detail: "allowed-ips - Allowed IP is not valid",
            source: { pointer: "/data/attributes/allowed-ips" },
          },
        ],
      ],
      [
        "an attribute the resource does not take",
        { data: { ...mintBody(t.customer.id).data, attributes: { token: "mine" } } },
        400,
        [
          {
            status: "400",
            title: "Param not allowed",
            detail: "token is not allowed.",
            source: { pointer: "/data/attributes/token" },
          },
        ],
      ],
      [
        "another type",
        { data: { ...mintBody(t.customer.id).data, type: "api-accesses" } },
        400,
        [
          {
            status: "400",
            title: "Invalid resource",
            detail: "api-accesses is not a valid resource.",
            source: { pointer: "/data/type" },
          },
        ],
      ],
    ];
    for (const [name, body, status, errors] of cases) {
      const res = await admin("POST", "/customer-tokens", body);
      expect(res.status, name).toBe(status);
      expect(await res.json(), name).toEqual({ errors });
    }
  });

  it("needs the operator token", async () => {
    const t = await tenant();
    const res = await call(`${ADMIN}/customer-tokens`, {
      method: "POST",
      headers: { "Content-Type": JSON_API },
      body: JSON.stringify(mintBody(t.customer.id)),
    });
    expect(res.status).toBe(401);
  });
});
