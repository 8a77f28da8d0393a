// Customer API v1: POST /cdr-exports, the published example, Yeti's 422s and the request-frame 400/413/415s.
import { describe, expect, it } from "vitest";
import {
  CUSTOMER,
  call,
  createAccount,
  createBody,
  createContractor,
  customer,
  exportCount,
  JSON_API,
  json,
  SECURITY_HEADERS,
  type Tenant,
  tenant,
  waitForExport,
} from "./helpers/api";

type ErrorDoc = {
  errors: Array<{ status: string; title: string; detail?: string; source?: { pointer?: string } }>;
};

// biome-ignore lint/suspicious/noExplicitAny: response documents are checked field by field
type Doc = { data: Record<string, any> };

const RANGE = { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-02 00:00:00" };

function problem(key: string, message: string, pointer: string) {
  return { status: "422", code: "100", title: message, detail: `${key} - ${message}`, source: { pointer } };
}

const FILTERS = "/data/attributes/filters";
const ACCOUNT = "/data/relationships/account";

async function post(t: Tenant, body: unknown) {
  return customer(t.auth, "POST", "/cdr-exports", body);
}

/** Posts, expects 422, and checks that nothing was stored. */
async function rejected(t: Tenant, body: unknown) {
  const before = await exportCount(t.auth);
  const res = await post(t, body);
  const text = await res.clone().text();
  expect(res.status, text).toBe(422);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  expect(await exportCount(t.auth)).toBe(before);
  return ((await res.json()) as ErrorDoc).errors;
}

/** Sends a raw body with the headers given; expects `status` and an unchanged export count. */
async function refused(t: Tenant, status: number, body: BodyInit, headers: Record<string, string> = {}) {
  const before = await exportCount(t.auth);
  const res = await call(`${CUSTOMER}/cdr-exports`, {
    method: "POST",
    headers: { Authorization: t.auth, "Content-Type": JSON_API, ...headers },
    body,
  });
  const text = await res.clone().text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  expect(await exportCount(t.auth)).toBe(before);
  const errors = ((await res.json()) as ErrorDoc).errors;
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) expect(e.status).toBe(String(status));
  return errors;
}

