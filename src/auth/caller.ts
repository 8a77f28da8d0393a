// The caller of a customer request, from its verified token and source address, and the customer its API
// access belongs to as far as this isolate knows (the key of the per-customer creation limit).
import type { Caller } from "../context";
import type { CallerRow } from "../db/queries/caller";
import type { TokenClaims } from "./customer-token";
import { ALL_NETWORKS, addressAllowed, containingNetworks } from "./ip-networks";

/** An unknown source (no CF-Connecting-IP, as in local tests) passes only where every address may. */
export function sourceAllowed(address: string, networks: readonly string[]): boolean {
  if (address) return addressAllowed(address, networks);
  return networks.some((net) => ALL_NETWORKS.includes(net));
}

/**
 * The caller of verified claims; null when nothing in the database could admit it: a `sub: "D"` token
 * without `cfg`, or from outside its `cfg.allowed_ips` (which the token carries, so no query is needed).
 */
export function callerFor(claims: TokenClaims, address: string): Caller | null {
  const { iat, session } = claims;
  if (claims.sub !== "D") {
    const networks = networksOf(address);
    return {
      kind: "access",
      accessId: claims.sub,
      iat,
      session,
      networks,
      ...(claims.customerId !== undefined ? { customerHint: claims.customerId } : {}),
    };
  }
  const cfg = claims.cfg;
  if (!cfg) return null;
  const networks = cfg.allowed_ips?.length ? cfg.allowed_ips : ALL_NETWORKS;
  if (!sourceAllowed(address, networks)) return null;
  return { kind: "customer", customerId: cfg.customer_id, accountIds: cfg.account_ids ?? [], iat, session };
}

const MAX_ADDRESSES = 1000;
/** Client address → its containing networks as JSON: 33 to 129 formatted prefixes, the same each time. */
const networksByAddress = new Map<string, string>();

function networksOf(address: string): string {
  let networks = networksByAddress.get(address);
  if (networks === undefined) {
    networks = JSON.stringify(containingNetworks(address));
    if (networksByAddress.size >= MAX_ADDRESSES) networksByAddress.clear();
    networksByAddress.set(address, networks);
  }
  return networks;
}

const MAX_KNOWN_ACCESSES = 10_000;
/** API access id → its customer, as the last round trip of this isolate found it. */
const customerOfAccess = new Map<number, number>();

/**
 * The customer the caller's creations count against, when known before any query: a `sub: "D"` token's
 * own; else the one this isolate last saw for the access, else the token's `cid`. Null for an access not
 * seen yet whose token carries no `cid` (minted elsewhere).
 */
export function expectedCustomer(caller: Caller): number | null {
  if (caller.kind === "customer") return caller.customerId;
  return customerOfAccess.get(caller.accessId) ?? caller.customerHint ?? null;
}

export function learnCustomer(caller: Caller, row: CallerRow): void {
  if (caller.kind !== "access" || customerOfAccess.get(caller.accessId) === row.customerId) return;
  if (customerOfAccess.size >= MAX_KNOWN_ACCESSES) customerOfAccess.clear();
  customerOfAccess.set(caller.accessId, row.customerId);
}
