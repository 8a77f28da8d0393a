// A `POST /cdr-exports` request read and validated as far as it can be without the database, in Yeti's
// order: the media type and body (415/400), fields and include, the document (400s of jsonapi-resources),
// then the form (422s), the Idempotency-Key and the body's fingerprint. Whether the account is the caller's
// is the create's round trip to tell.

import { CUSTOMER_CREATE_FRAME } from "../../cdr-exports/create-document";
import { customerForm } from "../../cdr-exports/customer-form";
import { bodyFingerprint, IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from "../../cdr-exports/idempotency";
import { CDR_EXPORTS } from "../../cdr-exports/resource";
import { config } from "../../config";
import type { AppContext } from "../../context";
import type { CreateInput, KeyClaim } from "../../db/queries/export-create";
import type { FieldProblem } from "../../errors";
import { customerColumns } from "../../file-format/columns";
import { type CreatableSpec, createInput, readDocument } from "../../http/jsonapi/document";
import type { GemError } from "../../http/jsonapi/errors";
import { railsParams } from "../../http/jsonapi/params";
import { type Fieldsets, parseFields, parseInclude } from "../../http/jsonapi/request";
import { ACCOUNTS } from "./account-resource";

export const ACCOUNT_POINTER = "/data/relationships/account";

/**
 * CdrExportResource.creatable_fields (filters, account, time_format, time_zone_name), taken from the create
 * document's schema that the API description shows, so the two cannot drift.
 */
const CREATABLE: CreatableSpec = {
  type: CUSTOMER_CREATE_FRAME.type,
  attributes: CUSTOMER_CREATE_FRAME.attributes,
  relationships: Object.fromEntries(
    CUSTOMER_CREATE_FRAME.relationships.map((name) => [name, CDR_EXPORTS.relationships[name] as string]),
  ),
};

export type CreateRequest = {
  /** No account linkage, or `data: null` (`account - can't be blank`); otherwise the uuid to look up. */
  accountMissing: boolean;
  accountUuid: string | null;
  /** The form's problems that Yeti lists before the account's, and those after it. */
  beforeAccount: FieldProblem[];
  afterAccount: FieldProblem[];
  values: NonNullable<CreateInput["values"]>;
  key: KeyClaim | null;
  fieldsets: Fieldsets;
  include: boolean;
};

/** Throws the 400/415 of a malformed request; returns the rest for the create's round trip. */
export async function readCreateRequest(c: AppContext): Promise<CreateRequest> {
  const key = parseIdempotencyKey(c.req.header(IDEMPOTENCY_KEY_HEADER));
  const body = await readDocument(c);
  const params = railsParams(new URL(c.req.url).searchParams);
  const fieldsets = parseFields(params.get("fields"), [CDR_EXPORTS, ACCOUNTS]);
  const includeErrors: GemError[] = [];
  const include = parseInclude(params.get("include"), CDR_EXPORTS, [CDR_EXPORTS, ACCOUNTS], includeErrors);
  const input = createInput(body, CREATABLE, includeErrors);
  const form = customerForm(input.attributes);
  const account = input.relationships.account ?? null;
  return {
    accountMissing: account === null,
    accountUuid: account?.toLowerCase() ?? null,
    beforeAccount: form.beforeAccount,
    afterAccount: form.afterAccount,
    values: { ...form.values, fields: customerColumns(config(c.env).CUSTOMER_HIDDEN_COLUMNS) },
    // The body as received: Hono keeps the text readDocument read.
    key: key ? { key, fingerprint: await bodyFingerprint(await c.req.text()) } : null,
    fieldsets,
    include: include.has("account"),
  };
}

/** Whether the form found nothing to refuse before the account is looked up. */
export function formValid(request: CreateRequest): boolean {
  return !request.accountMissing && request.beforeAccount.length === 0 && request.afterAccount.length === 0;
}

/** The request's problems with the account's in Yeti's place. */
export function createProblems(request: CreateRequest, accountFound: boolean): FieldProblem[] {
  const account: FieldProblem[] = request.accountMissing
    ? [{ key: "account", message: "can't be blank", pointer: ACCOUNT_POINTER }]
    : accountFound
      ? []
      : [{ key: "account", message: "is invalid", pointer: ACCOUNT_POINTER }];
  return [...request.beforeAccount, ...account, ...request.afterAccount];
}