describe("POST /cdr-exports: the published example", () => {
  it("answers the published example with a 201 of the same shape", async () => {
    const t = await tenant();
    const res = await post(t, {
      data: {
        type: "cdr-exports",
        attributes: {
          filters: {
            time_start_gteq: "2019-01-01 00:00:00",
            time_start_lt: "2019-01-02 00:00:00",
            success_eq: true,
            duration_eq: 60,
            duration_gteq: 0,
            duration_lteq: 100,
            src_prefix_routing_eq: "123",
            dst_prefix_routing_eq: "456",
          },
        },
        relationships: { account: { data: { type: "accounts", id: t.accountUuid } } },
      },
    });
    const text = await res.clone().text();
    expect(res.status, text).toBe(201);
    expect(res.headers.get("Content-Type")).toBe("application/vnd.api+json");
    const body = await json<Doc>(res);
    const id = body.data.id;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.data.type).toBe("cdr-exports");
    expect(body.data.links).toEqual({ self: `http://example.org/api/rest/customer/v1/cdr-exports/${id}` });
    expect(body.data.attributes.filters).toEqual({
      time_start_gteq: "2019-01-01T00:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
      success_eq: true,
      duration_eq: 60,
      duration_gteq: 0,
      duration_lteq: 100,
      src_prefix_routing_eq: "123",
      dst_prefix_routing_eq: "456",
    });
    // The echo is in the form's ALLOWED_FILTERS order (`as_json.slice(*ALLOWED_FILTERS)`), as the example shows.
    expect(Object.keys(body.data.attributes.filters)).toEqual([
      "time_start_gteq",
      "time_start_lt",
      "success_eq",
      "duration_eq",
      "duration_gteq",
      "duration_lteq",
      "src_prefix_routing_eq",
      "dst_prefix_routing_eq",
    ]);
    expect(body.data.attributes.status).toBe("Pending");
    expect(body.data.attributes["rows-count"]).toBeNull();
    expect(body.data.attributes["created-at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.data.attributes["updated-at"]).toBe(body.data.attributes["created-at"]);
    expect(Math.abs(Date.parse(body.data.attributes["created-at"]) - Date.now())).toBeLessThan(60_000);
    expect(body.data.attributes["time-format"]).toBe("with_timezone");
    expect(body.data.attributes["time-zone-name"]).toBeNull();
    expect(body.data.relationships.account).toEqual({
      links: {
        self: `http://example.org/api/rest/customer/v1/cdr-exports/${id}/relationships/account`,
        related: `http://example.org/api/rest/customer/v1/cdr-exports/${id}/account`,
      },
    });
  });

  it("sends the example's response headers: security headers, no-cache, Vary and a request id", async () => {
    const t = await tenant();
    const res = await post(t, createBody(t.accountUuid));
    expect(res.status).toBe(201);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
    expect(res.headers.get("Cache-Control")).toBe("max-age=0, private, must-revalidate");
    expect(res.headers.get("Vary")).toContain("Accept");
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("stores the export: show and list return it with the same attributes", async () => {
    const t = await tenant();
    const created = await json<Doc>(await post(t, createBody(t.accountUuid)));
    const shown = await customer(t.auth, "GET", `/cdr-exports/${created.data.id}`);
    expect(shown.status).toBe(200);
    const body = await json<Doc>(shown);
    expect(body.data.id).toBe(created.data.id);
    expect(body.data.attributes.filters).toEqual(created.data.attributes.filters);
    expect(body.data.attributes["created-at"]).toBe(created.data.attributes["created-at"]);
    expect(await exportCount(t.auth)).toBe(1);
  });

  it("sends a queue message: the background consumer takes the new export out of Pending", async () => {
    const t = await tenant();
    const created = await json<Doc>(await post(t, createBody(t.accountUuid)));
    const attributes = await waitForExport(t.auth, created.data.id, (a) => a.status !== "Pending");
    // No CDRs exist for a fresh account: the export completes with an empty file.
    expect(attributes.status).toBe("Completed");
    expect(attributes["rows-count"]).toBe(0);
  });
});

describe("POST /cdr-exports: attributes", () => {
  it.each(["with_timezone", "without_timezone", "round_to_seconds"])(
    "accepts time-format %s and echoes it",
    async (format) => {
      const t = await tenant();
      const res = await post(t, createBody(t.accountUuid, { "time-format": format }));
      expect(res.status).toBe(201);
      expect((await json<Doc>(res)).data.attributes["time-format"]).toBe(format);
    },
  );

  it.each(["Europe/Kyiv", "UTC", "Asia/Kolkata", "America/New_York"])(
    "accepts time-zone-name %s and echoes it",
    async (zone) => {
      const t = await tenant();
      const res = await post(t, createBody(t.accountUuid, { "time-zone-name": zone }));
      expect(res.status).toBe(201);
      expect((await json<Doc>(res)).data.attributes["time-zone-name"]).toBe(zone);
    },
  );

  it.each([
    ["", ""],
    [null, null],
  ])("keeps time-zone-name %j as %j (both UTC)", async (zone, echoed) => {
    const t = await tenant();
    const res = await post(t, createBody(t.accountUuid, { "time-zone-name": zone }));
    expect(res.status).toBe(201);
    expect((await json<Doc>(res)).data.attributes["time-zone-name"]).toBe(echoed);
  });

  it("normalises filter times to UTC with milliseconds, honouring a given offset", async () => {
    const t = await tenant();
    const res = await post(
      t,
      createBody(t.accountUuid, {
        filters: { time_start_gteq: "2019-01-01T00:00:00+02:00", time_start_lt: "2019-01-02" },
      }),
    );
    expect(res.status).toBe(201);
    expect((await json<Doc>(res)).data.attributes.filters).toEqual({
      time_start_gteq: "2018-12-31T22:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
    });
  });

  it("reads a time without a zone as UTC and keeps milliseconds", async () => {
    const t = await tenant();
    const res = await post(
      t,
      createBody(t.accountUuid, {
        filters: { time_start_gteq: "2019-01-01T10:20:30.456", time_start_lt: "2019-01-01T23:59:59Z" },
      }),
    );
    expect(res.status).toBe(201);
    expect((await json<Doc>(res)).data.attributes.filters).toEqual({
      time_start_gteq: "2019-01-01T10:20:30.456Z",
      time_start_lt: "2019-01-01T23:59:59.000Z",
    });
  });

  it("accepts an account of the API access's allowed list", async () => {
    const t = await tenant({ restrictToFirstAccount: true });
    const res = await post(t, createBody(t.accountUuid));
    expect(res.status).toBe(201);
  });
});

const ZONE = "/data/attributes/time-zone-name";
const FORMAT = "/data/attributes/time-format";
const NOT_INCLUDED = "is not included in the list: with_timezone, without_timezone, round_to_seconds";

describe("POST /cdr-exports: 422 validation errors (Yeti's messages, in Yeti's order)", () => {
  const cases: Array<[string, (t: Tenant, stranger: Tenant) => unknown, (t: Tenant) => unknown[]]> = [
    [
      "no account relationship",
      () => createBody(null),
      () => [problem("account", "can't be blank", ACCOUNT)],
    ],
    [
      "account linkage data: null",
      () => withRelationships(createBody(null), { account: { data: null } }),
      () => [problem("account", "can't be blank", ACCOUNT)],
    ],
    [
      "account linkage id: null",
      () => withRelationships(createBody(null), { account: { data: { type: "accounts", id: null } } }),
      () => [problem("account", "can't be blank", ACCOUNT)],
    ],
    [
      "account of another customer",
      (_t, s) => createBody(s.accountUuid),
      () => [problem("account", "is invalid", ACCOUNT)],
    ],
    [
      "unknown account uuid",
      () => createBody(crypto.randomUUID()),
      () => [problem("account", "is invalid", ACCOUNT)],
    ],
    [
      "no filters",
      (t) => withoutFilters(createBody(t.accountUuid)),
      () => [problem("filters", "can't be blank", FILTERS)],
    ],
    [
      "filters {}",
      (t) => createBody(t.accountUuid, { filters: {} }),
      () => [problem("filters", "can't be blank", FILTERS)],
    ],
    [
      "filters null",
      (t) => createBody(t.accountUuid, { filters: null }),
      () => [problem("filters", "can't be blank", FILTERS)],
    ],
    [
      "filters a string that is not JSON",
      (t) => createBody(t.accountUuid, { filters: "time_start_gteq" }),
      () => [problem("filters", "can't be blank", FILTERS)],
    ],
    [
      "only unknown keys: the filters are blank",
      (t) => createBody(t.accountUuid, { filters: { foo: 1 } }),
      () => [problem("filters", "can't be blank", FILTERS)],
    ],
    [
      "missing time_start_gteq",
      (t) => createBody(t.accountUuid, { filters: { time_start_lt: RANGE.time_start_lt } }),
      () => [problem("filters", "requires time_start_gteq", FILTERS)],
    ],
    [
      "missing time_start_lt",
      (t) => createBody(t.accountUuid, { filters: { time_start_gteq: RANGE.time_start_gteq } }),
      () => [problem("filters", "requires time_start_lt", FILTERS)],
    ],
    [
      "both times missing",
      (t) => createBody(t.accountUuid, { filters: { success_eq: true } }),
      () => [
        problem("filters", "requires time_start_gteq", FILTERS),
        problem("filters", "requires time_start_lt", FILTERS),
      ],
    ],
    [
      "unparsable times count as missing",
      (t) =>
        createBody(t.accountUuid, {
          filters: { time_start_gteq: "yesterday", time_start_lt: 5, duration_eq: 1 },
        }),
      () => [
        problem("filters", "requires time_start_gteq", FILTERS),
        problem("filters", "requires time_start_lt", FILTERS),
      ],
    ],
    [
      "time_start_lteq instead of time_start_lt: only not allowed",
      (t) =>
        createBody(t.accountUuid, {
          filters: { time_start_gteq: RANGE.time_start_gteq, time_start_lteq: RANGE.time_start_lt },
        }),
      () => [problem("filters", "time_start_lteq not allowed", FILTERS)],
    ],
    [
      "known filters outside the list: named in the model's order",
      (t) =>
        createBody(t.accountUuid, {
          filters: { customer_acc_id_eq: 2, ...RANGE, vendor_id_eq: 3, customer_id_eq: 1 },
        }),
      () => [problem("filters", "customer_id_eq, customer_acc_id_eq, vendor_id_eq not allowed", FILTERS)],
    ],
    [
      "unknown and known-not-allowed keys: two errors",
      (t) => createBody(t.accountUuid, { filters: { ...RANGE, zz: 1, foo: 2, customer_id_eq: 1 } }),
      () => [
        problem("filters", "zz, foo not allowed", FILTERS),
        problem("filters", "customer_id_eq not allowed", FILTERS),
      ],
    ],
    [
      "a NUL in a string filter: refused, not dropped (PostgreSQL text cannot hold it)",
      (t) => createBody(t.accountUuid, { filters: { ...RANGE, src_prefix_routing_eq: "1\u00002" } }),
      () => [problem("filters", "src_prefix_routing_eq is invalid", FILTERS)],
    ],
    [
      "a known-not-allowed key that is null is no error",
      (t) =>
        createBody(t.accountUuid, { filters: { ...RANGE, customer_id_eq: null, src_prefix_routing_eq: "" } }),
      () => [],
    ],
    ...(["Mars/Olympus_Mons", "+02:00", 3] as const).map(
      (zone): [string, (t: Tenant) => unknown, () => unknown[]] => [
        `time-zone-name ${zone}`,
        (t) => createBody(t.accountUuid, { "time-zone-name": zone }),
        () => [problem("time-zone-name", "is not included in the list", ZONE)],
      ],
    ),
    [
      "unknown time-format",
      (t) => createBody(t.accountUuid, { "time-format": "iso8601" }),
      () => [problem("time-format", NOT_INCLUDED, FORMAT)],
    ],
    [
      "time-format null: blank and not included",
      (t) => createBody(t.accountUuid, { "time-format": null }),
      () => [problem("time-format", "can't be blank", FORMAT), problem("time-format", NOT_INCLUDED, FORMAT)],
    ],
    [
      "several problems: the model's (filters, zone), then the form's (account, filters, format)",
      () => ({
        data: {
          type: "cdr-exports",
          attributes: {
            filters: { customer_id_eq: 1 },
            "time-format": "nope",
            "time-zone-name": "Nowhere/Town",
          },
        },
      }),
      () => [
        problem("filters", "requires time_start_gteq", FILTERS),
        problem("filters", "requires time_start_lt", FILTERS),
        problem("filters", "customer_id_eq not allowed", FILTERS),
        problem("time-zone-name", "is not included in the list", ZONE),
        problem("account", "can't be blank", ACCOUNT),
        problem("time-format", NOT_INCLUDED, FORMAT),
      ],
    ],
    [
      "the form's filters error after the account's when the model had none",
      (_t, s) => createBody(s.accountUuid, { filters: { ...RANGE, customer_id_eq: 1 } }),
      () => [
        problem("account", "is invalid", ACCOUNT),
        problem("filters", "customer_id_eq not allowed", FILTERS),
      ],
    ],
  ];

  it.each(cases.filter(([, , errors]) => errors({} as Tenant).length > 0))(
    "%s",
    async (_name, body, errors) => {
      const t = await tenant();
      const stranger = await tenant();
      expect(await rejected(t, body(t, stranger))).toEqual(errors(t));
    },
  );

  it("an account of a contractor that is not a customer, or outside the access's account-ids: is invalid", async () => {
    const t = await tenant({ restrictToFirstAccount: true });
    const vendor = await createContractor({ customer: false, vendor: true });
    const account = await createAccount(vendor.id);
    for (const uuid of [account.attributes.uuid as string, t.otherAccountUuid]) {
      expect(await rejected(t, createBody(uuid))).toEqual([problem("account", "is invalid", ACCOUNT)]);
    }
  });

  it("a known-not-allowed key that is null, and a blank prefix, are dropped: 201", async () => {
    const t = await tenant();
    const res = await post(
      t,
      createBody(t.accountUuid, { filters: { ...RANGE, customer_id_eq: null, src_prefix_routing_eq: "" } }),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json<Doc>(res)).data.attributes.filters).toEqual({
      time_start_gteq: "2019-01-01T00:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
    });
  });
});

function withRelationships(body: unknown, relationships: unknown) {
  const copy = structuredClone(body) as { data: Record<string, unknown> };
  copy.data.relationships = relationships;
  return copy;
}

function withoutFilters(body: unknown) {
  const copy = structuredClone(body) as { data: { attributes: Record<string, unknown> } };
  delete copy.data.attributes.filters;
  return copy;
}

describe("POST /cdr-exports: the form casts filters as ActiveModel does", () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['success_eq "false"', { success_eq: "false" }, { success_eq: false }],
    ["success_eq 0", { success_eq: 0 }, { success_eq: false }],
    ['success_eq "0"', { success_eq: "0" }, { success_eq: false }],
    ['success_eq "yes"', { success_eq: "yes" }, { success_eq: true }],
    ['success_eq "" dropped', { success_eq: "" }, {}],
    ['duration_eq "60"', { duration_eq: "60" }, { duration_eq: 60 }],
    ["duration_eq 10.9 truncated", { duration_eq: 10.9 }, { duration_eq: 10 }],
    ['duration_gteq "10.9" truncated', { duration_gteq: "10.9" }, { duration_gteq: 10 }],
    ["duration_lteq null dropped", { duration_lteq: null }, {}],
    ["src_prefix_routing_eq from a number", { src_prefix_routing_eq: 123 }, { src_prefix_routing_eq: "123" }],
    ['dst_prefix_routing_eq "" dropped', { dst_prefix_routing_eq: "" }, {}],
    [
      "time with an offset",
      { time_start_gteq: "2019-01-01T00:00:00+02:00" },
      { time_start_gteq: "2018-12-31T22:00:00.000Z" },
    ],
  ];

  it.each(cases)("%s", async (_name, given, echoed) => {
    const t = await tenant();
    const res = await post(t, createBody(t.accountUuid, { filters: { ...RANGE, ...given } }));
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json<Doc>(res)).data.attributes.filters).toEqual({
      time_start_gteq: "2019-01-01T00:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
      ...echoed,
    });
  });

  it("filters sent as a JSON-encoded string are decoded", async () => {
    const t = await tenant();
    const res = await post(
      t,
      createBody(t.accountUuid, { filters: JSON.stringify({ ...RANGE, duration_eq: 5 }) }),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json<Doc>(res)).data.attributes.filters).toEqual({
      time_start_gteq: "2019-01-01T00:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
      duration_eq: 5,
    });
  });
});

