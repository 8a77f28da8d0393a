// Types of fixture.mjs for the TypeScript tests.
export type YetiAccount = { id: number; uuid: string };
export const CUSTOMER_ID: number;
export const OTHER_CUSTOMER_ID: number;
export const ACCOUNT: YetiAccount;
export const SIBLING_ACCOUNT: YetiAccount;
export const BIG_ACCOUNT: YetiAccount;
export const OTHER_ACCOUNT: YetiAccount;
export const FIRST_DAY: string;
export const END_DAY: string;
export const DST_DAYS: string[];
export const HOSTILE: { drop: string; quotes: string; backslash: string; dollar: string };
export function fixtureCdrs(): Generator<Record<string, unknown>>;
