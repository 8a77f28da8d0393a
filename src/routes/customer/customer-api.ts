// The customer API's routers under one OpenAPIHono (mounted at CUSTOMER_BASE by the app), and the customer
// OpenAPI document generated from their definitions.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../context";
import { customerAccounts } from "./accounts";
import { auth } from "./auth";
import { cdrExports } from "./cdr-exports";
import { customerApiDocument } from "./openapi";
import { signedDownloads } from "./signed-download";

export const customerRoutes = new OpenAPIHono<AppEnv>()
  .route("/auth", auth)
  .route("/accounts", customerAccounts)
  .route("/cdr-exports", cdrExports)
  .route("/cdr-export-files", signedDownloads);

/** `GET /api/rest/customer/v1/openapi.json`: the document of every route above, `servers` = the request's origin. */
export function customerOpenApiDocument(origin: string) {
  return customerApiDocument(customerRoutes, origin);
}
