// The operator (admin) API: auth, JSON:API shapes, CRUD and validation of contractors, accounts, api-accesses.

import { env } from "cloudflare:workers";
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { adminRaw, dataOf, errorsOf, type Resource, toOne } from "./helpers/admin";
import {
  ADMIN,
  admin,
  createAccount,
  createApiAccess,
  createContractor,
  customer,
  JSON_API,
  json,
  tenant,
  token,
  unique,
} from "./helpers/api";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PASSWORD = "correct horse battery";

type ListDoc = { data: Resource[]; meta: { "total-count": number }; links: Record<string, string> };

async function count(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return row?.n ?? 0;
}

function contractorBody(attributes: Record<string, unknown>) {
  return { data: { type: "contractors", attributes } };
}

function accountBody(attributes: Record<string, unknown>, contractorId?: string) {
  return {
    data: {
      type: "accounts",
      attributes,
      ...(contractorId ? { relationships: { contractor: toOne("contractors", contractorId) } } : {}),
    },
  };
}

function accessBody(attributes: Record<string, unknown>, customerId?: string) {
  return {
    data: {
      type: "api-accesses",
      attributes: { login: unique("login"), password: PASSWORD, ...attributes },
      ...(customerId ? { relationships: { customer: toOne("contractors", customerId) } } : {}),
    },
  };
}

describe("operator auth", () => {
  it("rejects a missing Authorization header with a JSON:API 401", async () => {
    const res = await adminRaw("GET", "/contractors", undefined, {});
    const [error] = await errorsOf(res, 401);
    expect(res.headers.get("Content-Type")).toBe(JSON_API);
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="admin"');
    expect(error?.title).toBe("Unauthorized");
  });

  it("rejects a wrong token, a prefix of a token, and the whole comma-separated list", async () => {
    for (const value of [
      "Bearer nope",
      "Bearer test-admin-token-ol",
      "Bearer test-admin-token-old,test-admin-token",
      "Bearer ",
      "test-admin-token",
    ]) {
      await errorsOf(await adminRaw("GET", "/contractors", undefined, { Authorization: value }), 401);
    }
  });

  it("accepts both rotated tokens", async () => {
    for (const t of ["test-admin-token-old", "test-admin-token"]) {
      const res = await adminRaw("GET", "/contractors", undefined, { Authorization: `Bearer ${t}` });
      expect(res.status, t).toBe(200);
    }
  });

  it("rejects the Basic scheme even with a valid token as credentials", async () => {
    for (const credentials of [btoa("admin:test-admin-token"), "test-admin-token"]) {
      const res = await adminRaw("GET", "/contractors", undefined, { Authorization: `Basic ${credentials}` });
      await errorsOf(res, 401);
    }
  });

  it("checks auth before reading the body: nothing is written without a token", async () => {
    const before = await count("contractors");
    const res = await adminRaw(
      "POST",
      "/contractors",
      JSON.stringify(contractorBody({ name: unique("x") })),
      {
        "Content-Type": JSON_API,
      },
    );
    await errorsOf(res, 401);
    expect(await count("contractors")).toBe(before);
  });
});

