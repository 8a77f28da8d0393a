// Customer API v1 read routes as jsonapi-resources 0.9 answers them: ids, sparse fieldsets, include,
// sort, paging links, trailing slash. One table per class.
import { beforeAll, describe, expect, it } from "vitest";
import { admin, CUSTOMER, customer, JSON_API, list, seedExport, type Tenant, tenant } from "./helpers/api";

type ErrorObject = { status: string; code?: string; title: string; detail?: string };

async function errorsOf(res: Response, status: number): Promise<ErrorObject[]> {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  return ((await res.json()) as { errors: ErrorObject[] }).errors;
}

const bad = (title: string, detail: string, code: string): ErrorObject => ({
  status: "400",
  code,
  title,
  detail,
});
const at = (iso: string) => Date.parse(iso);

describe("read routes: ids", () => {
  let t: Tenant;
  let uuid: string;
  beforeAll(async () => {
    t = await tenant();
    uuid = (await seedExport(t.accountId, { status: "Completed" })).uuid;
  });

  const routes = ["", "/relationships/account", "/account", "/download"];
  it.each(
    routes.flatMap((r) =>
      ["not-a-uuid", "1", `${"0".repeat(8)}-0000-0000-0000-00000000000g`].map((id) => [r, id]),
    ),
  )("GET /cdr-exports/{id}%s with id %s: 400 invalid field value", async (route, id) => {
    const errors = await errorsOf(await customer(t.auth, "GET", `/cdr-exports/${id}${route}`), 400);
    expect(errors).toEqual([bad("Invalid field value", `${id} is not a valid value for id.`, "103")]);
  });

  it("DELETE /cdr-exports/{id} with a malformed id: 400", async () => {
    const errors = await errorsOf(await customer(t.auth, "DELETE", "/cdr-exports/nope"), 400);
    expect(errors).toEqual([bad("Invalid field value", "nope is not a valid value for id.", "103")]);
  });

  it.each(routes)("GET /cdr-exports/{UPPER-CASE id}%s finds the export", async (route) => {
    const res = await customer(t.auth, "GET", `/cdr-exports/${uuid.toUpperCase()}${route}`);
    expect(res.status, await res.clone().text()).toBe(route === "/download" ? 404 : 200);
  });

  it("an unknown uuid: 404 naming the id as given", async () => {
    const id = crypto.randomUUID().toUpperCase();
    expect(await errorsOf(await customer(t.auth, "GET", `/cdr-exports/${id}`), 404)).toEqual([
      {
        status: "404",
        code: "404",
        title: "Record not found",
        detail: `The record identified by ${id} could not be found.`,
      },
    ]);
  });

  it("the list with a trailing slash is the same route", async () => {
    const plain = await list(t.auth);
    const res = await customer(t.auth, "GET", "/cdr-exports/");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown[] }).data).toEqual(plain.body.data);
  });
});

