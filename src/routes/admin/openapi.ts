// The operator routes' one definition: OpenAPIHono routers whose validation failures throw the app's ApiError
// (rendered by app.onError), and the error responses their route definitions share.
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../context";
import { ApiError, validationError } from "../../errors";
import { JSON_API } from "../../http/json-api";
import { errorDocument } from "../../openapi/schemas";

type Target = "json" | "form" | "query" | "param" | "header" | "cookie";

function pointer(path: PropertyKey[]): string {
  return path.map((p) => `/${String(p).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/**
 * A failed request schema: a body problem is a 422 pointing into the body (as parseWith answers), a path
 * parameter that cannot name a record is a 404, a query or header problem a 400 naming the parameter.
 */
export function requestError(target: Target, error: z.ZodError): ApiError {
  if (target === "json" || target === "form") {
    return validationError(
      error.issues.map((issue) => ({
        key: String(issue.path[0] ?? "data"),
        message: issue.message,
        pointer: pointer(issue.path),
      })),
    );
  }
  if (target === "param") return ApiError.notFound();
  return new ApiError(
    400,
    error.issues.map((issue) => ({
      title: "Invalid parameter",
      detail: `${issue.path.map(String).join(".")} - ${issue.message}`,
      source: target === "query" ? { parameter: String(issue.path[0] ?? "") } : { header: String(issue.path[0]) },
    })),
  );
}

/** A router of the operator API: every route is a createRoute definition, validated by its own schemas. */
export function adminRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw requestError(result.target as Target, result.error);
    },
  });
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Bad request: the document's frame is wrong (no `data`, a wrong `type`, an attribute or relationship that is not allowed), the body is not JSON, or a query parameter is not valid.",
  401: "Unauthorized: no valid operator token.",
  404: "Not found.",
  409: "Conflict.",
  413: "Payload too large.",
  415: "Unsupported media type.",
  422: "Validation failed: one error object per problem, `detail` as `<key> - <message>`, `source.pointer` into the body.",
  429: "Too many requests; `Retry-After` says when to try again.",
};

/** The error responses of a route: each a JSON:API error document. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status] ?? "Error.",
        content: { [JSON_API]: { schema: errorDocument } },
      },
    ]),
  );
}

/** A JSON:API response of `schema`. */
export function jsonApiResponse(description: string, schema: z.ZodType) {
  return { description, content: { [JSON_API]: { schema } } };
}

/** A JSON:API request body (`application/json` is accepted too). */
export function jsonApiRequest<S extends z.ZodType>(schema: S, description?: string) {
  return {
    required: true,
    ...(description ? { description } : {}),
    content: { [JSON_API]: { schema }, "application/json": { schema } },
  };
}
