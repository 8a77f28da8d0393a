// CORS for customer portals: only origins in CORS_ALLOWED_ORIGINS (https://portal.example.com in
// vitest.config.ts) get CORS headers, with credentials; preflights, actual requests, errors.
import { describe, expect, it } from "vitest";
import { ADMIN, ADMIN_TOKEN, CUSTOMER, call, JSON_API, tenant } from "./helpers/api";
import { AUTH, fetchWithVars, loginAccess, PASSWORD, sessionSetCookie } from "./helpers/login";

const PORTAL = "https://portal.example.com";
const CORS_HEADERS = [
  "Access-Control-Allow-Origin",
  "Access-Control-Allow-Credentials",
  "Access-Control-Allow-Methods",
  "Access-Control-Allow-Headers",
  "Access-Control-Expose-Headers",
  "Access-Control-Max-Age",
];

function preflightInit(origin: string | null, method = "POST"): RequestInit {
  return {
    method: "OPTIONS",
    headers: {
      ...(origin === null ? {} : { Origin: origin }),
      "Access-Control-Request-Method": method,
      "Access-Control-Request-Headers": "authorization,content-type",
    },
  };
}

function preflight(url: string, origin: string | null, method = "POST") {
  return call(url, preflightInit(origin, method));
}

function noCorsHeaders(res: Response) {
  for (const name of CORS_HEADERS) expect(res.headers.get(name), name).toBeNull();
}

function list(t: { auth: string }, origin?: string) {
  return call(`${CUSTOMER}/cdr-exports`, {
    headers: { Authorization: t.auth, Accept: JSON_API, ...(origin ? { Origin: origin } : {}) },
  });
}

/** Origins that must not pass for PORTAL: other schemes, ports, hosts and look-alikes. */
const REFUSED = [
  "https://evil.example.com",
  "http://portal.example.com",
  "https://portal.example.com:8443",
  "https://portal.example.com.evil.test",
  "https://evilportal.example.com",
  "https://sub.portal.example.com",
  "null",
  `${PORTAL}/`,
  "HTTPS://PORTAL.EXAMPLE.COM",
  `${PORTAL}, https://evil.example.com`,
];

describe("preflight (OPTIONS with Access-Control-Request-Method)", () => {
  it("from an allowed origin: 204 with Allow-Origin, -Credentials, -Methods and -Headers", async () => {
    for (const path of [
      "/cdr-exports",
      "/cdr-exports/0f1e2d3c-0000-4000-8000-000000000000/download",
      "/auth",
    ]) {
      const res = await preflight(`${CUSTOMER}${path}`, PORTAL);
      expect(res.status, path).toBe(204);
      expect(await res.text()).toBe("");
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
      expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
      const methods = (res.headers.get("Access-Control-Allow-Methods") ?? "").split(/,\s*/);
      expect(methods).toEqual(expect.arrayContaining(["GET", "POST", "DELETE"]));
      const headers = (res.headers.get("Access-Control-Allow-Headers") ?? "").toLowerCase().split(/,\s*/);
      expect(headers).toEqual(
        expect.arrayContaining(["authorization", "content-type", "idempotency-key", "x-d1-bookmark"]),
      );
      expect(res.headers.get("Vary")).toMatch(/\bOrigin\b/);
    }
  });

  it("needs no token (a browser sends none in a preflight)", async () => {
    const res = await preflight(`${CUSTOMER}/cdr-exports`, PORTAL, "GET");
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
  });

  it("from a refused origin, or without one: no CORS headers", async () => {
    for (const origin of [...REFUSED, null]) {
      const res = await preflight(`${CUSTOMER}/cdr-exports`, origin);
      expect(res.status).toBeLessThan(500);
      noCorsHeaders(res);
    }
  });

  it("the operator API gets no CORS, even from an allowed origin", async () => {
    const res = await preflight(`${ADMIN}/contractors`, PORTAL, "GET");
    noCorsHeaders(res);
  });
});

