// `npm start`: local secrets, local migrations, `wrangler dev` on 127.0.0.1:8787 (`--port N` or PORT for
// another), demo data when empty, and a ready token with a curl line. Other arguments go to `wrangler dev`
// (e.g. `-- --var NAME:value`).
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { SignJWT } from "jose";
import { generateCdrs } from "./cdr-generator.mjs";
import { ACCOUNT, BIG_ACCOUNT, CUSTOMER_ID, SIBLING_ACCOUNT } from "./pg/fixture.mjs";

const HOST = "127.0.0.1";
const DEMO_LOGIN = "demo";
const DEMO_PASSWORD = "demo-password";
/** The demo account that holds the demo CDRs (the other one, in EUR, has none). */
const DEMO_ACCOUNT = "Demo Account USD";
const DEMO_CDRS = 5000;
const DEFAULT_TOKEN_LIFETIME = 8 * 3600;

/** `--port N` / `--port=N` (else PORT, else 8787) is taken out: it is given to wrangler dev once. */
function splitPort(args) {
  let port = process.env.PORT || "8787";
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--port(?:=(.*))?$/.exec(args[i]);
    if (!m) rest.push(args[i]);
    else if (m[1] !== undefined) port = m[1];
    else port = args[++i] ?? port;
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    console.error(`npm start: the port must be a number from 1 to 65535, not ${JSON.stringify(port)}`);
    process.exit(2);
  }
  return { port: Number(port), rest };
}

const { port: PORT, rest: extraArgs } = splitPort(process.argv.slice(2));
const BASE = `http://${HOST}:${PORT}`;

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example");
}

/** .dev.vars, overridden by `--var NAME:value` arguments as wrangler dev does. */
function secrets() {
  const vars = {};
  for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line);
    if (m) vars[m[1]] = m[2];
  }
  extraArgs.forEach((arg, i) => {
    if (arg === "--var" && extraArgs[i + 1]) {
      const [name, ...value] = extraArgs[i + 1].split(":");
      vars[name] = value.join(":");
    }
  });
  return vars;
}

const migrate = spawnSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" },
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const vars = secrets();
const postgres = vars.CDR_SOURCE === "postgres";
const YETI_LOGIN = "yeti-demo";
// Tokens that expire, as the README's production checklist recommends, unless .dev.vars or --var say otherwise.
const configured = vars.CUSTOMER_V1_TOKEN_LIFETIME;
const lifetimeArgs =
  configured === undefined ? ["--var", `CUSTOMER_V1_TOKEN_LIFETIME:${DEFAULT_TOKEN_LIFETIME}`] : [];
const lifetime = configured === undefined ? DEFAULT_TOKEN_LIFETIME : Number(configured) || 0;

const dev = spawn(
  "npx",
  ["wrangler", "dev", "--ip", HOST, "--port", String(PORT), ...lifetimeArgs, ...extraArgs],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => dev.kill(signal));
dev.on("exit", (code) => process.exit(code ?? 0));

const adminToken = vars.ADMIN_API_TOKEN.split(",")[0].trim();

