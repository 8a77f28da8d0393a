// The HTTP app: shared middleware, the customer and operator routers, and the one error renderer.
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { adminAuth } from "./auth/admin-auth";
import { MAX_INGEST_BYTES } from "./cdrs/ingest";
import type { AppEnv } from "./context";
import { ApiError } from "./errors";
import { portalCors } from "./http/cors";
import { BOOKMARK_HEADER, d1Session } from "./http/d1-session";
import { JSON_API, MAX_BODY_BYTES, origin } from "./http/json-api";
import { errorFields, log } from "./log";
import { DOCS_BASE, docs } from "./openapi/docs-page";
import { adminRoutes, operatorOpenApiDocument } from "./routes/admin/admin-api";
import { customerOpenApiDocument, customerRoutes } from "./routes/customer/customer-api";

const INGEST_PATH = "/api/rest/admin/cdrs";
// Hono's requestId takes [A-Za-z0-9_=-]{1,255}; ids with dots (trace-42.abc) were always taken too.
const REQUEST_ID = /^[A-Za-z0-9._-]{1,200}$/;

// strict: false — `/cdr-exports/` is the same route as `/cdr-exports`, as in Rails.
export const app = new Hono<AppEnv>({ strict: false });

app.use(
  requestId({
    limitLength: 200,
    generator: (c) => {
      const given = c.req.header("X-Request-Id");
      return given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
  }),
);
// The security headers of Yeti's responses (Rails' defaults), and nothing Rails does not send.
app.use(
  secureHeaders({
    referrerPolicy: "strict-origin-when-cross-origin",
    crossOriginResourcePolicy: false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    strictTransportSecurity: false,
    xDnsPrefetchControl: false,
  }),
);
app.use(async (c, next) => {
  await next();
  // requestId sets its header before the handler runs, which a handler's own `new Response` (the
  // download) does not carry: set it again on the final response.
  c.header("X-Request-Id", c.get("requestId"));
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "max-age=0, private, must-revalidate");
  c.header("Vary", "Accept", { append: true });
});

function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, [
        { title: "Payload Too Large", detail: `The request body exceeds ${maxSize} bytes.` },
      ]);
    },
  });
}

const jsonBodyLimit = limitBody(MAX_BODY_BYTES);
const ingestBodyLimit = limitBody(MAX_INGEST_BYTES);
// CDR ingestion takes large NDJSON batches; every other body is a small JSON:API document.
// CORS first, so that every answer a portal gets (a 413 included) carries its headers.
app.use("/api/rest/customer/*", portalCors);
app.use((c, next) => (c.req.path === INGEST_PATH ? ingestBodyLimit(c, next) : jsonBodyLimit(c, next)));
// A 304 keeps Set-Cookie (a cookie-authenticated request gets its refreshed session cookie either way) and
// the D1 bookmark. JSON:API answers bring their own ETag (jsonApi); this one hashes the rest and answers 304s.
app.use(etag({ weak: true, retainedHeaders: [...RETAINED_304_HEADERS, "set-cookie", BOOKMARK_HEADER] }));
app.use("/api/rest/customer/*", d1Session);

const customer = new Hono<AppEnv>();
// The API description (no auth: it holds nothing a customer may not see), generated from the routes'
// definitions (src/routes/customer/*).
customer.get("/openapi.json", (c) => c.json(customerOpenApiDocument(origin(c))));
customer.route("/", customerRoutes);
app.route("/api/rest/customer/v1", customer);

const admin = new Hono<AppEnv>();
admin.use(adminAuth);
// Generated from the routes' definitions (src/routes/admin/*).
admin.get("/openapi.json", (c) => c.json(operatorOpenApiDocument(origin(c))));
admin.route("/", adminRoutes);
app.route("/api/rest/admin", admin);

// Swagger UI for both documents, its files served by the Worker.
app.route(DOCS_BASE, docs);

// The bare origin: where a visitor finds the docs, the two APIs and their documents.
app.get("/", (c) => {
  const base = origin(c);
  return c.json({
    meta: { name: "CDR Exports (Yeti customer API v1)" },
    links: {
      docs: `${base}${DOCS_BASE}`,
      "customer-api": `${base}/api/rest/customer/v1`,
      "customer-openapi": `${base}/api/rest/customer/v1/openapi.json`,
      "admin-api": `${base}/api/rest/admin`,
      "admin-openapi": `${base}/api/rest/admin/openapi.json`,
    },
  });
});

function render(c: Context<AppEnv>, status: number, errors: unknown[], headers: Record<string, string> = {}) {
  return c.body(JSON.stringify({ errors }), status as 400, { "Content-Type": JSON_API, ...headers });
}

app.notFound((c) =>
  render(c, 404, [
    { title: "Not Found", detail: "No route matches this request.", code: "404", status: "404" },
  ]),
);

app.onError((error, c) => {
  if (error instanceof ApiError) return render(c, error.status, error.errors, error.headers);
  if (error instanceof HTTPException && error.status < 500) {
    return render(c, error.status, [{ status: String(error.status), title: error.message || "Bad Request" }]);
  }
  log("error", "unhandled error", {
    requestId: c.get("requestId"),
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    ...errorFields(error),
  });
  return render(c, 500, [{ status: "500", title: "Internal Server Error", detail: "Internal Server Error" }]);
});
