// The customer API's `accounts` resource (Yeti's account_resource.rb): its declaration and its document.
import { sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { AccountView } from "../../db/queries/cdr-exports";
import { accounts } from "../../db/schema";
import { ransackFilters } from "../../http/jsonapi/filters";
import { type Fieldsets, type ResourceSpec, wants } from "../../http/jsonapi/request";

export const CUSTOMER_BASE = "/api/rest/customer/v1";

/** Sort field (underscored) → the account view's key; `id` is the UUID. */
export const ACCOUNT_SORT_KEYS = {
  id: "uuid",
  name: "name",
  balance: "balance",
  min_balance: "minBalance",
  max_balance: "maxBalance",
  destination_rate_limit: "destinationRateLimit",
  origination_capacity: "originationCapacity",
  termination_capacity: "terminationCapacity",
  total_capacity: "totalCapacity",
  currency: "currency",
} as const;

/** Decimal columns are stored as text: compared and sorted as numbers. */
const decimal = (column: SQLiteColumn) => sql`CAST(${column} AS REAL)`;

export const ACCOUNTS: ResourceSpec = {
  type: "accounts",
  attributes: [
    "name",
    "balance",
    "min-balance",
    "max-balance",
    "destination-rate-limit",
    "origination-capacity",
    "termination-capacity",
    "total-capacity",
    "currency",
  ],
  relationships: {},
  sortable: Object.keys(ACCOUNT_SORT_KEYS),
  filters: {
    ...ransackFilters("name", "string", sql`${accounts.name}`),
    ...ransackFilters("balance", "number", decimal(accounts.balance)),
    ...ransackFilters("min_balance", "number", decimal(accounts.minBalance)),
    ...ransackFilters("max_balance", "number", decimal(accounts.maxBalance)),
    ...ransackFilters("destination_rate_limit", "number", decimal(accounts.destinationRateLimit)),
    ...ransackFilters("uuid", "uuid", sql`${accounts.uuid}`),
    ...ransackFilters("origination_capacity", "number", sql`${accounts.originationCapacity}`),
    ...ransackFilters("termination_capacity", "number", sql`${accounts.terminationCapacity}`),
    ...ransackFilters("total_capacity", "number", sql`${accounts.totalCapacity}`),
  },
};

/** A decimal as Ruby's BigDecimal#to_s renders it in Rails: `1000` → `1000.0`, `12.50` → `12.5`. */
export function bigDecimal(value: string | null): string | null {
  if (value === null) return null;
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!match || (match[2] === "" && !match[3])) return value;
  const whole = (match[2] as string).replace(/^0+(?=\d)/, "") || "0";
  const fraction = (match[3] ?? "").replace(/0+$/, "") || "0";
  return `${match[1] === "-" ? "-" : ""}${whole}.${fraction}`;
}

export function accountResource(origin: string, account: AccountView, fieldsets: Fieldsets = new Map()) {
  const values: Record<string, unknown> = {
    name: account.name,
    balance: bigDecimal(account.balance),
    "min-balance": bigDecimal(account.minBalance),
    "max-balance": bigDecimal(account.maxBalance),
    "destination-rate-limit": bigDecimal(account.destinationRateLimit),
    "origination-capacity": account.originationCapacity,
    "termination-capacity": account.terminationCapacity,
    "total-capacity": account.totalCapacity,
    currency: account.currency,
  };
  const attributes = Object.fromEntries(
    Object.entries(values).filter(([name]) => wants(fieldsets, "accounts", name)),
  );
  return {
    id: account.uuid,
    type: "accounts",
    links: { self: `${origin}${CUSTOMER_BASE}/accounts/${account.uuid}` },
    ...(Object.keys(attributes).length ? { attributes } : {}),
  };
}