async function admin(method, path, body, type = "application/vnd.api+json") {
  const res = await fetch(`${BASE}/api/rest/admin${path}`, {
    method,
    headers: { Authorization: `Bearer ${adminToken}`, "Content-Type": type },
    body: typeof body === "string" ? body : body && JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function waitForServer() {
  for (let i = 0; i < 600; i++) {
    try {
      await fetch(`${BASE}/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error("wrangler dev did not start");
}

/** POST that takes 409 (the record exists) as done. */
async function ensure(path, body) {
  try {
    await admin("POST", path, body);
  } catch (error) {
    if (!String(error).includes(": 409 ")) throw error;
  }
}

/**
 * CDR_SOURCE=postgres: the CDRs are in the database scripts/pg/setup.sh seeds; the customer and accounts
 * they name are created here under Yeti's ids and uuids (scripts/pg/fixture.mjs), with an API access.
 */
async function seedYeti() {
  await ensure("/contractors", {
    data: {
      type: "contractors",
      id: String(CUSTOMER_ID),
      attributes: { name: "Yeti Customer", customer: true },
    },
  });
  for (const account of [ACCOUNT, SIBLING_ACCOUNT, BIG_ACCOUNT]) {
    await ensure("/accounts", {
      data: {
        type: "accounts",
        id: String(account.id),
        attributes: { name: `Yeti Account ${account.id}`, uuid: account.uuid },
        relationships: { contractor: { data: { type: "contractors", id: String(CUSTOMER_ID) } } },
      },
    });
  }
  const accesses = await admin("GET", "/api-accesses?page[size]=1000");
  let access = accesses.data.find((a) => a.attributes.login === YETI_LOGIN);
  if (!access) {
    access = (
      await admin("POST", "/api-accesses", {
        data: {
          type: "api-accesses",
          attributes: { login: YETI_LOGIN, password: DEMO_PASSWORD },
          relationships: { customer: { data: { type: "contractors", id: String(CUSTOMER_ID) } } },
        },
      })
    ).data;
  }
  return { accessId: access.id, accountUuid: ACCOUNT.uuid, seeded: true };
}

async function seed() {
  if (postgres) return seedYeti();
  const existing = await admin("GET", "/api-accesses?page[size]=1");
  if (existing.meta["total-count"] > 0) {
    const access = existing.data.find((a) => a.attributes.login === DEMO_LOGIN) ?? existing.data[0];
    const accounts = await admin("GET", "/accounts?page[size]=1000");
    const account = accounts.data.find((a) => a.attributes.name === DEMO_ACCOUNT) ?? accounts.data[0];
    return { accessId: access.id, accountUuid: account?.attributes.uuid, seeded: false };
  }
  const customer = await admin("POST", "/contractors", {
    data: { type: "contractors", attributes: { name: "Demo Customer", customer: true } },
  });
  const accounts = [];
  for (const name of [DEMO_ACCOUNT, "Demo Account EUR"]) {
    const account = await admin("POST", "/accounts", {
      data: {
        type: "accounts",
        attributes: { name, balance: "100.0", currency: name.endsWith("EUR") ? "EUR" : "USD" },
        relationships: { contractor: { data: { type: "contractors", id: customer.data.id } } },
      },
    });
    accounts.push(account.data);
  }
  const access = await admin("POST", "/api-accesses", {
    data: {
      type: "api-accesses",
      attributes: { login: DEMO_LOGIN, password: DEMO_PASSWORD },
      relationships: { customer: { data: { type: "contractors", id: customer.data.id } } },
    },
  });
  const now = Date.now();
  const lines = [];
  for (const cdr of generateCdrs({
    count: DEMO_CDRS,
    seed: 42,
    accountId: Number(accounts[0].id),
    customerId: Number(customer.data.id),
    fromMs: now - 7 * 86_400_000,
    toMs: now,
  })) {
    lines.push(JSON.stringify(cdr));
  }
  await admin("POST", "/cdrs", `${lines.join("\n")}\n`, "application/x-ndjson");
  return { accessId: access.data.id, accountUuid: accounts[0].attributes.uuid, seeded: true };
}

await waitForServer();
const demo = await seed();
const demoToken = new SignJWT({ sub: Number(demo.accessId), aud: ["customer-v1"] })
  .setProtectedHeader({ alg: "HS256" })
  .setIssuedAt();
if (lifetime) demoToken.setExpirationTime(Math.floor(Date.now() / 1000) + lifetime);
const token = await demoToken.sign(new TextEncoder().encode(vars.CUSTOMER_V1_JWT_SECRET));
const expiry = lifetime
  ? `expires in ${lifetime} s, CUSTOMER_V1_TOKEN_LIFETIME=${lifetime}`
  : "no expiry: CUSTOMER_V1_TOKEN_LIFETIME is empty";
// The demo CDRs span the last week; with PostgreSQL: the published example's request, on the seeded day.
const [from, to] = postgres
  ? ["2019-01-01 00:00:00", "2019-01-02 00:00:00"]
  : [new Date(Date.now() - 7 * 86_400_000).toISOString(), new Date(Date.now() + 3600_000).toISOString()];
const filters = postgres
  ? { time_start_gteq: from, time_start_lt: to, success_eq: true }
  : { time_start_gteq: from, time_start_lt: to };
const body = JSON.stringify({
  data: {
    type: "cdr-exports",
    attributes: { filters },
    relationships: { account: { data: { type: "accounts", id: demo.accountUuid } } },
  },
});
const created = postgres
  ? `CDR_SOURCE=postgres: exports read cdr.cdr through CDR_DB (scripts/pg/setup.sh); Yeti's customer ${CUSTOMER_ID} and its accounts are in D1, API access "${YETI_LOGIN}" / "${DEMO_PASSWORD}".`
  : demo.seeded
    ? `Demo data created: customer, two accounts, API access "${DEMO_LOGIN}" / "${DEMO_PASSWORD}", ${DEMO_CDRS} CDRs of the last week on "${DEMO_ACCOUNT}".`
    : "Local database already has data; demo data left as it is.";
console.log(`
${created}
Serving on ${BASE}   (interactive API docs: ${BASE}/docs — paste the token below under "Authorize")

Token (API access ${demo.accessId}; ${expiry}), the account with the CDRs, and their time range
(the README's walk-through uses these):
  export TOKEN=${token}
  export ACCOUNT=${demo.accountUuid} FROM='${from}' TO='${to}'

Create an export${postgres ? " (the published example's day)" : " of the last week"}:
  curl -s -X POST ${BASE}/api/rest/customer/v1/cdr-exports -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/vnd.api+json" -d '${body}'
`);
