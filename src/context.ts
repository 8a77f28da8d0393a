// The app's Hono types: bindings and per-request variables.
import type { Context } from "hono";

/**
 * A verified customer token and where its request came from: what the request's one D1 round trip checks
 * (access or customer still there, not revoked, session not ended, source network allowed) before any of
 * its statements reads or writes.
 */
export type Caller =
  | {
      kind: "access";
      accessId: number;
      iat: number;
      session: string;
      /** The networks that contain the client's address, a JSON array (`containingNetworks`); null = any. */
      networks: string | null;
      /** The token's `cid`: the customer the access had when the token was issued (a hint). */
      customerHint?: number;
    }
  | {
      /** A `sub: "D"` token: customer and accounts from its `cfg` (its allowed_ips were checked already). */
      kind: "customer";
      customerId: number;
      accountIds: number[];
      iat: number;
      session: string;
    };

/** Who the customer API caller is, and which accounts it may see. */
export type CustomerScope = {
  /** The API access id, or "D" for a dynamic token minted without an API access record. */
  accessId: number | "D";
  customerId: number;
  /** Empty = every account of the customer. */
  accountIds: number[];
  /** Yeti's `allow-rec`: the access may listen to recordings (never for "D"). */
  allowRec: boolean;
  /** The token's `iat` and session: download links carry them, so revoking the token stops its links. */
  iat: number;
  session: string;
};

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** The request's D1 session (src/http/d1-session.ts): every customer API statement runs on it. */
    d1: D1DatabaseSession;
    caller: Caller;
    /** Set once the request's round trip has found the caller valid (authorize). */
    customer?: CustomerScope;
  };
};

export type AppContext = Context<AppEnv>;
