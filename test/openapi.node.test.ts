// Both OpenAPI documents are valid OpenAPI 3.1, checked by a kept validator (its JSON-schema compiler
// generates code from strings, which workerd forbids: this file runs in Node, see vitest.config.ts).
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it, vi } from "vitest";
import { operatorOpenApiDocument } from "../src/routes/admin/admin-api";
import { customerOpenApiDocument } from "../src/routes/customer/customer-api";

// The operator routes reach the PostgreSQL source's socket module, a workerd built-in that Node lacks; the
// documents never open a socket.
vi.mock("cloudflare:sockets", () => ({ connect: () => Promise.reject(new Error("no sockets in Node")) }));

const ORIGIN = "http://127.0.0.1:8787";

describe.each([
  ["customer", customerOpenApiDocument],
  ["operator", operatorOpenApiDocument],
])("the %s OpenAPI document", (_name, generate) => {
  it("is valid OpenAPI 3.1", async () => {
    const validator = new Validator();
    // A copy: the validator may annotate what it is given.
    const result = await validator.validate(structuredClone(generate(ORIGIN)));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("resolves every $ref", () => {
    const refs = new Set<string>();
    JSON.stringify(generate(ORIGIN), (key, value) => {
      if (key === "$ref") refs.add(value as string);
      return value;
    });
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) {
      const target = ref
        .slice(2)
        .split("/")
        .reduce<unknown>(
          (node, part) => (node as Record<string, unknown> | undefined)?.[part],
          generate(ORIGIN),
        );
      expect(target, ref).toBeDefined();
    }
  });

  it("names this deployment as its server", () => {
    expect(generate(ORIGIN).servers).toEqual([{ url: ORIGIN, description: "This deployment" }]);
  });
});

it("the validator refuses a broken document (so its verdicts above mean something)", async () => {
  const broken = structuredClone(customerOpenApiDocument(ORIGIN)) as Record<string, unknown>;
  delete broken.info;
  const result = await new Validator().validate(broken);
  expect(result.valid).toBe(false);
});