describe("POST /cdr-exports: the document is checked before the form (400s of jsonapi-resources)", () => {
  const bad = (title: string, detail: string, code: string) => ({ status: "400", code, title, detail });
  const cases: Array<[string, (t: Tenant) => string, ReturnType<typeof bad>[], string?]> = [
    [
      "malformed JSON",
      () => '{"data": {"type": "cdr-exports",',
      [bad("Bad Request", "The request body is not valid JSON.", "400")],
    ],
    ...["[1,2]", '"cdr-exports"', "null", "42"].map(
      (raw): [string, (t: Tenant) => string, ReturnType<typeof bad>[]] => [
        `body ${raw}`,
        () => raw,
        [bad("Bad Request", "Request must be a hash", "400")],
      ],
    ),
    [
      "no data",
      () => JSON.stringify({ type: "cdr-exports" }),
      [bad("Missing Parameter", "The required parameter, data, is missing.", "106")],
    ],
    [
      "data null",
      () => JSON.stringify({ data: null }),
      [bad("Missing Parameter", "The required parameter, data, is missing.", "106")],
    ],
    [
      "data {}",
      () => JSON.stringify({ data: {} }),
      [bad("Missing Parameter", "The required parameter, data, is missing.", "106")],
    ],
    [
      "data a string",
      () => JSON.stringify({ data: "x" }),
      [bad("Invalid data format", "Data must be a hash.", "122")],
    ],
    [
      "data an array",
      () => JSON.stringify({ data: [1] }),
      [bad("Invalid data format", "Data must be a hash.", "122")],
    ],
    [
      "no type",
      (t) => JSON.stringify(withType(createBody(t.accountUuid), undefined)),
      [bad("Missing Parameter", "The required parameter, type, is missing.", "106")],
    ],
    [
      "type accounts",
      (t) => JSON.stringify(withType(createBody(t.accountUuid), "accounts")),
      [bad("Invalid resource", "accounts is not a valid resource.", "101")],
    ],
    [
      "a client id",
      (t) => JSON.stringify(withMember(createBody(t.accountUuid), "id", crypto.randomUUID())),
      [bad("Param not allowed", "id is not allowed.", "105")],
    ],
    [
      "a links member",
      (t) => JSON.stringify(withMember(createBody(t.accountUuid), "links", {})),
      [bad("Param not allowed", "links is not allowed.", "105")],
    ],
    [
      "a read-only attribute (status)",
      (t) => JSON.stringify(createBody(t.accountUuid, { status: "Completed" })),
      [bad("Param not allowed", "status is not allowed.", "105")],
    ],
    [
      "an underscored attribute (time_format)",
      (t) => JSON.stringify(createBody(t.accountUuid, { time_format: "with_timezone" })),
      [bad("Param not allowed", "time_format is not allowed.", "105")],
    ],
    [
      "an unknown relationship",
      (t) =>
        JSON.stringify(
          withRelationships(createBody(t.accountUuid), {
            customer: { data: { type: "contractors", id: "1" } },
          }),
        ),
      [bad("Param not allowed", "customer is not allowed.", "105")],
    ],
    [
      "linkage of another type",
      (t) =>
        JSON.stringify(
          withRelationships(createBody(null), {
            account: { data: { type: "contractors", id: t.accountUuid } },
          }),
        ),
      [bad("Type Mismatch", "contractors is not a valid type for this operation.", "116")],
    ],
    [
      "linkage id not a uuid",
      () =>
        JSON.stringify(
          withRelationships(createBody(null), { account: { data: { type: "accounts", id: "42" } } }),
        ),
      [bad("Invalid field value", "42 is not a valid value for id.", "103")],
    ],
    [
      "linkage without type",
      (t) =>
        JSON.stringify(withRelationships(createBody(null), { account: { data: { id: t.accountUuid } } })),
      [bad("Invalid Links Object", "Data is not a valid Links Object.", "115")],
    ],
    [
      "linkage with an extra member",
      (t) =>
        JSON.stringify(
          withRelationships(createBody(null), {
            account: { data: { type: "accounts", id: t.accountUuid, x: 1 } },
          }),
        ),
      [bad("Invalid Links Object", "Data is not a valid Links Object.", "115")],
    ],
    [
      "include=foo and a bad document: both errors",
      (t) => JSON.stringify(createBody(t.accountUuid, { status: "x" })),
      [
        bad("Invalid field", "foo is not a valid relationship of cdr-exports", "112"),
        bad("Param not allowed", "status is not allowed.", "105"),
      ],
      "?include=foo",
    ],
    [
      "fields[cdr-exports]=nope",
      (t) => JSON.stringify(createBody(t.accountUuid)),
      [bad("Invalid field", "nope is not a valid field for cdr-exports.", "104")],
      "?fields[cdr-exports]=nope",
    ],
  ];

  it.each(cases)("%s", async (_name, body, errors, query = "") => {
    const t = await tenant();
    const before = await exportCount(t.auth);
    const res = await call(`${CUSTOMER}/cdr-exports${query}`, {
      method: "POST",
      headers: { Authorization: t.auth, "Content-Type": JSON_API },
      body: body(t),
    });
    expect(res.status, await res.clone().text()).toBe(400);
    expect(res.headers.get("Content-Type")).toBe(JSON_API);
    expect(((await res.json()) as ErrorDoc).errors).toEqual(errors);
    expect(await exportCount(t.auth)).toBe(before);
  });

  it.each(["cdr_exports", "cdr-exports"])("type %s is accepted", async (type) => {
    const t = await tenant();
    const res = await post(t, withType(createBody(t.accountUuid), type));
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it("an upper-case account uuid is the same account", async () => {
    const t = await tenant();
    const res = await post(t, createBody(t.accountUuid.toUpperCase()));
    expect(res.status, await res.clone().text()).toBe(201);
  });

  it("?include=account&fields[accounts]=name: the account in included, sparse", async () => {
    const t = await tenant();
    const res = await customer(
      t.auth,
      "POST",
      "/cdr-exports?include=account&fields[accounts]=name&fields[cdr-exports]=status,account",
      createBody(t.accountUuid),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as { data: Record<string, unknown>; included: unknown[] };
    expect(body.data.attributes).toEqual({ status: "Pending" });
    expect((body.data.relationships as { account: { data: unknown } }).account.data).toEqual({
      type: "accounts",
      id: t.accountUuid,
    });
    expect(body.included).toEqual([
      {
        id: t.accountUuid,
        type: "accounts",
        links: { self: `${CUSTOMER}/accounts/${t.accountUuid}` },
        attributes: { name: t.account.attributes.name },
      },
    ]);
  });
});

function withType(body: unknown, type: string | undefined) {
  const copy = structuredClone(body) as { data: Record<string, unknown> };
  if (type === undefined) delete copy.data.type;
  else copy.data.type = type;
  return copy;
}

function withMember(body: unknown, name: string, value: unknown) {
  const copy = structuredClone(body) as { data: Record<string, unknown> };
  copy.data[name] = value;
  return copy;
}

describe("POST /cdr-exports: media type and size", () => {
  it("a Content-Type other than JSON:API: 415", async () => {
    const t = await tenant();
    const body = JSON.stringify(createBody(t.accountUuid));
    const errors = await refused(t, 415, body, { "Content-Type": "text/plain" });
    expect(errors).toEqual([
      {
        status: "415",
        code: "415",
        title: "Unsupported media type",
        detail:
          "All requests that create or update must use the 'application/vnd.api+json' Content-Type. This request specified 'text/plain.'",
      },
    ]);
    await refused(t, 415, body, { "Content-Type": "application/x-www-form-urlencoded" });
  });

  it("a body over 1 MiB: 413", async () => {
    const t = await tenant();
    const body = JSON.stringify(createBody(t.accountUuid, { padding: "x".repeat(1024 * 1024) }));
    const [error] = await refused(t, 413, body);
    expect(error?.title).toBe("Payload Too Large");
  });

  it("a body over 1 MiB sent as a stream without Content-Length: 413", async () => {
    const t = await tenant();
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    await refused(t, 413, stream);
  });
});
