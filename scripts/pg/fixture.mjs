// The CDRs scripts/pg/setup.sh seeds into the local/CI PostgreSQL, and the Yeti ids the tests give the
// contractors and accounts they create in D1 so that exports find them (customer_acc_id = account id).
import { generateCdrs } from "../cdr-generator.mjs";

export const CUSTOMER_ID = 7101;
export const OTHER_CUSTOMER_ID = 7102;
/** The published example's account: a few days of mixed traffic and the edge cases below. */
export const ACCOUNT = { id: 9001, uuid: "3f1c2b7e-5a4d-4c1e-9b2a-7d6e5f4a3b21" };
/**
 * Same customer; CDRs only between 02:00 and 18:00 UTC, away from the midnights of UTC, Kyiv and Kolkata:
 * the D1 source, which reads filter times as UTC, exports the same of them as Yeti in those zones.
 */
export const SIBLING_ACCOUNT = { id: 9002, uuid: "3f1c2b7e-5a4d-4c1e-9b2a-7d6e5f4a3b22" };
/** Same customer; many wide CDRs, so an export of it fills several 5 MiB parts. */
export const BIG_ACCOUNT = { id: 9003, uuid: "3f1c2b7e-5a4d-4c1e-9b2a-7d6e5f4a3b23" };
export const OTHER_ACCOUNT = { id: 9201, uuid: "3f1c2b7e-5a4d-4c1e-9b2a-7d6e5f4a3b31" };

/** The days that get a partition, [from, to) in UTC. */
export const FIRST_DAY = "2018-12-30";
export const END_DAY = "2019-01-05";
/** Days of New York's 2021 DST changes, which a few edge CDRs fall on (each its own partition). */
export const DST_DAYS = ["2021-03-14", "2021-11-07"];

/** Filter values an attacker might send; the seed holds CDRs whose columns equal them. */
export const HOSTILE = {
  drop: "'; DROP TABLE cdr.cdr; --",
  quotes: `a'b''c"d\\`,
  backslash: "\\'; SELECT pg_sleep(5); --\\",
  dollar: "$$ || (SELECT 1) || $$",
};

const at = (iso) => Date.parse(iso);

/** mulberry32, as the CDR generator's. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function noise(rand, length) {
  let text = "";
  for (let i = 0; i < length; i++) text += ALPHABET[Math.floor(rand() * 64)];
  return text;
}

/** Every third CDR of the example account matches the published example's filters. */
function exampleShape(row, i) {
  if (i % 3 !== 0) return row;
  return {
    ...row,
    success: true,
    duration: 60,
    customer_duration: 60,
    src_prefix_routing: "123",
    dst_prefix_routing: "456",
  };
}

