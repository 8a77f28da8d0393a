// A create request's document checked as jsonapi-resources 0.9 does before the resource's form runs
// (mime_types.rb's parser, request_parser.rb's parse_add_operation, verify_type, verify_permitted_params,
// parse_to_one_relationship): each malformed part is a 400 with the gem's error object.
import type { AppContext } from "../../context";
import { ApiError } from "../../errors";
import { isPlainObject, JSON_API } from "../json-api";
import { badRequest, type GemError, gemErrors } from "./errors";
import { underscore } from "./params";
import { verifyUuid } from "./request";

/** What a resource accepts on create: its type, writable attributes and to-one relationships (dasherized). */
export type CreatableSpec = {
  type: string;
  attributes: readonly string[];
  relationships: Readonly<Record<string, string>>;
};

export type CreateInput = {
  attributes: Record<string, unknown>;
  /** Each relationship sent: the linkage's id (a UUID as sent), or null for `data: null`. */
  relationships: Record<string, string | null>;
};

/**
 * The body as JSON: 415 for a media type other than JSON:API (plain JSON is served too), 400 for a body
 * that is not JSON or not an object.
 */
export async function readDocument(c: AppContext): Promise<unknown> {
  const header = c.req.header("Content-Type") ?? "";
  const type = header.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type !== JSON_API && type !== "application/json") {
    throw new ApiError(415, [
      {
        title: "Unsupported media type",
        detail: `All requests that create or update must use the '${JSON_API}' Content-Type. This request specified '${header}.'`,
        code: "415",
      },
    ]);
  }
  try {
    return JSON.parse(await c.req.text());
  } catch {
    throw badRequest(gemErrors.badRequest("The request body is not valid JSON."));
  }
}

/** Rails' `blank?`, which `params.require(:data)` applies. */
function blank(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return true;
  if (typeof value === "string") return value.trim() === "";
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

/** Ruby's `to_s` of a JSON value, as the gem interpolates it into a detail. */
function rubyString(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function check(body: unknown, spec: CreatableSpec): CreateInput {
  if (!isPlainObject(body)) throw badRequest(gemErrors.badRequest("Request must be a hash"));
  const data = body.data;
  if (blank(data)) throw badRequest(gemErrors.parameterMissing("data"));
  if (!isPlainObject(data)) throw badRequest(gemErrors.invalidDataFormat());
  if (data.type === undefined || data.type === null) throw badRequest(gemErrors.parameterMissing("type"));
  if (underscore(rubyString(data.type)) !== underscore(spec.type)) {
    throw badRequest(gemErrors.invalidResource(rubyString(data.type)));
  }
  const input: CreateInput = { attributes: {}, relationships: {} };
  for (const [key, value] of Object.entries(data)) {
    if (key === "type") continue;
    if (key === "attributes" || key === "relationships") {
      if (!isPlainObject(value)) throw badRequest(gemErrors.invalidDataFormat());
      const allowed = key === "attributes" ? spec.attributes : Object.keys(spec.relationships);
      for (const name of Object.keys(value)) {
        if (!allowed.includes(name)) throw badRequest(gemErrors.parameterNotAllowed(name));
      }
      if (key === "attributes") input.attributes = value;
      else {
        for (const [name, link] of Object.entries(value)) {
          input.relationships[name] = toOne(link, spec.relationships[name] as string);
        }
      }
      continue;
    }
    throw badRequest(gemErrors.parameterNotAllowed(key));
  }
  return input;
}

/** A to-one linkage: `{type, id}` exactly, of the relationship's type, the id a UUID; null for `data: null`. */
function toOne(link: unknown, type: string): string | null {
  if (link === null) return null;
  if (!isPlainObject(link)) throw badRequest(gemErrors.invalidLinksObject());
  const linkage = link.data;
  if (linkage === undefined || linkage === null) return null;
  if (
    !isPlainObject(linkage) ||
    Object.keys(linkage).length !== 2 ||
    !("type" in linkage) ||
    !("id" in linkage)
  ) {
    throw badRequest(gemErrors.invalidLinksObject());
  }
  const given = underscore(rubyString(linkage.type));
  if (given !== underscore(type)) throw badRequest(gemErrors.typeMismatch(given));
  if (linkage.id === null) return null;
  const id = rubyString(linkage.id);
  verifyUuid(id);
  return id;
}

/** The document's checks; the query's include errors come first (the gem collects both, answers them together). */
export function createInput(body: unknown, spec: CreatableSpec, includeErrors: GemError[]): CreateInput {
  const errors = [...includeErrors];
  let input: CreateInput | null = null;
  try {
    input = check(body, spec);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    errors.push(...error.errors.map(({ status: _status, ...rest }) => rest));
  }
  if (errors.length || !input) throw new ApiError(400, errors);
  return input;
}