describe("read routes: sparse fieldsets", () => {
  let t: Tenant;
  let uuid: string;
  beforeAll(async () => {
    t = await tenant();
    uuid = (await seedExport(t.accountId, { status: "Completed", rowsCount: 3 })).uuid;
  });

  const cases: Array<[string, string, Record<string, unknown> | undefined, boolean, string[] | undefined]> = [
    // query, path, attributes expected, relationships present, included account attributes
    ["fields[cdr-exports]=status,rows-count", "", { status: "Completed", "rows-count": 3 }, false, undefined],
    ["fields[cdr-exports]=id", "", undefined, false, undefined],
    ["fields[cdr-exports]=account", "", undefined, true, undefined],
    [
      "fields[cdr-exports]=status&include=account&fields[accounts]=name,currency",
      "",
      { status: "Completed" },
      false,
      ["name", "currency"],
    ],
    ["fields[accounts]=balance&include=account", "", undefined, true, ["balance"]],
  ];

  it.each(cases)("GET /cdr-exports/{id}?%s", async (query, _path, attributes, relationships, included) => {
    const res = await customer(t.auth, "GET", `/cdr-exports/${uuid}?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: checked member by member
    const body = (await res.json()) as { data: any; included?: any[] };
    if (attributes) expect(body.data.attributes).toEqual(attributes);
    else if (!query.includes("fields[accounts]")) expect(body.data.attributes).toBeUndefined();
    expect("relationships" in body.data).toBe(relationships || !query.includes("fields[cdr-exports]"));
    if (included) expect(Object.keys(body.included?.[0].attributes)).toEqual(included);
  });

  it("the list honours fields[cdr-exports] on every item", async () => {
    const { res, body } = await list(t.auth, "fields[cdr-exports]=status");
    expect(res.status).toBe(200);
    expect(body.data.map((d) => d.attributes)).toEqual([{ status: "Completed" }]);
  });

  it("GET .../account honours fields[accounts]", async () => {
    const res = await customer(t.auth, "GET", `/cdr-exports/${uuid}/account?fields[accounts]=name`);
    expect(((await res.json()) as { data: { attributes: unknown } }).data.attributes).toEqual({
      name: t.account.attributes.name,
    });
  });

  const errors: Array<[string, ErrorObject]> = [
    ["fields=status", bad("Invalid field format", "Fields must specify a type.", "119")],
    [
      "fields[cdr-exports]=password",
      bad("Invalid field", "password is not a valid field for cdr-exports.", "104"),
    ],
    [
      "fields[cdr-exports]=status,rows_count",
      bad("Invalid field", "rows_count is not a valid field for cdr-exports.", "104"),
    ],
    ["fields[cdr-exports]=", bad("Invalid field", "nil is not a valid field for cdr-exports.", "104")],
    ["fields[cdr_exports]=status", bad("Invalid resource", "cdr_exports is not a valid resource.", "101")],
    ["fields[contractors]=name", bad("Invalid resource", "contractors is not a valid resource.", "101")],
    ["fields[accounts]=uuid", bad("Invalid field", "uuid is not a valid field for accounts.", "104")],
  ];
  it.each(errors)("%s: 400", async (query, error) => {
    expect(await errorsOf(await customer(t.auth, "GET", `/cdr-exports/${uuid}?${query}`), 400)).toEqual([
      error,
    ]);
    expect(await errorsOf(await customer(t.auth, "GET", `/cdr-exports?${query}`), 400)).toEqual([error]);
  });
});

describe("read routes: include", () => {
  let t: Tenant;
  let uuid: string;
  beforeAll(async () => {
    t = await tenant();
    uuid = (await seedExport(t.accountId)).uuid;
  });

  const cases: Array<[string, ErrorObject[] | null]> = [
    ["include=account", null],
    ["include=", null],
    ["include=account,account", null],
    ["include=foo", [bad("Invalid field", "foo is not a valid relationship of cdr-exports", "112")]],
    ["include=account,foo", [bad("Invalid field", "foo is not a valid relationship of cdr-exports", "112")]],
    [
      "include=account.contractor",
      [bad("Invalid field", "contractor is not a valid relationship of accounts", "112")],
    ],
    ["include=Account", [bad("Invalid field", "Account is not a valid relationship of cdr-exports", "112")]],
    // Collected errors are answered together.
    [
      "include=foo&page[size]=0",
      [
        bad("Invalid field", "foo is not a valid relationship of cdr-exports", "112"),
        bad("Invalid page value", "0 is not a valid value for size page parameter.", "118"),
      ],
    ],
  ];
  it.each(cases)("GET /cdr-exports?%s", async (query, errors) => {
    const res = await customer(t.auth, "GET", `/cdr-exports?${query}`);
    if (errors) expect(await errorsOf(res, 400)).toEqual(errors);
    else expect(res.status, await res.clone().text()).toBe(200);
  });

  it.each(cases.filter(([q]) => !q.includes("page")))("GET /cdr-exports/{id}?%s", async (query, errors) => {
    const res = await customer(t.auth, "GET", `/cdr-exports/${uuid}?${query}`);
    if (errors) expect(await errorsOf(res, 400)).toEqual(errors);
    else expect(res.status, await res.clone().text()).toBe(200);
  });
});

describe("read routes: sort", () => {
  let t: Tenant;
  const e: Record<string, string> = {};
  const name = (id: string) => Object.keys(e).find((k) => e[k] === id);
  beforeAll(async () => {
    t = await tenant();
    const rows: Array<[string, Parameters<typeof seedExport>[1]]> = [
      [
        "a",
        {
          status: "Pending",
          rowsCount: null,
          timeZoneName: null,
          timeFormat: "with_timezone",
          createdAt: at("2024-01-01T00:00:00Z"),
          updatedAt: at("2024-01-05T00:00:00Z"),
        },
      ],
      [
        "b",
        {
          status: "Completed",
          rowsCount: 5,
          timeZoneName: "Europe/Kyiv",
          timeFormat: "round_to_seconds",
          createdAt: at("2024-01-02T00:00:00Z"),
          updatedAt: at("2024-01-04T00:00:00Z"),
        },
      ],
      [
        "c",
        {
          status: "Failed",
          rowsCount: 1,
          timeZoneName: "Asia/Kolkata",
          timeFormat: "without_timezone",
          createdAt: at("2024-01-03T00:00:00Z"),
          updatedAt: at("2024-01-03T00:00:00Z"),
        },
      ],
    ];
    for (const [key, values] of rows) e[key] = (await seedExport(t.accountId, values)).uuid;
  });

  const cases: Array<[string, string[] | (() => string[])]> = [
    ["sort=status", ["b", "c", "a"]],
    ["sort=-status", ["a", "c", "b"]],
    // PostgreSQL: NULLs last ascending, first descending.
    ["sort=rows-count", ["c", "b", "a"]],
    ["sort=rows_count", ["c", "b", "a"]],
    ["sort=-rows-count", ["a", "b", "c"]],
    ["sort=time-zone-name", ["c", "b", "a"]],
    ["sort=-time_zone_name", ["a", "b", "c"]],
    ["sort=created-at", ["a", "b", "c"]],
    ["sort=-updated-at", ["a", "b", "c"]],
    ["sort=updated_at", ["c", "b", "a"]],
    // Text order: round_to_seconds < with_timezone < without_timezone.
    ["sort=time-format", ["b", "a", "c"]],
    ["sort=-time-format,status", ["c", "a", "b"]],
    [
      "sort=id",
      () =>
        Object.entries(e)
          .sort(([, x], [, y]) => (x < y ? -1 : 1))
          .map(([k]) => k),
    ],
    [
      "sort=-id",
      () =>
        Object.entries(e)
          .sort(([, x], [, y]) => (x < y ? 1 : -1))
          .map(([k]) => k),
    ],
    ["sort=", ["c", "b", "a"]],
  ];
  it.each(cases)("%s", async (query, expected) => {
    const { res, body } = await list(t.auth, query);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.map((d) => name(d.id))).toEqual(typeof expected === "function" ? expected() : expected);
  });

  const errors: Array<[string, string]> = [
    ["sort=password", "password is not a valid sort criteria for cdr-exports"],
    ["sort=-rows-count,account", "account is not a valid sort criteria for cdr-exports"],
    ["sort=Rows-Count,foo-bar", "foo_bar is not a valid sort criteria for cdr-exports"],
  ];
  it.each(errors)("%s: 400 Invalid sort criteria", async (query, detail) => {
    expect(await errorsOf(await customer(t.auth, "GET", `/cdr-exports?${query}`), 400)).toEqual([
      bad("Invalid sort criteria", detail, "114"),
    ]);
  });
});

describe("read routes: paging", () => {
  let t: Tenant;
  beforeAll(async () => {
    t = await tenant();
    for (let i = 0; i < 5; i++)
      await seedExport(t.accountId, { createdAt: at("2024-01-01T00:00:00Z") + i * 1000 });
  });

  const link = (query: string) => `${CUSTOMER}/cdr-exports?${query}`;
  const page = (n: number, size: number) => `page%5Bnumber%5D=${n}&page%5Bsize%5D=${size}`;
  const cases: Array<[string, number, Record<string, string>]> = [
    ["page[size]=2", 2, { first: link(page(1, 2)), next: link(page(2, 2)), last: link(page(3, 2)) }],
    [
      "page[size]=2&page[number]=2.9",
      2,
      { first: link(page(1, 2)), prev: link(page(1, 2)), next: link(page(3, 2)), last: link(page(3, 2)) },
    ],
    [
      "page[size]=2abc&page[number]=3",
      1,
      { first: link(page(1, 2)), prev: link(page(2, 2)), last: link(page(3, 2)) },
    ],
    ["page=2", 0, { first: link(page(1, 50)), prev: link(page(1, 50)), last: link(page(1, 50)) }],
    [
      "page[number]=7&page[size]=2",
      0,
      { first: link(page(1, 2)), prev: link(page(6, 2)), last: link(page(3, 2)) },
    ],
    [
      "page[size]=2&sort=-status&filter[status_eq]=Pending&include=account&fields[cdr-exports]=status",
      2,
      {
        first: link(
          `fields%5Bcdr-exports%5D=status&filter%5Bstatus_eq%5D=Pending&include=account&${page(1, 2)}&sort=-status`,
        ),
        next: link(
          `fields%5Bcdr-exports%5D=status&filter%5Bstatus_eq%5D=Pending&include=account&${page(2, 2)}&sort=-status`,
        ),
        last: link(
          `fields%5Bcdr-exports%5D=status&filter%5Bstatus_eq%5D=Pending&include=account&${page(3, 2)}&sort=-status`,
        ),
      },
    ],
  ];
  it.each(cases)("%s", async (query, count, links) => {
    const { res, body } = await list(t.auth, query);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data).toHaveLength(count);
    expect(body.links).toEqual(links);
    expect(body.meta).toEqual({ "total-count": 5 });
  });

  const errors: Array<[string, string]> = [
    ["page[size]=1001", "size exceeds maximum page size of 1000."],
    ["page[size]=abc", "0 is not a valid value for size page parameter."],
    ["page[number]=-1", "-1 is not a valid value for number page parameter."],
    ["page=x", "0 is not a valid value for number page parameter."],
  ];
  it.each(errors)("%s: 400 Invalid page value", async (query, detail) => {
    expect(await errorsOf(await customer(t.auth, "GET", `/cdr-exports?${query}`), 400)).toEqual([
      bad("Invalid page value", detail, "118"),
    ]);
  });
});

describe("error objects on other customer answers", () => {
  it("an unknown route: 404 with a code", async () => {
    const t = await tenant();
    const errors = await errorsOf(await customer(t.auth, "GET", "/nothing-here"), 404);
    expect(errors).toEqual([
      { status: "404", code: "404", title: "Not Found", detail: "No route matches this request." },
    ]);
  });

  it("an account linkage of the admin API stays the operator's (no customer route under /admin)", async () => {
    expect((await admin("GET", "/accounts?page[size]=1")).status).toBe(200);
  });
});
