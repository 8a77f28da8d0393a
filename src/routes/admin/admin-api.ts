// The operator API's routers under one OpenAPIHono (mounted at ADMIN_BASE by the app, behind the operator
// token), and the operator OpenAPI document generated from their definitions.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../context";
import { adminAccounts } from "./accounts";
import { adminApiAccesses } from "./api-accesses";
import { adminCdrExports } from "./cdr-exports";
import { adminCdrs } from "./cdrs";
import { adminContractors } from "./contractors";
import { adminCustomerTokens } from "./customer-tokens";
import { adminOpenApiDocument } from "./openapi";

export const adminRoutes = new OpenAPIHono<AppEnv>()
  .route("/contractors", adminContractors)
  .route("/accounts", adminAccounts)
  .route("/api-accesses", adminApiAccesses)
  .route("/cdrs", adminCdrs)
  .route("/cdr-exports", adminCdrExports)
  .route("/customer-tokens", adminCustomerTokens);

/** `GET /api/rest/admin/openapi.json`: the document of every route above, `servers` = the request's origin. */
export function operatorOpenApiDocument(origin: string) {
  return adminOpenApiDocument(adminRoutes, origin);
}
