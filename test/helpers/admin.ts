// Operator API test helpers: raw requests (any body, any Authorization) and JSON:API error reading.
import { ADMIN, ADMIN_TOKEN, call, JSON_API } from "./api";

export type ErrorObject = {
  status: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
};

export type Resource = {
  id: string;
  type: string;
  links: { self: string };
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data: { type: string; id: string } }>;
};

/** A request to the operator API with a raw body and the headers given (no defaults beyond them). */
export async function adminRaw(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": JSON_API },
): Promise<Response> {
  return call(`${ADMIN}${path}`, { method, headers, body });
}

/** The response's JSON:API errors, after checking the status and that it is an error document. */
export async function errorsOf(res: Response, status: number): Promise<ErrorObject[]> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  const body = JSON.parse(text) as { errors?: ErrorObject[] };
  if (!Array.isArray(body.errors) || body.errors.length === 0) throw new Error(`no errors[] in ${text}`);
  for (const e of body.errors) {
    if (e.status !== String(status)) throw new Error(`error status ${e.status} in a ${status}: ${text}`);
  }
  return body.errors;
}

/** The single resource of a 200/201 document. */
export async function dataOf(res: Response, status = 200): Promise<Resource> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return (JSON.parse(text) as { data: Resource }).data;
}

export function toOne(type: string, id: string) {
  return { data: { type, id } };
}
