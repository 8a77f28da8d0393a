// The customer routes' order of answers: a refused token's 401 before the request's own 400s.
import { authorize } from "../../auth/customer-auth";
import type { AppContext } from "../../context";
import { checkCaller } from "../../db/queries/caller";
import { ApiError } from "../../errors";

/**
 * Runs what reads the request; a 4xx it throws is answered once the caller is checked (one round trip),
 * so a refused token still gets its 401 first.
 */
export async function beforeRoundTrip<T>(c: AppContext, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof ApiError && !c.get("customer")) {
      authorize(c, await checkCaller(c.get("d1"), c.get("caller")));
    }
    throw error;
  }
}
