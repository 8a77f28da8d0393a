// `/docs`: Swagger UI for both OpenAPI documents, served whole by the Worker (no CDN, so it works offline).
// The UI's JS and CSS come from the swagger-ui-dist package, bundled as text (wrangler.toml `rules`).
import { Hono } from "hono";
import swaggerUiCss from "swagger-ui-dist/swagger-ui.css";
import swaggerUiBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import type { AppEnv } from "../context";

export const DOCS_BASE = "/docs";
export const CUSTOMER_OPENAPI_PATH = "/api/rest/customer/v1/openapi.json";
export const ADMIN_OPENAPI_PATH = "/api/rest/admin/openapi.json";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CDR Exports API</title>
<link rel="stylesheet" href="${DOCS_BASE}/assets/swagger-ui.css">
<style>
  body { margin: 0; font-family: sans-serif; }
  .docs-bar { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: center; padding: .75rem 1.5rem;
    background: #1b1b1b; color: #fff; }
  .docs-bar a { color: #fff; margin-right: 1rem; }
  .docs-bar a[aria-current] { font-weight: bold; text-decoration: none; border-bottom: 2px solid #89bf04; }
  .docs-bar form:not([hidden]) { display: flex; gap: .5rem; align-items: center; }
  .docs-hint { margin: 1rem 1.5rem 0; color: #3b4151; }
</style>
</head>
<body>
<header class="docs-bar">
  <strong>CDR Exports API</strong>
  <nav>
    <a id="nav-customer" href="${DOCS_BASE}">Customer API v1</a>
    <a id="nav-admin" href="${DOCS_BASE}?api=admin">Operator API</a>
  </nav>
  <form id="admin-token" hidden>
    <label>Operator token <input type="password" name="token" autocomplete="off" required></label>
    <button type="submit">Load</button>
    <span role="status"></span>
  </form>
</header>
<p class="docs-hint" id="hint-customer" hidden>
  Try it: <b>Authorize</b> → paste the token <code>npm start</code> printed into <i>customerJwt</i> →
  open <b>POST /cdr-exports</b>, put your account's uuid into the example body, <b>Execute</b>.
  The document itself: <a href="${CUSTOMER_OPENAPI_PATH}">${CUSTOMER_OPENAPI_PATH}</a>.
</p>
<p class="docs-hint" id="hint-admin" hidden>
  The operator document (<code>${ADMIN_OPENAPI_PATH}</code>) needs the operator token
  (<code>ADMIN_API_TOKEN</code>; <code>dev-admin-token</code> locally); it is kept for this tab only.
</p>
<div id="swagger-ui"></div>
<script src="${DOCS_BASE}/assets/swagger-ui-bundle.js"></script>
<script src="${DOCS_BASE}/assets/docs.js"></script>
</body>
</html>
`;

// The page's own script (a file, not inline, so a Content-Security-Policy without 'unsafe-inline' fits it).
const SCRIPT = `"use strict";
(() => {
  const api = new URLSearchParams(location.search).get("api") === "admin" ? "admin" : "customer";
  document.getElementById("nav-" + api).setAttribute("aria-current", "page");
  document.getElementById("hint-" + api).hidden = false;
  const options = {
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout",
  };
  if (api === "customer") {
    SwaggerUIBundle({ ...options, url: ${JSON.stringify(CUSTOMER_OPENAPI_PATH)}, persistAuthorization: true });
    return;
  }
  const form = document.getElementById("admin-token");
  const input = form.elements.token;
  const status = form.querySelector("[role=status]");
  form.hidden = false;
  input.value = sessionStorage.getItem("cdr-exports-admin-token") || "";
  async function load(token) {
    status.textContent = "";
    const res = await fetch(${JSON.stringify(ADMIN_OPENAPI_PATH)}, { headers: { Authorization: "Bearer " + token } });
    if (!res.ok) {
      status.textContent = res.status === 401 ? "This token was refused." : "Could not load: HTTP " + res.status;
      return;
    }
    sessionStorage.setItem("cdr-exports-admin-token", token);
    const spec = await res.json();
    const ui = SwaggerUIBundle({ ...options, spec, onComplete: () => ui.preauthorizeApiKey("adminBearer", token) });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(input.value.trim());
  });
  if (input.value) load(input.value);
})();
`;

const ASSETS: Record<string, { body: string; type: string }> = {
  "swagger-ui-bundle.js": { body: swaggerUiBundle, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { body: swaggerUiCss, type: "text/css; charset=utf-8" },
  "docs.js": { body: SCRIPT, type: "text/javascript; charset=utf-8" },
};

const etags = new Map<string, Promise<string>>();

/** A strong ETag of the asset, computed once per isolate (the etag middleware keeps a given ETag). */
function etagOf(name: string, body: string): Promise<string> {
  let tag = etags.get(name);
  if (!tag) {
    tag = crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)).then((d) => {
      const hex = [...new Uint8Array(d).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
      return `"${hex}"`;
    });
    etags.set(name, tag);
  }
  return tag;
}

export const docs = new Hono<AppEnv>();

docs.get("/", (c) => c.html(PAGE));

docs.get("/assets/:name", async (c) => {
  const name = c.req.param("name");
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (!asset) return c.notFound();
  return c.body(asset.body, 200, {
    "Content-Type": asset.type,
    "Cache-Control": "public, max-age=3600",
    ETag: await etagOf(name, asset.body),
  });
});
