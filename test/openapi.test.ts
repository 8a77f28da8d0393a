// The OpenAPI documents and /docs: served where the README says, covering every route the app serves, with
// auth that matches the routes', the published create example accepted by the create schema, and response
// schemas that the real responses satisfy. (Validity as OpenAPI 3.1: openapi.node.test.ts.)
import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { CUSTOMER_CREATE_FRAME, customerCreateDocument } from "../src/cdr-exports/create-document";
import { ApiError } from "../src/errors";
import {
  accountLinkageDocument,
  accountResource,
  apiAccessResource,
  contractorResource,
  customerAccountDocument,
  customerExportDocument,
  customerExportListDocument,
  errorDocument,
  listDocument,
  operatorExportResource,
  showDocument,
} from "../src/openapi/schemas";
import { customerRouter } from "../src/routes/customer/openapi";
import {
  ADMIN,
  ADMIN_TOKEN,
  admin,
  BASE,
  CUSTOMER,
  call,
  createBody,
  customer,
  JSON_API,
  json,
  tenant,
  waitForExport,
} from "./helpers/api";

type Operation = {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, unknown> }>;
};
type Document = {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, unknown>> };
};

const CUSTOMER_DOC = `${CUSTOMER}/openapi.json`;
const ADMIN_DOC = `${ADMIN}/openapi.json`;
const METHODS = ["get", "head", "post", "put", "patch", "delete"];

async function customerDoc(): Promise<Document> {
  const res = await call(CUSTOMER_DOC);
  expect(res.status).toBe(200);
  return json<Document>(res);
}

async function adminDoc(): Promise<Document> {
  const res = await call(ADMIN_DOC, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return json<Document>(res);
}

function operations(doc: Document): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ path, method, op })),
  );
}

/** Parses with a zod schema; on failure, fails with the issues and the value. */
function conforms(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  expect(result.success, `${JSON.stringify(result.error?.issues)}\n${JSON.stringify(value)}`).toBe(true);
}

// The published example of the create call (/work/shared/reference/cdr-exports-create.txt), as published.
const PUBLISHED_CREATE_BODY = JSON.parse(
  '{"data":{"type":"cdr-exports","attributes":{"filters":{"time_start_gteq":"2019-01-01 00:00:00","time_start_lt":"2019-01-02 00:00:00","success_eq":true,"duration_eq":60,"duration_gteq":0,"duration_lteq":100,"src_prefix_routing_eq":"123","dst_prefix_routing_eq":"456"}},"relationships":{"account":{"data":{"type":"accounts","id":"aa3432e2-a26e-11ef-a008-0242ac120003"}}}}}',
);

describe("serving the documents", () => {
  it("serves the customer document without auth, with this deployment as the server", async () => {
    const res = await call(CUSTOMER_DOC);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const doc = await json<Document>(res);
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: BASE, description: "This deployment" }]);
    const other = await json<Document>(await call("http://127.0.0.1:8787/api/rest/customer/v1/openapi.json"));
    expect(other.servers[0]?.url).toBe("http://127.0.0.1:8787");
  });

  it("serves the operator document only with the operator token", async () => {
    expect((await call(ADMIN_DOC)).status).toBe(401);
    expect((await call(ADMIN_DOC, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
    const doc = await adminDoc();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: BASE, description: "This deployment" }]);
  });
});

