// src/config.ts: every var parsed once, with its default; invalid tunables fall back, two things fail loud.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tokenLifetime } from "../../src/auth/customer-token";
import { ConfigError, config } from "../../src/config";

const withVars = (vars: Record<string, string | undefined>) => ({ ...env, ...vars }) as Env;

describe("config", () => {
  it("gives wrangler.toml's values typed", () => {
    const c = config(env);
    expect(c.EXPORT_PAGE_ROWS).toBe(4000);
    expect(c.EXPORT_GZIP_LEVEL).toBe(1);
    expect(c.EXPORT_NEUTRALISE_FORMULAS).toBe(false);
    expect(c.CUSTOMER_V1_TOKEN_LIFETIME).toBeNull();
    expect(c.ADMIN_API_TOKEN).toEqual(["test-admin-token-old", "test-admin-token"]);
    expect(c.CORS_ALLOWED_ORIGINS).toEqual(["https://portal.example.com"]);
  });

  it.each([
    ["EXPORT_PAGE_ROWS", " 250 ", 250],
    ["EXPORT_PAGE_ROWS", "0", 4000],
    ["EXPORT_PAGE_ROWS", "1.5", 4000],
    ["EXPORT_PAGE_ROWS", "fast", 4000],
    ["EXPORT_PAGE_ROWS", undefined, 4000],
    ["EXPORT_GZIP_LEVEL", "9", 9],
    ["EXPORT_GZIP_LEVEL", "12", 1],
    ["EXPORT_STUCK_MINUTES", "0.5", 0.5],
    ["EXPORT_STUCK_MINUTES", "-1", 3],
    ["EXPORT_RETENTION_DAYS", "", 7],
    ["DOWNLOAD_URL_TTL_SECONDS", "60", 60],
    ["TRUST_PROXY", "true", true],
    ["TRUST_PROXY", "TRUE", false],
    ["CDR_SOURCE", " postgres ", "postgres"],
    ["CDR_SOURCE", "", "d1"],
    ["CDR_PG_TABLE", undefined, "cdr"],
    ["R2_BUCKET_NAME", "", undefined],
    ["CALLBACK_DNS_RESOLVER", "", "https://cloudflare-dns.com/dns-query"],
    ["CUSTOMER_HIDDEN_COLUMNS", " duration, ,local_tag", ["duration", "local_tag"]],
    ["CORS_ALLOWED_ORIGINS", "https://A.Example.net/app, *", ["https://a.example.net", "*"]],
  ] as const)("%s=%j reads as %j", (name, value, expected) => {
    expect(config(withVars({ [name]: value }))[name]).toEqual(expected);
  });

  it("fails loud without CUSTOMER_V1_JWT_SECRET", () => {
    expect(() => config(withVars({ CUSTOMER_V1_JWT_SECRET: undefined }))).toThrow(ConfigError);
  });

  it("fails loud for a token lifetime that is not whole seconds, when a token is issued", () => {
    expect(tokenLifetime(withVars({ CUSTOMER_V1_TOKEN_LIFETIME: "3600" }))).toBe(3600);
    for (const lifetime of ["8h", "0", "-5", "1.5"]) {
      const e = withVars({ CUSTOMER_V1_TOKEN_LIFETIME: lifetime });
      expect(config(e).EXPORT_PAGE_ROWS).toBe(4000);
      expect(() => tokenLifetime(e)).toThrow("CUSTOMER_V1_TOKEN_LIFETIME must be a positive integer");
    }
  });
});
