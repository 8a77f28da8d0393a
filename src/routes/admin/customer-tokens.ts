// Operator API `customer-tokens` (Yeti's Api::Rest::Admin::CustomerTokensController with CustomerTokenForm):
// mints a `sub: "D"` customer API v1 token for a customer, optionally limited to some of its accounts and
// to source networks, without an API access record.
import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { issueToken, newSessionId } from "../../auth/customer-token";
import { ALL_NETWORKS, formatNetwork, parseNetwork } from "../../auth/ip-networks";
import { issueTime } from "../../auth/revocation";
import { db } from "../../db/client";
import { accounts, contractors } from "../../db/schema";
import { validationError } from "../../errors";
import { isoMillis } from "../../file-format/time-format";
import { isPlainObject, jsonApi } from "../../http/json-api";
import { answer, documentBody, errors, jsonApiResponse, writeLinkage } from "../../openapi/schemas";
import { ADMIN_BASE, blank, invalid, linkedId, readWrite } from "./admin-resource";
import { adminRouter, SECURITY } from "./openapi";

const CUSTOMER = "/data/relationships/customer";
const ACCOUNTS = "/data/relationships/accounts";
const ALLOWED_IPS_INVALID = "Allowed IP is not valid";

/** The form's attributes: the networks the token may be used from (default everywhere), as Yeti's IPAddr reads them. */
export const attributes = z.object({
  "allowed-ips": z
    .array(
      z.string({ error: ALLOWED_IPS_INVALID }).transform((text, ctx) => {
        const net = parseNetwork(text.trim());
        if (net) return formatNetwork(net);
        ctx.addIssue({ code: "custom", message: ALLOWED_IPS_INVALID });
        return z.NEVER;
      }),
      { error: ALLOWED_IPS_INVALID },
    )
    .optional(),
});

/** `relationships.accounts.data`: account ids, sorted and unique as the form normalizes them. */
function accountIds(relationships: Record<string, unknown>): number[] {
  const rel = relationships.accounts;
  if (rel === undefined) return [];
  const data = isPlainObject(rel) ? rel.data : undefined;
  if (data === null) return [];
  if (!Array.isArray(data)) throw invalid("accounts", ACCOUNTS);
  const ids = data.map((linkage) => {
    const id = isPlainObject(linkage) && linkage.type === "accounts" ? linkage.id : undefined;
    if (typeof id !== "string" || !/^\d{1,15}$/.test(id)) throw invalid("accounts", ACCOUNTS);
    return Number(id);
  });
  return [...new Set(ids)].sort((a, b) => a - b);
}

const createDocument = z.object({
  data: z.object({
    type: z.literal("customer-tokens"),
    attributes: attributes.strict().optional(),
    relationships: z.strictObject({
      customer: writeLinkage("contractors"),
      accounts: z
        .object({ data: z.array(z.object({ type: z.literal("accounts"), id: z.string().regex(/^\d+$/) })) })
        .optional()
        .meta({ description: "Accounts of the customer the token is limited to; none = all of them." }),
    }),
  }),
});

const tokenDocument = z.strictObject({
  data: z.strictObject({
    id: z.string().meta({ description: "The customer's id." }),
    type: z.literal("customer-tokens"),
    links: z.strictObject({ self: z.string() }),
    attributes: z.strictObject({
      token: z.string().meta({ description: 'An HS256 JWT: `aud ["customer-v1"]`, `sub "D"`, `cfg`.' }),
      "expires-at": z
        .string()
        .nullable()
        .meta({ description: "Its `exp`; null when CUSTOMER_V1_TOKEN_LIFETIME is empty (no expiry)." }),
    }),
  }),
});

export const adminCustomerTokens = adminRouter();

const mint = createRoute({
  method: "post",
  path: "/",
  tags: ["customer-tokens"],
  summary: "Mint a customer token",
  description:
    "A customer API v1 token for a customer without an API access (Yeti's `sub: \"D\"` token): limited to the accounts given (they must be the customer's) and to `allowed-ips` (default everywhere). Revoke it with the customer's `revoke-tokens`.",
  security: SECURITY,
  request: { body: documentBody(createDocument) },
  responses: { 201: jsonApiResponse("Minted.", tokenDocument), ...errors(400, 401, 413, 415, 422) },
});

adminCustomerTokens.openapi(mint, async (c) => {
  const { attributes: a, input } = await readWrite(c, "customer-tokens", attributes, [
    "customer",
    "accounts",
  ]);
  const customerId = linkedId(input, "customer", "contractors");
  if (customerId === undefined) throw blank("customer", CUSTOMER);
  const ids = accountIds(input.relationships);
  const d = db(c.env);
  const [customer, owned] = await Promise.all([
    d
      .select({ customer: contractors.customer, revokedAt: contractors.tokensRevokedAt })
      .from(contractors)
      .where(eq(contractors.id, customerId))
      .get(),
    // All of the customer's account ids, not `id IN (...)`: D1 binds at most 100 parameters per query.
    ids.length
      ? d.select({ id: accounts.id }).from(accounts).where(eq(accounts.contractorId, customerId)).all()
      : Promise.resolve([]),
  ]);
  // Yeti's form: an unknown customer fails `presence`; a vendor-only contractor could never use the token.
  if (!customer) throw blank("customer", CUSTOMER);
  if (!customer.customer) throw invalid("customer", CUSTOMER);
  const ownedIds = new Set(owned.map((row) => row.id));
  if (ids.some((id) => !ownedIds.has(id))) {
    throw validationError([
      {
        key: "account-ids",
        message: "Account should be connected with selected Customer",
        pointer: "/data/attributes/account-ids",
      },
    ]);
  }
  const allowedIps = a["allowed-ips"]?.length ? a["allowed-ips"] : [...ALL_NETWORKS];
  const { token, exp } = await issueToken(c.env, {
    sub: "D",
    cfg: { customer_id: customerId, account_ids: ids, allowed_ips: allowedIps },
    // Covered by the customer's next revoke-tokens, and valid right after its last one.
    iat: issueTime([customer.revokedAt]),
    session: newSessionId(),
  });
  return answer(
    jsonApi(
      c,
      {
        data: {
          id: String(customerId),
          type: "customer-tokens",
          links: { self: `${new URL(c.req.url).origin}${ADMIN_BASE}/customer-tokens/${customerId}` },
          attributes: { token, "expires-at": exp === null ? null : isoMillis(exp * 1000) },
        },
      },
      201,
    ),
  );
});