describe("contractors", () => {
  it("creates, shows, lists, updates and deletes with exact shapes", async () => {
    const name = unique("acme");
    const res = await admin("POST", "/contractors", contractorBody({ name, customer: true }));
    expect(res.headers.get("Content-Type")).toBe(JSON_API);
    const created = await dataOf(res, 201);
    expect(created.id).toMatch(/^\d+$/);
    expect(created).toEqual({
      id: created.id,
      type: "contractors",
      links: { self: `${ADMIN}/contractors/${created.id}` },
      attributes: {
        name,
        customer: true,
        vendor: false,
        "tokens-revoked-at": null,
        "created-at": expect.stringMatching(ISO),
        "updated-at": expect.stringMatching(ISO),
      },
    });

    const shown = await dataOf(await admin("GET", `/contractors/${created.id}`));
    expect(shown).toEqual(created);

    const list = await json<ListDoc>(await admin("GET", "/contractors?page[size]=1000"));
    expect(list.data.find((r) => r.id === created.id)).toEqual(created);

    // PATCH is partial: only vendor changes.
    const patched = await dataOf(
      await admin("PATCH", `/contractors/${created.id}`, {
        data: { type: "contractors", id: created.id, attributes: { vendor: true } },
      }),
    );
    expect(patched.attributes).toMatchObject({ name, customer: true, vendor: true });
    expect(patched.attributes["created-at"]).toBe(created.attributes["created-at"]);

    const del = await admin("DELETE", `/contractors/${created.id}`);
    expect(del.status).toBe(204);
    expect(await del.text()).toBe("");
    const [gone] = await errorsOf(await admin("GET", `/contractors/${created.id}`), 404);
    expect(gone?.title).toBe("Record not found");
    await errorsOf(await admin("DELETE", `/contractors/${created.id}`), 404);
    await errorsOf(
      await admin("PATCH", `/contractors/${created.id}`, contractorBody({ vendor: false })),
      404,
    );
  });

  it("404s ids that cannot name a record", async () => {
    for (const id of ["abc", "-1", "1.5", "99999999999", "1e3"]) {
      await errorsOf(await admin("GET", `/contractors/${id}`), 404);
    }
  });

  it("refuses a duplicate name with 422 on /data/attributes/name, on create and on update", async () => {
    const first = await createContractor();
    const before = await count("contractors");
    const [error] = await errorsOf(
      await admin("POST", "/contractors", contractorBody({ name: first.attributes.name })),
      422,
    );
    expect(error).toEqual({
      status: "422",
      title: "has already been taken",
      detail: "name - has already been taken",
      source: { pointer: "/data/attributes/name" },
    });
    expect(await count("contractors")).toBe(before);

    const second = await createContractor();
    const [patchError] = await errorsOf(
      await admin("PATCH", `/contractors/${second.id}`, contractorBody({ name: first.attributes.name })),
      422,
    );
    expect(patchError?.source?.pointer).toBe("/data/attributes/name");
  });

  it("requires a name: missing, blank, null and non-string are 422 with pointers", async () => {
    for (const [attributes, message] of [
      [{}, "can't be blank"],
      [{ name: "   " }, "can't be blank"],
      [{ name: null }, "can't be blank"],
      [{ name: 42 }, "must be a string"],
    ] as const) {
      const [error] = await errorsOf(await admin("POST", "/contractors", contractorBody(attributes)), 422);
      expect(error, JSON.stringify(attributes)).toEqual({
        status: "422",
        title: message,
        detail: `name - ${message}`,
        source: { pointer: "/data/attributes/name" },
      });
    }
  });

  it("reports every wrong-typed attribute with its own pointer", async () => {
    const errors = await errorsOf(
      await admin("POST", "/contractors", contractorBody({ name: unique("x"), customer: "yes", vendor: 1 })),
      422,
    );
    expect(errors.map((e) => [e.source?.pointer, e.detail])).toEqual([
      ["/data/attributes/customer", "customer - must be true or false"],
      ["/data/attributes/vendor", "vendor - must be true or false"],
    ]);
  });

  it("keeps the customer flag while the contractor has API accesses", async () => {
    const owner = await createContractor();
    const access = await createApiAccess(owner.id);
    const [error] = await errorsOf(
      await admin("PATCH", `/contractors/${owner.id}`, contractorBody({ customer: false })),
      422,
    );
    expect(error?.source?.pointer).toBe("/data/attributes/customer");
    expect((await dataOf(await admin("GET", `/contractors/${owner.id}`))).attributes.customer).toBe(true);
    expect((await admin("DELETE", `/api-accesses/${access.id}`)).status).toBe(204);
    const patched = await dataOf(
      await admin("PATCH", `/contractors/${owner.id}`, contractorBody({ customer: false })),
    );
    expect(patched.attributes.customer).toBe(false);
  });

  it("refuses to delete a contractor with accounts or API accesses (4xx, the record stays)", async () => {
    const withAccount = await createContractor();
    await createAccount(withAccount.id);
    const res = await admin("DELETE", `/contractors/${withAccount.id}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const [error] = await errorsOf(res, res.status);
    expect(error?.detail).toMatch(/delete them first/);
    expect((await admin("GET", `/contractors/${withAccount.id}`)).status).toBe(200);

    const withAccess = await createContractor();
    await createApiAccess(withAccess.id);
    const res2 = await admin("DELETE", `/contractors/${withAccess.id}`);
    expect(res2.status).toBe(res.status);
    expect((await admin("GET", `/contractors/${withAccess.id}`)).status).toBe(200);
  });
});

describe("request documents", () => {
  it("400s malformed JSON and non-object bodies, writing nothing", async () => {
    const before = await count("contractors");
    for (const body of ["{", '{"data": ', "", "null", "[]", '"text"', "42"]) {
      const [error] = await errorsOf(await adminRaw("POST", "/contractors", body), 400);
      expect(error?.detail, body).toMatch(/not valid JSON|must be a JSON object/);
      expect(error?.source?.pointer).toBe("");
    }
    expect(await count("contractors")).toBe(before);
  });

  it("400s a missing data, a missing or wrong data.type, and non-object attributes", async () => {
    const cases: [unknown, string, string][] = [
      [{}, "/data", "The required parameter, data, is missing."],
      [{ data: [] }, "/data", "The required parameter, data, is missing."],
      [{ data: { attributes: { name: "x" } } }, "/data/type", "The required parameter, type, is missing."],
      [
        { data: { type: "accounts", attributes: { name: "x" } } },
        "/data/type",
        "accounts is not a valid resource.",
      ],
      [
        { data: { type: "contractors", attributes: [] } },
        "/data/attributes",
        "attributes must be an object.",
      ],
      [
        { data: { type: "contractors", attributes: { name: "x" }, relationships: 1 } },
        "/data/relationships",
        "relationships must be an object.",
      ],
    ];
    for (const [body, pointer, detail] of cases) {
      const [error] = await errorsOf(await admin("POST", "/contractors", body), 400);
      expect(error?.source?.pointer, JSON.stringify(body)).toBe(pointer);
      expect(error?.detail).toBe(detail);
    }
  });

  it("400s unknown attributes and relationships as Param not allowed", async () => {
    const before = await count("contractors");
    const errors = await errorsOf(
      await admin("POST", "/contractors", {
        data: {
          type: "contractors",
          attributes: { name: unique("x"), id: 5, "created-at": "2020-01-01", colour: "red" },
          relationships: { accounts: { data: [] } },
        },
      }),
      400,
    );
    expect(errors).toEqual([
      {
        status: "400",
        title: "Param not allowed",
        detail: "id is not allowed.",
        source: { pointer: "/data/attributes/id" },
      },
      {
        status: "400",
        title: "Param not allowed",
        detail: "created-at is not allowed.",
        source: { pointer: "/data/attributes/created-at" },
      },
      {
        status: "400",
        title: "Param not allowed",
        detail: "colour is not allowed.",
        source: { pointer: "/data/attributes/colour" },
      },
      {
        status: "400",
        title: "Param not allowed",
        detail: "accounts is not allowed.",
        source: { pointer: "/data/relationships/accounts" },
      },
    ]);
    expect(await count("contractors")).toBe(before);
  });

  it("415s a body without a JSON media type", async () => {
    const res = await adminRaw(
      "POST",
      "/contractors",
      JSON.stringify(contractorBody({ name: unique("x") })),
      {
        Authorization: "Bearer test-admin-token",
        "Content-Type": "text/plain",
      },
    );
    await errorsOf(res, 415);
  });

  it("gives a JSON:API 404 for unknown admin routes", async () => {
    await errorsOf(await admin("GET", "/nothing-here"), 404);
  });
});

describe("accounts", () => {
  it("creates with defaults and a generated uuid, shows, lists, updates and deletes", async () => {
    const owner = await createContractor();
    const name = unique("acc");
    const created = await dataOf(await admin("POST", "/accounts", accountBody({ name }, owner.id)), 201);
    expect(created).toEqual({
      id: expect.stringMatching(/^\d+$/),
      type: "accounts",
      links: { self: `${ADMIN}/accounts/${created.id}` },
      attributes: {
        name,
        uuid: expect.stringMatching(UUID),
        balance: "0.0",
        "min-balance": "0.0",
        "max-balance": "0.0",
        "destination-rate-limit": null,
        "origination-capacity": null,
        "termination-capacity": null,
        "total-capacity": null,
        currency: "USD",
        "created-at": expect.stringMatching(ISO),
        "updated-at": expect.stringMatching(ISO),
      },
      relationships: { contractor: { data: { type: "contractors", id: owner.id } } },
    });
    expect(await dataOf(await admin("GET", `/accounts/${created.id}`))).toEqual(created);

    const patched = await dataOf(
      await admin("PATCH", `/accounts/${created.id}`, {
        data: {
          type: "accounts",
          id: created.id,
          attributes: { balance: "12.3400", "origination-capacity": 10, "destination-rate-limit": "0.0100" },
        },
      }),
    );
    expect(patched.attributes).toMatchObject({
      name,
      uuid: created.attributes.uuid,
      balance: "12.3400",
      "min-balance": "0.0",
      "origination-capacity": 10,
      "destination-rate-limit": "0.0100",
      currency: "USD",
    });

    // Null clears a nullable attribute.
    const cleared = await dataOf(
      await admin("PATCH", `/accounts/${created.id}`, accountBody({ "origination-capacity": null })),
    );
    expect(cleared.attributes["origination-capacity"]).toBeNull();
    expect(cleared.attributes.balance).toBe("12.3400");

    expect((await admin("DELETE", `/accounts/${created.id}`)).status).toBe(204);
    await errorsOf(await admin("GET", `/accounts/${created.id}`), 404);
  });

  it("refuses to delete an account with exports (4xx, the account stays)", async () => {
    const owner = await createContractor();
    const account = await createAccount(owner.id);
    await env.DB.prepare(
      "INSERT INTO cdr_exports (uuid, filters, fields, customer_account_id, created_at, updated_at) VALUES (?, '{}', '[]', ?, 0, 0)",
    )
      .bind(crypto.randomUUID(), Number(account.id))
      .run();
    const [error] = await errorsOf(await admin("DELETE", `/accounts/${account.id}`), 422);
    expect(error?.detail).toBe("account - has exports; it cannot be deleted");
    expect((await admin("GET", `/accounts/${account.id}`)).status).toBe(200);
  });

  it("keeps every given attribute as written", async () => {
    const owner = await createContractor({ customer: false, vendor: true });
    const uuid = crypto.randomUUID();
    const attributes = {
      name: unique("acc"),
      uuid,
      balance: "-5.25",
      "min-balance": "-100",
      "max-balance": 1000.5,
      "destination-rate-limit": "0.0000001",
      "origination-capacity": 1,
      "termination-capacity": 2,
      "total-capacity": 3,
      currency: "EUR",
    };
    const created = await dataOf(await admin("POST", "/accounts", accountBody(attributes, owner.id)), 201);
    expect(created.attributes).toMatchObject({ ...attributes, "max-balance": "1000.5" });
  });

  it("writes numbers given for decimals as plain decimals, never in exponent notation", async () => {
    const owner = await createContractor();
    const created = await dataOf(
      await admin(
        "POST",
        "/accounts",
        accountBody(
          { name: unique("acc"), balance: 1e-7, "min-balance": -1.5e-10, "max-balance": 1e19 },
          owner.id,
        ),
      ),
      201,
    );
    expect(created.attributes.balance).toBe("0.0000001");
    expect(created.attributes["min-balance"]).toBe("-0.00000000015");
    expect(created.attributes["max-balance"]).toBe("10000000000000000000");
  });

  it("422s decimals that do not fit 20.20 digits", async () => {
    const owner = await createContractor();
    for (const balance of [1e21, 1e-25, "1e5", "1.", ".5", " 1", "123456789012345678901"]) {
      const [error] = await errorsOf(
        await admin("POST", "/accounts", accountBody({ name: unique("acc"), balance }, owner.id)),
        422,
      );
      expect(error?.detail, String(balance)).toBe("balance - is not a number");
    }
  });

  it("stores a given uuid in lowercase so customers find the account", async () => {
    const owner = await createContractor();
    const uuid = crypto.randomUUID();
    const created = await dataOf(
      await admin(
        "POST",
        "/accounts",
        accountBody({ name: unique("acc"), uuid: uuid.toUpperCase() }, owner.id),
      ),
      201,
    );
    expect(created.attributes.uuid).toBe(uuid);
  });

  it("refuses a duplicate name or uuid with the matching pointer", async () => {
    const owner = await createContractor();
    const first = await createAccount(owner.id);
    const [byName] = await errorsOf(
      await admin("POST", "/accounts", accountBody({ name: first.attributes.name }, owner.id)),
      422,
    );
    expect(byName?.source?.pointer).toBe("/data/attributes/name");
    const [byUuid] = await errorsOf(
      await admin(
        "POST",
        "/accounts",
        accountBody({ name: unique("acc"), uuid: first.attributes.uuid }, owner.id),
      ),
      422,
    );
    expect(byUuid).toEqual({
      status: "422",
      title: "has already been taken",
      detail: "uuid - has already been taken",
      source: { pointer: "/data/attributes/uuid" },
    });
  });

  it("422s a missing contractor relationship as can't be blank, writing nothing", async () => {
    const before = await count("accounts");
    for (const relationships of [undefined, {}, { contractor: { data: null } }]) {
      const [error] = await errorsOf(
        await admin("POST", "/accounts", {
          data: {
            type: "accounts",
            attributes: { name: unique("acc") },
            ...(relationships ? { relationships } : {}),
          },
        }),
        422,
      );
      expect(error).toEqual({
        status: "422",
        title: "can't be blank",
        detail: "contractor - can't be blank",
        source: { pointer: "/data/relationships/contractor" },
      });
    }
    expect(await count("accounts")).toBe(before);
  });

  it("422s a contractor relationship of the wrong type, a bad id or an unknown contractor", async () => {
    for (const data of [
      { type: "accounts", id: "1" },
      { type: "contractors", id: "abc" },
      { type: "contractors", id: "99999999" },
    ]) {
      const [error] = await errorsOf(
        await admin("POST", "/accounts", {
          data: {
            type: "accounts",
            attributes: { name: unique("acc") },
            relationships: { contractor: { data } },
          },
        }),
        422,
      );
      expect(error?.detail, JSON.stringify(data)).toBe("contractor - is invalid");
      expect(error?.source?.pointer).toBe("/data/relationships/contractor");
    }
  });

  it("422s wrong attribute types with pointers", async () => {
    const owner = await createContractor();
    const errors = await errorsOf(
      await admin(
        "POST",
        "/accounts",
        accountBody(
          {
            name: unique("acc"),
            uuid: "not-a-uuid",
            balance: "ten",
            "min-balance": true,
            "origination-capacity": "5",
            "termination-capacity": 1.5,
            "total-capacity": -1,
            currency: "usd",
          },
          owner.id,
        ),
      ),
      422,
    );
    expect(Object.fromEntries(errors.map((e) => [e.source?.pointer, e.detail]))).toEqual({
      "/data/attributes/uuid": "uuid - is invalid",
      "/data/attributes/balance": "balance - is not a number",
      "/data/attributes/min-balance": "min-balance - is not a number",
      "/data/attributes/origination-capacity": "origination-capacity - must be an integer",
      "/data/attributes/termination-capacity": "termination-capacity - must be an integer",
      "/data/attributes/total-capacity": expect.stringMatching(/^total-capacity - /),
      "/data/attributes/currency": "currency - is invalid",
    });
  });

  it("moves an account to another contractor by PATCHing the relationship", async () => {
    const a = await createContractor();
    const b = await createContractor();
    const account = await createAccount(a.id);
    const moved = await dataOf(
      await admin("PATCH", `/accounts/${account.id}`, {
        data: { type: "accounts", id: account.id, relationships: { contractor: toOne("contractors", b.id) } },
      }),
    );
    expect(moved.relationships?.contractor).toEqual({ data: { type: "contractors", id: b.id } });
    const [error] = await errorsOf(
      await admin("PATCH", `/accounts/${account.id}`, {
        data: { type: "accounts", relationships: { contractor: toOne("contractors", "99999999") } },
      }),
      422,
    );
    expect(error?.source?.pointer).toBe("/data/relationships/contractor");
  });
});

describe("api-accesses", () => {
  it("creates with defaults, never returning the password, then shows, lists, updates and deletes", async () => {
    const owner = await createContractor();
    const login = unique("login");
    const res = await admin("POST", "/api-accesses", accessBody({ login }, owner.id));
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toMatch(/password|pbkdf2|digest/i);
    const created = (JSON.parse(text) as { data: Resource }).data;
    expect(created).toEqual({
      id: expect.stringMatching(/^\d+$/),
      type: "api-accesses",
      links: { self: `${ADMIN}/api-accesses/${created.id}` },
      attributes: {
        login,
        "account-ids": [],
        "allowed-ips": ["0.0.0.0/0", "::/0"],
        "tokens-revoked-at": null,
        "created-at": expect.stringMatching(ISO),
        "updated-at": expect.stringMatching(ISO),
      },
      relationships: { customer: { data: { type: "contractors", id: owner.id } } },
    });

    const stored = await env.DB.prepare("SELECT password_hash FROM api_accesses WHERE id = ?")
      .bind(Number(created.id))
      .first<{ password_hash: string }>();
    expect(stored?.password_hash).toMatch(/^pbkdf2_sha256\$/);

    for (const path of [`/api-accesses/${created.id}`, "/api-accesses?page[size]=1000"]) {
      const body = await (await admin("GET", path)).text();
      expect(body).toContain(login);
      expect(body).not.toContain(PASSWORD);
      expect(body).not.toMatch(/password|pbkdf2/i);
    }
    expect(await dataOf(await admin("GET", `/api-accesses/${created.id}`))).toEqual(created);

    const account = await createAccount(owner.id);
    const patchRes = await admin("PATCH", `/api-accesses/${created.id}`, {
      data: {
        type: "api-accesses",
        id: created.id,
        attributes: { password: "another long password", "account-ids": [Number(account.id)] },
      },
    });
    const patchText = await patchRes.text();
    expect(patchRes.status, patchText).toBe(200);
    expect(patchText).not.toMatch(/password|another long/i);
    const patched = (JSON.parse(patchText) as { data: Resource }).data;
    expect(patched.attributes).toMatchObject({
      login,
      "account-ids": [Number(account.id)],
      "allowed-ips": ["0.0.0.0/0", "::/0"],
    });
    const rehashed = await env.DB.prepare("SELECT password_hash FROM api_accesses WHERE id = ?")
      .bind(Number(created.id))
      .first<{ password_hash: string }>();
    expect(rehashed?.password_hash).not.toBe(stored?.password_hash);

    expect((await admin("DELETE", `/api-accesses/${created.id}`)).status).toBe(204);
    await errorsOf(await admin("GET", `/api-accesses/${created.id}`), 404);
  });

  it("refuses a duplicate login with 422 on /data/attributes/login", async () => {
    const owner = await createContractor();
    const first = await createApiAccess(owner.id);
    const before = await count("api_accesses");
    const [error] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({ login: first.attributes.login }, owner.id)),
      422,
    );
    expect(error).toEqual({
      status: "422",
      title: "has already been taken",
      detail: "login - has already been taken",
      source: { pointer: "/data/attributes/login" },
    });
    expect(await count("api_accesses")).toBe(before);

    const second = await createApiAccess(owner.id);
    const [patchError] = await errorsOf(
      await admin("PATCH", `/api-accesses/${second.id}`, accessBody({ login: first.attributes.login })),
      422,
    );
    expect(patchError?.source?.pointer).toBe("/data/attributes/login");
  });

  it("422s account-ids of another customer, naming them", async () => {
    const owner = await createContractor();
    const other = await createContractor();
    const mine = await createAccount(owner.id);
    const theirs = await createAccount(other.id);
    const [error] = await errorsOf(
      await admin(
        "POST",
        "/api-accesses",
        accessBody({ "account-ids": [Number(mine.id), Number(theirs.id)] }, owner.id),
      ),
      422,
    );
    expect(error?.source?.pointer).toBe("/data/attributes/account-ids");
    expect(error?.detail).toBe(`account-ids - ${theirs.id} do not belong to the customer`);

    const access = await createApiAccess(owner.id, { "account-ids": [Number(mine.id)] });
    expect(access.attributes["account-ids"]).toEqual([Number(mine.id)]);
    const [patchError] = await errorsOf(
      await admin("PATCH", `/api-accesses/${access.id}`, accessBody({ "account-ids": [Number(theirs.id)] })),
      422,
    );
    expect(patchError?.source?.pointer).toBe("/data/attributes/account-ids");
  });

  it("422s (never 500s) a long list of unknown account ids", async () => {
    const owner = await createContractor();
    const ids = Array.from({ length: 150 }, (_, i) => 900_000_000 + i);
    const [error] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({ "account-ids": ids }, owner.id)),
      422,
    );
    expect(error?.source?.pointer).toBe("/data/attributes/account-ids");
  });

  it("422s account-ids that are not an array of integers, pointing at the element", async () => {
    const owner = await createContractor();
    const [notArray] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({ "account-ids": "1" }, owner.id)),
      422,
    );
    expect(notArray?.detail).toBe("account-ids - must be an array of account ids");
    const [element] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({ "account-ids": [1, "x"] }, owner.id)),
      422,
    );
    expect(element?.source?.pointer).toBe("/data/attributes/account-ids/1");
    expect(element?.detail).toBe("account-ids - must be an array of account ids");
  });

  it("422s an invalid CIDR with a pointer to the entry", async () => {
    const owner = await createContractor();
    const before = await count("api_accesses");
    for (const bad of ["10.0.0.0/33", "300.1.1.1", "2001:db8::/129", "fe80::1%eth0", "not-an-ip", ""]) {
      const [error] = await errorsOf(
        await admin("POST", "/api-accesses", accessBody({ "allowed-ips": ["10.0.0.0/8", bad] }, owner.id)),
        422,
      );
      expect(error?.source?.pointer, bad).toBe("/data/attributes/allowed-ips/1");
      expect(error?.detail).toBe(`allowed-ips - ${bad} is not a valid IP network`);
    }
    const [notArray] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({ "allowed-ips": "10.0.0.0/8" }, owner.id)),
      422,
    );
    expect(notArray?.detail).toBe("allowed-ips - must be an array of networks");
    expect(await count("api_accesses")).toBe(before);
  });

  it("accepts IPv4 and IPv6 networks and stores them normalised", async () => {
    const owner = await createContractor();
    const access = await createApiAccess(owner.id, {
      "allowed-ips": ["2001:DB8:0:0::1/32", "10.1.2.3/8", "192.168.0.7", "::1", " 2001:db8:0:0:0:0:2:1/128 "],
    });
    expect(access.attributes["allowed-ips"]).toEqual([
      "2001:db8::/32",
      "10.0.0.0/8",
      "192.168.0.7/32",
      "::1/128",
      "2001:db8::2:1/128",
    ]);
    // An empty list resets to every network.
    const reset = await dataOf(
      await admin("PATCH", `/api-accesses/${access.id}`, accessBody({ "allowed-ips": [] })),
    );
    expect(reset.attributes["allowed-ips"]).toEqual(["0.0.0.0/0", "::/0"]);
  });

  it("422s a missing customer relationship and a non-customer contractor", async () => {
    const vendor = await createContractor({ customer: false, vendor: true });
    const before = await count("api_accesses");
    const [blank] = await errorsOf(await admin("POST", "/api-accesses", accessBody({})), 422);
    expect(blank).toEqual({
      status: "422",
      title: "can't be blank",
      detail: "customer - can't be blank",
      source: { pointer: "/data/relationships/customer" },
    });
    const [notCustomer] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({}, vendor.id)),
      422,
    );
    expect(notCustomer).toEqual({
      status: "422",
      title: "is invalid",
      detail: "customer - is invalid",
      source: { pointer: "/data/relationships/customer" },
    });
    expect(await count("api_accesses")).toBe(before);

    const access = await createApiAccess((await createContractor()).id);
    const [patchError] = await errorsOf(
      await admin("PATCH", `/api-accesses/${access.id}`, {
        data: { type: "api-accesses", relationships: { customer: toOne("contractors", vendor.id) } },
      }),
      422,
    );
    expect(patchError?.source?.pointer).toBe("/data/relationships/customer");
  });

  it("422s wrong-typed attributes and a missing or short password", async () => {
    const owner = await createContractor();
    const errors = await errorsOf(
      await admin("POST", "/api-accesses", {
        data: {
          type: "api-accesses",
          attributes: { login: 7, password: 12345678 },
          relationships: { customer: toOne("contractors", owner.id) },
        },
      }),
      422,
    );
    expect(errors.map((e) => e.source?.pointer)).toEqual([
      "/data/attributes/login",
      "/data/attributes/password",
    ]);
    expect(errors[0]?.detail).toBe("login - must be a string");

    const [missing] = await errorsOf(
      await admin("POST", "/api-accesses", {
        data: {
          type: "api-accesses",
          attributes: { login: unique("login") },
          relationships: { customer: toOne("contractors", owner.id) },
        },
      }),
      422,
    );
    expect(missing?.detail).toBe("password - can't be blank");

    const [short] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({ password: "short" }, owner.id)),
      422,
    );
    expect(short?.source?.pointer).toBe("/data/attributes/password");
    expect(JSON.stringify(short)).not.toContain('"short"');
  });

  it("PATCH is partial: a login change keeps the password, accounts and networks", async () => {
    const owner = await createContractor();
    const account = await createAccount(owner.id);
    const access = await createApiAccess(owner.id, {
      "account-ids": [Number(account.id)],
      "allowed-ips": ["10.0.0.0/8"],
    });
    const before = await env.DB.prepare("SELECT password_hash FROM api_accesses WHERE id = ?")
      .bind(Number(access.id))
      .first<{ password_hash: string }>();
    const login = unique("renamed");
    const patched = await dataOf(
      await admin("PATCH", `/api-accesses/${access.id}`, {
        data: { type: "api-accesses", attributes: { login } },
      }),
    );
    expect(patched.attributes).toMatchObject({
      login,
      "account-ids": [Number(account.id)],
      "allowed-ips": ["10.0.0.0/8"],
    });
    const after = await env.DB.prepare("SELECT password_hash FROM api_accesses WHERE id = ?")
      .bind(Number(access.id))
      .first<{ password_hash: string }>();
    expect(after?.password_hash).toBe(before?.password_hash);
  });

  it("deleting an API access revokes its customer tokens at once", async () => {
    const t = await tenant();
    expect((await customer(t.auth, "GET", "/cdr-exports")).status).toBe(200);
    // A second token for the same access, minted independently, is revoked too.
    const other = `Bearer ${await token({ sub: String(t.access.id), aud: ["customer-v1"] })}`;
    expect((await customer(other, "GET", "/cdr-exports")).status).toBe(200);

    expect((await admin("DELETE", `/api-accesses/${t.access.id}`)).status).toBe(204);
    await errorsOf(await customer(t.auth, "GET", "/cdr-exports"), 401);
    await errorsOf(await customer(other, "GET", "/cdr-exports"), 401);
  });
});

describe("api-accesses password-digest import", () => {
  it("accepts a bcrypt digest and stores it as given; rejects an invalid digest with 422", async () => {
    const owner = await createContractor();
    const digest = bcrypt.hashSync("legacy password", 4);
    const res = await admin("POST", "/api-accesses", {
      data: {
        type: "api-accesses",
        attributes: { login: unique("legacy"), "password-digest": digest },
        relationships: { customer: toOne("contractors", owner.id) },
      },
    });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expect(text).not.toContain(digest);
    expect(text).not.toMatch(/password|digest|\$2[aby]\$/i);
    const id = Number((JSON.parse(text) as { data: Resource }).data.id);
    const stored = await env.DB.prepare("SELECT password_hash FROM api_accesses WHERE id = ?")
      .bind(id)
      .first<{ password_hash: string }>();
    expect(stored?.password_hash).toBe(digest);

    const before = await count("api_accesses");
    for (const bad of ["not-a-digest", "$2b$04$short", bcrypt.hashSync("x", 4).replace("$04$", "$03$"), 42]) {
      const [error] = await errorsOf(
        await admin("POST", "/api-accesses", {
          data: {
            type: "api-accesses",
            attributes: { login: unique("legacy"), "password-digest": bad },
            relationships: { customer: toOne("contractors", owner.id) },
          },
        }),
        422,
      );
      expect(error?.source?.pointer, String(bad)).toBe("/data/attributes/password-digest");
      expect(error?.detail).toMatch(/^password-digest - /);
    }
    const [both] = await errorsOf(
      await admin("POST", "/api-accesses", accessBody({ "password-digest": digest }, owner.id)),
      422,
    );
    expect(both?.source?.pointer).toBe("/data/attributes/password");
    expect(await count("api_accesses")).toBe(before);
  });
});

describe("api-accesses password-digest import: the bcrypt cost cap (10)", () => {
  it("accepts cost 10 and refuses a higher cost with a 422 that says so, on create and update", async () => {
    const owner = await createContractor();
    const cost4 = bcrypt.hashSync("legacy password", 4);
    const atCap = cost4.replace("$04$", "$10$");
    const created = await dataOf(
      await admin(
        "POST",
        "/api-accesses",
        accessBody({ password: undefined, "password-digest": atCap }, owner.id),
      ),
      201,
    );
    for (const cost of ["11", "12", "31"]) {
      const digest = cost4.replace("$04$", `$${cost}$`);
      for (const res of [
        await admin(
          "POST",
          "/api-accesses",
          accessBody({ password: undefined, "password-digest": digest }, owner.id),
        ),
        await admin("PATCH", `/api-accesses/${created.id}`, {
          data: { type: "api-accesses", id: created.id, attributes: { "password-digest": digest } },
        }),
      ]) {
        expect(await errorsOf(res, 422)).toEqual([
          {
            status: "422",
            title: `has bcrypt cost ${Number(cost)}; at most 10 is accepted (set a password instead)`,
            detail: `password-digest - has bcrypt cost ${Number(cost)}; at most 10 is accepted (set a password instead)`,
            source: { pointer: "/data/attributes/password-digest" },
          },
        ]);
      }
    }
    const stored = await env.DB.prepare("SELECT password_hash FROM api_accesses WHERE id = ?")
      .bind(Number(created.id))
      .first<{ password_hash: string }>();
    expect(stored?.password_hash).toBe(atCap);
  });
});

describe("paging", () => {
  it("a repeated page key reaches the paging rules (the first value counts), not a schema error", async () => {
    for (let i = 0; i < 2; i++) await createContractor();
    const res = await admin("GET", "/contractors?page[size]=1&page[size]=2");
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await json<ListDoc>(res)).data).toHaveLength(1);
  });

  it("pages lists with page[number]/page[size], meta.total-count and links", async () => {
    for (let i = 0; i < 3; i++) await createContractor();
    const first = await json<ListDoc>(await admin("GET", "/contractors?page[size]=2"));
    const total = first.meta["total-count"];
    expect(total).toBe(await count("contractors"));
    expect(total).toBeGreaterThanOrEqual(3);
    const last = Math.ceil(total / 2);
    const link = (n: number) => `${ADMIN}/contractors?page%5Bsize%5D=2&page%5Bnumber%5D=${n}`;
    expect(first.data).toHaveLength(2);
    expect(first.links).toEqual({ first: link(1), next: link(2), last: link(last) });

    const second = await json<ListDoc>(await admin("GET", "/contractors?page[number]=2&page[size]=2"));
    expect(second.data.length).toBeGreaterThanOrEqual(1);
    expect(second.links.prev).toBeDefined();
    expect(second.links.first).toBeDefined();
    expect(Number(second.data[0]?.id)).toBeGreaterThan(Number(first.data[1]?.id));

    // Page links follow themselves.
    const viaNext = await json<ListDoc>(
      await adminRaw("GET", (first.links.next as string).slice(ADMIN.length), undefined, {
        Authorization: "Bearer test-admin-token",
      }),
    );
    expect(viaNext.data.map((r) => r.id)).toEqual(second.data.map((r) => r.id));

    const lastPage = await json<ListDoc>(
      await admin("GET", `/contractors?page[number]=${last}&page[size]=2`),
    );
    expect(lastPage.links.next).toBeUndefined();
    expect(lastPage.data.length).toBe(total - (last - 1) * 2);

    const beyond = await json<ListDoc>(
      await admin("GET", `/contractors?page[number]=${last + 5}&page[size]=2`),
    );
    expect(beyond.data).toEqual([]);
  });

  it("pages accounts and api-accesses too", async () => {
    const owner = await createContractor();
    await createAccount(owner.id);
    await createApiAccess(owner.id);
    for (const [path, table] of [
      ["/accounts", "accounts"],
      ["/api-accesses", "api_accesses"],
    ] as const) {
      const doc = await json<ListDoc>(await admin("GET", `${path}?page[size]=1`));
      expect(doc.meta["total-count"]).toBe(await count(table));
      expect(doc.data).toHaveLength(1);
      expect(doc.links.first).toBe(`${ADMIN}${path}?page%5Bsize%5D=1&page%5Bnumber%5D=1`);
    }
  });

  it("400s invalid page parameters", async () => {
    for (const q of ["page[size]=0", "page[size]=1001", "page[number]=0", "page[number]=x"]) {
      const [error] = await errorsOf(await admin("GET", `/contractors?${q}`), 400);
      expect(error?.source?.parameter, q).toMatch(/^page\[(size|number)\]$/);
    }
  });
});
