// Tests run inside workerd with the bindings of wrangler.toml (local D1, R2, Queues, Hyperdrive).
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";

const NODE_TESTS = "test/**/*.node.test.ts";
const POSTGRES_TESTS = "test/pg/**/*.test.ts";

/** Secrets come from .dev.vars locally; tests pin their own values. */
const TEST_SECRETS = {
  CUSTOMER_V1_JWT_SECRET: "test-customer-v1-secret",
  ADMIN_API_TOKEN: "test-admin-token-old,test-admin-token",
};
// Wrangler's config reader warns about required secrets missing from .dev.vars, .env and process.env
// (once per test file): give it these.
Object.assign(process.env, TEST_SECRETS);

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  /** A workerd project: the Worker's bindings, with `vars` over wrangler.toml's. */
  const workers = (vars: Record<string, string>) =>
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          ...TEST_SECRETS,
          // A customer portal for the CORS tests; requests without an Origin header are unaffected.
          CORS_ALLOWED_ORIGINS: "https://portal.example.com",
          // No test reaches a public resolver: callback tests answer this one through their fetcher.
          CALLBACK_DNS_RESOLVER: "https://dns.test/dns-query",
          ...vars,
        },
        // The real bindings, with small limits in 10 s windows; keys are per (login, source address),
        // source address and customer, so tests with their own logins/addresses/customers are unaffected.
        // The rate-limit tests themselves swap in fake limiters whose windows they end (no waiting).
        // Queue batches are delivered at once (wrangler.toml waits up to 1 s and 5 s to fill them): the
        // tests that follow an export through the real queue wait for the export, not for the batch.
        queueConsumers: {
          "cdr-exports": {
            maxBatchSize: 1,
            maxBatchTimeout: 0,
            maxRetries: 5,
            deadLetterQueue: "cdr-exports-dlq",
          },
          "cdr-exports-dlq": { maxBatchSize: 10, maxBatchTimeout: 0 },
        },
        ratelimits: {
          LOGIN_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 5, period: 10 } },
          EXPORT_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 20, period: 10 } },
          LOGIN_SOURCE_RATE_LIMITER: { namespace_id: "1003", simple: { limit: 10, period: 10 } },
        },
      },
    });
  // Console output (the Worker's JSON log lines) is shown for failing tests only.
  const shared = {
    setupFiles: ["./test/apply-migrations.ts"],
    testTimeout: 60_000,
    silent: "passed-only" as const,
  };
  return {
    test: {
      // Console output (the Worker's JSON log lines) is shown for failing tests only.
      silent: "passed-only" as const,
      projects: [
        // Everything runs inside workerd, but `*.node.test.ts`: tools workerd cannot run (code generation
        // from strings, as ajv-based validators do) run in Node.
        {
          plugins: [workers({})],
          test: {
            ...shared,
            name: "workers",
            exclude: [...configDefaults.exclude, NODE_TESTS, POSTGRES_TESTS],
          },
        },
        // The PostgreSQL source: the Worker with CDR_SOURCE=postgres, reading the database that
        // scripts/pg/setup.sh seeds through the CDR_DB binding. The global setup (in Node) checks that the
        // database is there and prints, with psql, the files the exports must equal.
        {
          plugins: [workers({ CDR_SOURCE: "postgres" })],
          test: {
            ...shared,
            name: "postgres",
            include: [POSTGRES_TESTS],
            globalSetup: ["./test/pg/global-setup.ts"],
          },
        },
        { test: { name: "node", environment: "node", include: [NODE_TESTS] } },
      ],
    },
  };
});
