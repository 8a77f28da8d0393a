// GET /: a small JSON index for whoever opens the bare origin.
import { describe, expect, it } from "vitest";
import { call } from "./helpers/api";

describe("GET /", () => {
  it("answers with links to the docs, both API roots and both OpenAPI documents", async () => {
    const res = await call("https://cdr.example.com/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      meta: { name: "CDR Exports (Yeti customer API v1)" },
      links: {
        docs: "https://cdr.example.com/docs",
        "customer-api": "https://cdr.example.com/api/rest/customer/v1",
        "customer-openapi": "https://cdr.example.com/api/rest/customer/v1/openapi.json",
        "admin-api": "https://cdr.example.com/api/rest/admin",
        "admin-openapi": "https://cdr.example.com/api/rest/admin/openapi.json",
      },
    });
  });
});