describe("coverage", () => {
  it("documents every route the app serves, and nothing else", async () => {
    const served = new Set(
      app.routes
        .filter((r) => r.method !== "ALL")
        .filter((r) => r.path !== "/" && !r.path.startsWith("/docs") && !r.path.endsWith("/openapi.json"))
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`),
    );
    const [c, a] = [await customerDoc(), await adminDoc()];
    const documented = new Set([...operations(c), ...operations(a)].map((o) => `${o.method} ${o.path}`));
    expect(
      [...served].filter((r) => !documented.has(r)),
      "served but not documented",
    ).toEqual([]);
    expect(
      [...documented].filter((r) => !served.has(r)),
      "documented but not served",
    ).toEqual([]);
    for (const o of operations(c)) expect(o.path.startsWith("/api/rest/customer/v1/")).toBe(true);
    for (const o of operations(a)) expect(o.path.startsWith("/api/rest/admin/")).toBe(true);
  });

  it("documents every list filter, paging, sort and include", async () => {
    const list = (await customerDoc()).paths["/api/rest/customer/v1/cdr-exports"]?.get as unknown as {
      parameters: { name: string; in: string }[];
    };
    const params = list.parameters;
    const names = params.map((p) => p.name);
    for (const name of ["page[number]", "page[size]", "sort", "include", "filter[time_format]"]) {
      expect(names).toContain(name);
    }
    for (const field of [
      "status",
      "rows_count",
      "created_at",
      "updated_at",
      "time_zone_name",
      "account_id",
    ]) {
      expect(names).toContain(`filter[${field}_eq]`);
      expect(names).toContain(`filter[${field}_in]`);
    }
    expect(names).toContain("filter[time_zone_name_cont_any]");
    expect(names.filter((n) => n.startsWith("filter["))).toHaveLength(41);
    // Every documented filter is one the list accepts: none of them answers 400 `Filter not allowed`.
    const t = await tenant();
    const samples: Record<string, string> = {
      status: "Pending",
      rows_count: "1",
      created_at: "2024-01-01 00:00:00",
      updated_at: "2024-01-01 00:00:00",
      time_zone_name: "UTC",
      account_id: t.accountUuid,
      time_format: "with_timezone",
    };
    for (const name of names.filter((n) => n.startsWith("filter["))) {
      const field = Object.keys(samples).find((f) => name.startsWith(`filter[${f}`)) as string;
      const res = await customer(t.auth, "GET", `/cdr-exports?${encodeURIComponent(name)}=${samples[field]}`);
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(200);
    }
  });

  it("documents Idempotency-Key on create and x-d1-bookmark on every customer operation", async () => {
    const doc = await customerDoc();
    const create = doc.paths["/api/rest/customer/v1/cdr-exports"]?.post;
    expect(create?.parameters?.some((p) => p.name === "Idempotency-Key" && p.in === "header")).toBe(true);
    for (const { path, method, op } of operations(doc)) {
      const label = `${method} ${path}`;
      expect(
        op.parameters?.some((p) => p.name === "x-d1-bookmark" && p.in === "header"),
        label,
      ).toBe(true);
      const ok = Object.entries(op.responses).filter(([status]) => Number(status) < 400);
      for (const [status, response] of ok) {
        expect((response as { headers?: object }).headers, `${label} ${status}`).toHaveProperty(
          "x-d1-bookmark",
        );
      }
    }
  });

  it("uses application/vnd.api+json for JSON:API bodies and the error document for every error", async () => {
    for (const doc of [await customerDoc(), await adminDoc()]) {
      for (const { path, method, op } of operations(doc)) {
        const label = `${method} ${path}`;
        // `/auth` is plain JSON, as in Yeti; CDRs come as NDJSON; files are gzip.
        const json = path.endsWith("/auth") ? "application/json" : JSON_API;
        const body = op.requestBody?.content;
        if (body && !path.endsWith("/cdrs")) expect(Object.keys(body), label).toContain(json);
        for (const [status, response] of Object.entries(op.responses)) {
          if (response.$ref) {
            expect(response.$ref, `${label} ${status}`).toBe(`#/components/responses/Error${status}`);
            continue;
          }
          if (Number(status) >= 400) expect(status, label).toBe("416");
          for (const type of Object.keys(response.content ?? {})) {
            expect([json, "application/gzip"], `${label} ${status}`).toContain(type);
          }
        }
        expect(
          Object.keys(op.responses).some((s) => Number(s) < 300),
          label,
        ).toBe(true);
      }
    }
  });

  it("gives every error response an example that is an error document", async () => {
    for (const doc of [await customerDoc(), await adminDoc()]) {
      const responses = (
        doc.components as unknown as {
          responses: Record<string, { content: Record<string, { example: unknown }> }>;
        }
      ).responses;
      expect(Object.keys(responses).length).toBeGreaterThan(0);
      for (const [name, response] of Object.entries(responses)) {
        const example = response.content[JSON_API]?.example as { errors: { status: string }[] };
        conforms(errorDocument, example);
        expect(`Error${example.errors[0]?.status}`).toBe(name);
      }
    }
  });
});

