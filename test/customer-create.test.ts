import { describe, expect, it } from "vitest";
import { createBody, customer, json, tenant } from "./helpers/api";

describe("POST /cdr-exports", () => {
  it("answers the published example with a 201 of the same shape", async () => {
    const t = await tenant();
    const res = await customer(t.auth, "POST", "/cdr-exports", {
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
    const body = await json<{ data: Record<string, any> }>(res);
    const id = body.data.id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
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
    expect(body.data.attributes.status).toBe("Pending");
    expect(body.data.attributes["rows-count"]).toBeNull();
    expect(body.data.attributes["created-at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.data.relationships.account).toEqual({
      links: {
        self: `http://example.org/api/rest/customer/v1/cdr-exports/${id}/relationships/account`,
        related: `http://example.org/api/rest/customer/v1/cdr-exports/${id}/account`,
      },
    });
  });

  it("smoke: validation", async () => {
    const t = await tenant();
    const res = await customer(t.auth, "POST", "/cdr-exports", createBody(null, { filters: {} }));
    expect(res.status).toBe(422);
    console.log(await res.text());
  });
});