describe("actual requests", () => {
  it("from an allowed origin carry Allow-Origin, -Credentials and the exposed headers", async () => {
    const t = await tenant();
    const res = await list(t, PORTAL);
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    const exposed = (res.headers.get("Access-Control-Expose-Headers") ?? "").split(/,\s*/);
    expect(exposed).toEqual(
      expect.arrayContaining(["Content-Disposition", "Retry-After", "X-Request-Id", "X-D1-Bookmark"]),
    );
    expect(res.headers.get("Vary")).toMatch(/\bOrigin\b/);
  });

  it("from a refused origin, or without one, carry none (but still Vary: Origin)", async () => {
    const t = await tenant();
    for (const origin of [...REFUSED, undefined]) {
      const res = await list(t, origin);
      expect(res.status).toBe(200);
      noCorsHeaders(res);
      expect(res.headers.get("Vary")).toMatch(/\bOrigin\b/);
    }
  });

  it("errors from an allowed origin carry them too, so the portal can read them", async () => {
    const res = await call(`${CUSTOMER}/cdr-exports`, {
      headers: { Origin: PORTAL, Authorization: "Bearer nope" },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    const missing = await call(`${CUSTOMER}/nothing-here`, { headers: { Origin: PORTAL } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
  });

  it("a cookie login from the portal: 201 with the cookie and credentials allowed; logout likewise", async () => {
    const a = await loginAccess();
    const res = await call(AUTH, {
      method: "POST",
      headers: { Origin: PORTAL, "Content-Type": "application/json" },
      body: JSON.stringify({ auth: { login: a.login, password: PASSWORD, cookie_auth: true } }),
    });
    expect(res.status).toBe(201);
    expect(sessionSetCookie(res)).not.toBeNull();
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    const cookie = (sessionSetCookie(res) ?? "").split(";")[0] ?? "";
    const check = await call(AUTH, { headers: { Origin: PORTAL, Cookie: cookie } });
    expect(check.status).toBe(200);
    expect(check.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
    const logout = await call(AUTH, { method: "DELETE", headers: { Origin: PORTAL } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get("Access-Control-Allow-Origin")).toBe(PORTAL);
  });

  it("the operator API carries none, even from an allowed origin", async () => {
    const res = await call(`${ADMIN}/contractors`, {
      headers: { Origin: PORTAL, Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    noCorsHeaders(res);
  });
});

describe("CORS_ALLOWED_ORIGINS", () => {
  const A = "https://a.example.net";
  const B = "http://localhost:5173";

  async function allowedWith(config: string, origin: string): Promise<string | null> {
    const res = await fetchWithVars(new Request(`${CUSTOMER}/cdr-exports`, preflightInit(origin, "GET")), {
      CORS_ALLOWED_ORIGINS: config,
    });
    expect(res.status).toBe(204);
    return res.headers.get("Access-Control-Allow-Origin");
  }

  it("takes a comma-separated list, each origin answered with itself", async () => {
    const config = ` ${A} ,${B},`;
    expect(await allowedWith(config, A)).toBe(A);
    expect(await allowedWith(config, B)).toBe(B);
    expect(await allowedWith(config, "http://localhost:5174")).toBeNull();
    expect(await allowedWith(config, PORTAL)).toBeNull();
  });

  it("matches entries written with a trailing slash or upper case", async () => {
    expect(await allowedWith("https://A.Example.net/", A)).toBe(A);
    expect(await allowedWith("http://localhost:5173/app", B)).toBe(B);
  });

  it("empty (the default): no origin gets CORS headers", async () => {
    for (const origin of [A, PORTAL]) expect(await allowedWith("", origin)).toBeNull();
    const t = await tenant();
    const res = await fetchWithVars(
      new Request(`${CUSTOMER}/cdr-exports`, { headers: { Authorization: t.auth, Origin: PORTAL } }),
      { CORS_ALLOWED_ORIGINS: "" },
    );
    expect(res.status).toBe(200);
    noCorsHeaders(res);
  });

  it("a wildcard is not honoured (credentials must never go to any origin)", async () => {
    expect(await allowedWith("*", A)).toBeNull();
  });
});