describe("auth schemes", () => {
  it("describes the customer token, the session cookie and the operator bearer", async () => {
    const c = await customerDoc();
    expect(c.components.securitySchemes.customerJwt).toMatchObject({ type: "http", scheme: "bearer" });
    expect(c.components.securitySchemes.customerSession).toMatchObject({
      type: "apiKey",
      in: "cookie",
      name: "_yeti_customer_v1_session",
    });
    const a = await adminDoc();
    expect(a.components.securitySchemes.adminBearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("declares auth exactly where the routes ask for it", async () => {
    const id = crypto.randomUUID();
    for (const [doc, base] of [
      [await customerDoc(), BASE],
      [await adminDoc(), BASE],
    ] as const) {
      for (const { path, method, op } of operations(doc)) {
        const url = `${base}${path.replace("{id}", path.startsWith("/api/rest/admin") ? "1" : id)}`;
        const res = await call(url, { method: method.toUpperCase() });
        const label = `${method} ${path}`;
        expect(op.security, label).toBeDefined();
        if (op.security?.length) {
          expect(res.status, label).toBe(401);
          const schemes = op.security.flatMap((s) => Object.keys(s));
          expect(schemes, label).toEqual(
            path.startsWith("/api/rest/admin") ? ["adminBearer"] : ["customerJwt", "customerSession"],
          );
        } else {
          expect(res.status, label).not.toBe(401);
        }
      }
    }
  });
});

describe("the create request schema", () => {
  it("accepts the published example, and the document shows it as the example", async () => {
    conforms(customerCreateDocument, PUBLISHED_CREATE_BODY);
    const doc = (await customerDoc()) as Document & {
      components: { schemas: Record<string, { example?: unknown }> };
    };
    expect(doc.components.schemas.CdrExportCreateDocument?.example).toEqual(PUBLISHED_CREATE_BODY);
    expect(
      doc.paths["/api/rest/customer/v1/cdr-exports"]?.post?.requestBody?.content[JSON_API]?.schema,
    ).toEqual({
      $ref: "#/components/schemas/CdrExportCreateDocument",
    });
  });

  it("refuses what the handler refuses in the frame", () => {
    const base = structuredClone(PUBLISHED_CREATE_BODY);
    const variants = [
      { ...base, data: { ...base.data, type: "accounts" } },
      { ...base, data: { ...base.data, attributes: { ...base.data.attributes, fields: ["id"] } } },
      { ...base, data: { ...base.data, relationships: { contractor: base.data.relationships.account } } },
      {
        ...base,
        data: {
          ...base.data,
          attributes: { filters: { ...base.data.attributes.filters, customer_id_eq: 1 } },
        },
      },
      {
        ...base,
        data: { ...base.data, attributes: { filters: { time_start_gteq: "2019-01-01 00:00:00" } } },
      },
    ];
    for (const v of variants)
      expect(customerCreateDocument.safeParse(v).success, JSON.stringify(v)).toBe(false);
  });

  it("is the frame the handler checks", () => {
    expect(CUSTOMER_CREATE_FRAME).toEqual({
      type: "cdr-exports",
      attributes: ["filters", "time-format", "time-zone-name"],
      relationships: ["account"],
    });
  });
});

describe("response schemas match the responses", () => {
  it("customer: create, show, list, relationship, account, errors", async () => {
    const t = await tenant();
    const body = structuredClone(PUBLISHED_CREATE_BODY);
    body.data.relationships.account.data.id = t.accountUuid;
    const created = await customer(t.auth, "POST", "/cdr-exports", body);
    expect(created.status).toBe(201);
    const doc = await json<{ data: { id: string } }>(created);
    conforms(customerExportDocument, doc);
    const id = doc.data.id;

    await waitForExport(t.auth, id, (a) => a.status === "Completed");
    conforms(
      customerExportDocument,
      await json(await customer(t.auth, "GET", `/cdr-exports/${id}?include=account`)),
    );
    conforms(
      customerExportListDocument,
      await json(await customer(t.auth, "GET", "/cdr-exports?include=account")),
    );
    conforms(
      accountLinkageDocument,
      await json(await customer(t.auth, "GET", `/cdr-exports/${id}/relationships/account`)),
    );
    conforms(
      customerAccountDocument,
      await json(await customer(t.auth, "GET", `/cdr-exports/${id}/account`)),
    );

    const invalid = await customer(t.auth, "POST", "/cdr-exports", createBody(null));
    expect(invalid.status).toBe(422);
    conforms(errorDocument, await json(invalid));
    const missing = await customer(t.auth, "GET", `/cdr-exports/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
    conforms(errorDocument, await json(missing));
    const badFilter = await customer(t.auth, "GET", "/cdr-exports?filter[nope]=1");
    expect(badFilter.status).toBe(400);
    conforms(errorDocument, await json(badFilter));
  });

  it("operator: contractors, accounts, api-accesses, cdr-exports, errors", async () => {
    const contractor = await admin("POST", "/contractors", {
      data: { type: "contractors", attributes: { name: `c-${crypto.randomUUID()}`, customer: true } },
    });
    expect(contractor.status).toBe(201);
    const c = await json<{ data: { id: string } }>(contractor);
    conforms(showDocument(contractorResource), c);
    conforms(listDocument(contractorResource), await json(await admin("GET", "/contractors")));

    const account = await admin("POST", "/accounts", {
      data: {
        type: "accounts",
        attributes: { name: `a-${crypto.randomUUID()}`, balance: "1.50" },
        relationships: { contractor: { data: { type: "contractors", id: c.data.id } } },
      },
    });
    expect(account.status).toBe(201);
    conforms(showDocument(accountResource), await json(account));
    conforms(listDocument(accountResource), await json(await admin("GET", "/accounts")));

    const access = await admin("POST", "/api-accesses", {
      data: {
        type: "api-accesses",
        attributes: { login: `l-${crypto.randomUUID()}`, password: "long-secret" },
        relationships: { customer: { data: { type: "contractors", id: c.data.id } } },
      },
    });
    expect(access.status).toBe(201);
    conforms(showDocument(apiAccessResource), await json(access));
    conforms(listDocument(apiAccessResource), await json(await admin("GET", "/api-accesses")));

    const exp = await admin("POST", "/cdr-exports", {
      data: {
        type: "cdr-exports",
        attributes: { filters: { time_start_gteq: "2019-01-01", time_start_lt: "2019-01-02" } },
      },
    });
    expect(exp.status).toBe(201);
    conforms(showDocument(operatorExportResource), await json(exp));
    conforms(listDocument(operatorExportResource), await json(await admin("GET", "/cdr-exports")));

    const invalid = await admin("POST", "/contractors", { data: { type: "contractors", attributes: {} } });
    expect(invalid.status).toBe(422);
    conforms(errorDocument, await json(invalid));
    const unauthorized = await call(`${ADMIN}/contractors`);
    conforms(errorDocument, await json(unauthorized));
  });
});

describe("the customer routers' validation hook", () => {
  it("answers a definition's failed validation with the JSON:API 400 that app.onError renders", async () => {
    // The customer definitions declare nothing a validator can refuse; a definition that did would get this.
    const router = customerRouter();
    router.openapi(
      createRoute({
        method: "get",
        path: "/",
        request: { query: z.object({ n: z.string() }) },
        responses: { 204: { description: "ok" } },
      }),
      (c) => c.body(null, 204),
    );
    let thrown: unknown;
    router.onError((error, c) => {
      thrown = error;
      return c.body(null, 500);
    });
    expect((await router.request("/?n=1")).status).toBe(204);
    await router.request("/");
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).status).toBe(400);
    expect((thrown as ApiError).errors).toEqual([
      {
        title: "Bad Request",
        detail: "Invalid input: expected string, received undefined",
        code: "400",
        status: "400",
      },
    ]);
  });
});

describe("/docs", () => {
  it("serves a page that loads Swagger UI from this Worker and the customer document", async () => {
    const res = await call(`${BASE}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = await res.text();
    for (const asset of ["swagger-ui.css", "swagger-ui-bundle.js", "docs.js"]) {
      expect(html).toContain(`/docs/assets/${asset}`);
    }
    // Nothing from elsewhere: the page works without internet access.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const script = await (await call(`${BASE}/docs/assets/docs.js`)).text();
    expect(script).toContain('"/api/rest/customer/v1/openapi.json"');
    expect(script).toContain('"/api/rest/admin/openapi.json"');
    expect(script).toContain("validatorUrl: null");
  });

  it.each([
    ["swagger-ui-bundle.js", /^text\/javascript/, "SwaggerUIBundle"],
    ["swagger-ui.css", /^text\/css/, ".swagger-ui"],
    ["docs.js", /^text\/javascript/, "SwaggerUIBundle("],
  ])("serves %s", async (name, type, marker) => {
    const res = await call(`${BASE}/docs/assets/${name}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(type);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=3600");
    const etag = res.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await res.text()).toContain(marker);
    const again = await call(`${BASE}/docs/assets/${name}`, { headers: { "If-None-Match": etag as string } });
    expect(again.status).toBe(304);
  });

  it("answers 404 for an unknown asset", async () => {
    const res = await call(`${BASE}/docs/assets/nope.js`);
    expect(res.status).toBe(404);
    conforms(errorDocument, await json(res));
  });
});
