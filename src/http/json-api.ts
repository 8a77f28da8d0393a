// JSON:API plumbing shared by every route: media type, body reading, documents and links.
import type { AppContext } from "../context";
import { ApiError } from "../errors";

export const JSON_API = "application/vnd.api+json";
export const MAX_BODY_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * A JSON:API answer. A GET's 200 carries its weak ETag, the SHA-1 of the body bytes that are sent (what the
 * etag middleware would compute, without it cloning and reading the response again).
 */
export async function jsonApi(c: AppContext, body: unknown, status = 200): Promise<Response> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { "Content-Type": JSON_API };
  if (status !== 200 || (c.req.method !== "GET" && c.req.method !== "HEAD")) {
    return c.body(text, status as 200, headers);
  }
  const bytes = encoder.encode(text) as Uint8Array<ArrayBuffer>;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
  headers.ETag = `W/"${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}"`;
  return c.body(bytes, 200, headers);
}

/** Reads a JSON request body: 415 for another media type, 400 for malformed JSON or a non-object. */
export async function readJsonBody(c: AppContext): Promise<Record<string, unknown>> {
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== JSON_API && type !== "application/json") {
    throw new ApiError(415, [
      {
        title: "Unsupported media type",
        detail: `All requests that create or update must use the '${JSON_API}' Content-Type. This request specified '${type || "none"}'.`,
      },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await c.req.text());
  } catch {
    throw ApiError.badRequest("Bad Request", "The request body is not valid JSON.", { pointer: "" });
  }
  if (!isPlainObject(parsed)) {
    throw ApiError.badRequest("Bad Request", "The request body must be a JSON object.", { pointer: "" });
  }
  return parsed;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The request's origin, for absolute links like Yeti's (`http://example.org/api/...`). */
export function origin(c: AppContext): string {
  return new URL(c.req.url).origin;
}

export type ResourceInput = {
  id?: unknown;
  attributes: Record<string, unknown>;
  relationships: Record<string, unknown>;
};

/**
 * Checks a request document's frame the way jsonapi-resources does (400s): `data` present, the right
 * `type`, only writable attributes and relationships. Values are the caller's to validate (422s).
 */
export function resourceFromDocument(
  body: Record<string, unknown>,
  type: string,
  attributes: readonly string[],
  relationships: readonly string[],
): ResourceInput {
  const data = body.data;
  if (!isPlainObject(data)) {
    throw ApiError.badRequest("Missing Parameter", "The required parameter, data, is missing.", {
      pointer: "/data",
    });
  }
  if (data.type === undefined) {
    throw ApiError.badRequest("Missing Parameter", "The required parameter, type, is missing.", {
      pointer: "/data/type",
    });
  }
  if (data.type !== type) {
    throw ApiError.badRequest("Invalid resource", `${String(data.type)} is not a valid resource.`, {
      pointer: "/data/type",
    });
  }
  const attrs = data.attributes ?? {};
  const rels = data.relationships ?? {};
  for (const [name, value] of [
    ["attributes", attrs],
    ["relationships", rels],
  ] as const) {
    if (!isPlainObject(value)) {
      throw ApiError.badRequest("Bad Request", `${name} must be an object.`, { pointer: `/data/${name}` });
    }
  }
  const notAllowed = [
    ...Object.keys(attrs as object)
      .filter((k) => !attributes.includes(k))
      .map((k) => `/data/attributes/${k}`),
    ...Object.keys(rels as object)
      .filter((k) => !relationships.includes(k))
      .map((k) => `/data/relationships/${k}`),
  ];
  if (notAllowed.length) {
    throw new ApiError(
      400,
      notAllowed.map((pointer) => ({
        title: "Param not allowed",
        detail: `${pointer.split("/").pop()} is not allowed.`,
        source: { pointer },
      })),
    );
  }
  return {
    id: data.id,
    attributes: attrs as Record<string, unknown>,
    relationships: rels as Record<string, unknown>,
  };
}

/** `relationships.<name>.data` → { present, type, id }; `present` is false for a missing or null linkage. */
export function toOneLinkage(
  relationships: Record<string, unknown>,
  name: string,
): { present: false } | { present: true; type: unknown; id: unknown } {
  const rel = relationships[name];
  const data = isPlainObject(rel) ? rel.data : undefined;
  if (!isPlainObject(data)) return { present: false };
  return { present: true, type: data.type, id: data.id };
}