/** Hand-made CDRs: zone midnights on both sides of the bounds, CSV-hostile text, NULLs, decimals. */
function edgeCdrs() {
  const base = {
    customer_id: CUSTOMER_ID,
    customer_acc_id: ACCOUNT.id,
    vendor_id: 3,
    vendor_acc_id: 12,
    is_last_cdr: true,
    success: true,
    duration: 60,
    customer_duration: 60,
    src_prefix_routing: "123",
    dst_prefix_routing: "456",
    src_prefix_in: "380441234567",
    dst_prefix_in: "4930123456",
    auth_orig_ip: "192.0.2.10",
    auth_orig_port: 5060,
    destination_initial_rate: "0.0100",
    destination_next_rate: "0.0100",
    destination_fee: "0.0",
    customer_price: "0.0100",
  };
  const edges = [
    // UTC bounds of the example day, and Kyiv's (UTC+2 in winter).
    { time_start: "2019-01-01T00:00:00Z", src_name_in: "UTC midnight" },
    { time_start: "2019-01-02T00:00:00Z", src_name_in: "next UTC midnight" },
    { time_start: "2018-12-31T22:00:00Z", src_name_in: "Kyiv midnight" },
    { time_start: "2018-12-31T21:59:59.999999Z", src_name_in: "before Kyiv midnight" },
    { time_start: "2019-01-01T21:59:59.999999Z", src_name_in: "before next Kyiv midnight" },
    { time_start: "2019-01-01T22:00:00Z", src_name_in: "next Kyiv midnight" },
    // New York's 2021 DST changes: the spring-forward gap (02:00-03:00 EST does not exist on 14 March; 07:00Z)
    // and the fall-back overlap (01:00-02:00 happens twice on 7 November; 06:00Z).
    { time_start: "2021-03-14T06:30:00Z", src_name_in: "NY 01:30 EST" },
    { time_start: "2021-03-14T07:29:59.999999Z", src_name_in: "NY before 03:30 EDT" },
    { time_start: "2021-03-14T07:30:00Z", src_name_in: "NY 03:30 EDT" },
    { time_start: "2021-03-14T07:59:59.999999Z", src_name_in: "NY before 04:00 EDT" },
    { time_start: "2021-03-14T08:00:00Z", src_name_in: "NY 04:00 EDT" },
    { time_start: "2021-11-07T05:30:00Z", src_name_in: "NY 01:30 EDT" },
    { time_start: "2021-11-07T06:29:59.999999Z", src_name_in: "NY before 01:30 EST" },
    { time_start: "2021-11-07T06:30:00Z", src_name_in: "NY 01:30 EST (second)" },
    { time_start: "2021-11-07T07:59:59.999999Z", src_name_in: "NY before 03:00 EST" },
    { time_start: "2021-11-07T08:00:00Z", src_name_in: "NY 03:00 EST" },
    // Kolkata (UTC+05:30) midnight of the example day.
    { time_start: "2018-12-31T18:30:00Z", src_name_in: "Kolkata midnight" },
    {
      time_start: "2019-01-01T08:15:30.5Z",
      time_connect: "2019-01-01T08:15:31.000001Z",
      time_end: "2019-01-01T08:16:31.123456Z",
      src_name_in: 'He said "hi", then left',
      from_domain: "line one\nline two",
      to_domain: "carriage\rreturn",
      ruri_domain: "C:\\path\\to\\",
      lega_disconnect_reason: "Київ ☎ 😀",
      lega_user_agent: HOSTILE.drop,
      diversion_in: "",
      local_tag: "  padded  ",
      auth_orig_ip: "2001:db8::1",
      customer_price: "12345678901234567890.12345678901234567890",
      destination_fee: "-0.5",
    },
    {
      time_start: "2019-01-01T09:00:00.000001Z",
      time_connect: null,
      time_end: null,
      success: null,
      duration: null,
      customer_duration: null,
      src_name_in: null,
      src_prefix_in: null,
      dst_prefix_in: null,
      auth_orig_ip: null,
      auth_orig_port: null,
      destination_initial_rate: null,
      destination_next_rate: null,
      destination_fee: null,
      customer_price: null,
      is_last_cdr: null,
      src_prefix_routing: "123",
      dst_prefix_routing: "456",
    },
    { time_start: "2019-01-01T10:00:00.25Z", auth_orig_ip: "::ffff:192.0.2.1", src_name_in: "mapped" },
    // CDRs whose routing prefixes are the hostile filter values: the hostile filter test finds exactly these.
    {
      time_start: "2019-01-01T11:00:00Z",
      src_prefix_routing: HOSTILE.drop,
      dst_prefix_routing: HOSTILE.quotes,
    },
    {
      time_start: "2019-01-01T11:30:00Z",
      src_prefix_routing: HOSTILE.backslash,
      dst_prefix_routing: HOSTILE.dollar,
    },
  ];
  return edges.map((edge, i) => ({
    id: 9_000_000 + i,
    uuid: `00000000-0000-4000-8000-${String(900_000 + i).padStart(12, "0")}`,
    ...base,
    time_connect: edge.time_start,
    time_end: edge.time_start,
    ...edge,
  }));
}

/** Every seeded CDR, the same on every machine; time_start is unique across all of them. */
export function* fixtureCdrs() {
  let i = 0;
  for (const row of generateCdrs({
    count: 2400,
    seed: 12,
    accountId: ACCOUNT.id,
    customerId: CUSTOMER_ID,
    fromMs: at("2018-12-31T00:00:00Z"),
    toMs: at("2019-01-03T00:00:00Z"),
    firstId: 1_000_000,
  }))
    yield exampleShape(row, i++);
  yield* edgeCdrs();
  for (const [n, day] of [at("2019-01-01T02:00:00Z"), at("2019-01-02T02:00:00Z")].entries()) {
    yield* generateCdrs({
      count: 150,
      seed: 40 + n,
      accountId: SIBLING_ACCOUNT.id,
      customerId: CUSTOMER_ID,
      fromMs: day,
      toMs: day + 16 * 3_600_000,
      firstId: 2_000_000 + n * 1000,
    });
  }
  yield* generateCdrs({
    count: 200,
    seed: 77,
    accountId: OTHER_ACCOUNT.id,
    customerId: OTHER_CUSTOMER_ID,
    fromMs: at("2019-01-01T00:00:00Z"),
    toMs: at("2019-01-02T00:00:00Z"),
    firstId: 3_000_000,
  });
  const rand = prng(99);
  for (const row of generateCdrs({
    count: 24_000,
    seed: 99,
    accountId: BIG_ACCOUNT.id,
    customerId: CUSTOMER_ID,
    fromMs: at("2019-01-01T00:00:00Z"),
    toMs: at("2019-01-04T00:00:00Z"),
    firstId: 4_000_000,
  }))
    yield { ...row, lega_user_agent: noise(rand, 320) };
}
