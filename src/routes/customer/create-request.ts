// A `POST /cdr-exports` request read and validated as far as it can be without the database: the
// document's frame (400/415), the filters and format attributes (422), the Idempotency-Key and the body's
// fingerprint. Whether the account is the caller's is the create's round trip to tell.

import { CUSTOMER_CREATE_FRAME } from "../../cdr-exports/create-document";
import { CUSTOMER_FILTERS, normalizeFilters } from "../../cdr-exports/filters";
import { exportFormatAttributes } from "../../cdr-exports/format-attributes";
import { bodyFingerprint, IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from "../../cdr-exports/idempotency";
import { config } from "../../config";
import type { AppContext } from "../../context";
import type { CreateInput, KeyClaim } from "../../db/queries/export-create";
import type { FieldProblem } from "../../errors";
import { customerColumns } from "../../file-format/columns";
import { readJsonBody, resourceFromDocument, toOneLinkage } from "../../http/json-api";

export const ACCOUNT_POINTER = "/data/relationships/account";

export type CreateRequest = {
  /** No account linkage at all (`account - can't be blank`); otherwise the uuid to look up, if any. */
  accountMissing: boolean;
  accountUuid: string | null;
  /** The problems found so far, in Yeti's order (the account's come first, once known). */
  problems: FieldProblem[];
  values: NonNullable<CreateInput["values"]>;
  key: KeyClaim | null;
};

/** Throws the 400/415 of a malformed request; returns the rest for the create's round trip. */
export async function readCreateRequest(c: AppContext): Promise<CreateRequest> {
  const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_KEY_HEADER));
  const { type, attributes, relationships } = CUSTOMER_CREATE_FRAME;
  const input = resourceFromDocument(await readJsonBody(c), type, attributes, relationships);
  const linkage = toOneLinkage(input.relationships, "account");
  const { filters, problems: filterProblems } = normalizeFilters(input.attributes.filters, CUSTOMER_FILTERS);
  const problems: FieldProblem[] = filterProblems.map((message) => ({
    key: "filters",
    message,
    pointer: "/data/attributes/filters",
  }));
  const format = exportFormatAttributes(input.attributes, problems);
  return {
    accountMissing: !linkage.present,
    accountUuid:
      linkage.present && linkage.type === "accounts" && typeof linkage.id === "string" ? linkage.id : null,
    problems,
    values: { filters, fields: customerColumns(config(c.env).CUSTOMER_HIDDEN_COLUMNS), ...format },
    // The body as received: Hono keeps the text readJsonBody read.
    key: key ? { key, fingerprint: await bodyFingerprint(await c.req.text()) } : null,
  };
}

/** The request's problems with the account's in front, as Yeti lists them. */
export function createProblems(request: CreateRequest, accountFound: boolean): FieldProblem[] {
  if (request.accountMissing) {
    return [{ key: "account", message: "can't be blank", pointer: ACCOUNT_POINTER }, ...request.problems];
  }
  if (!accountFound) {
    return [{ key: "account", message: "is invalid", pointer: ACCOUNT_POINTER }, ...request.problems];
  }
  return request.problems;
}
