// Seedable generator of realistic CDRs (Yeti column names), shared by the demo data and the benchmarks.

/** mulberry32: a tiny, fast, seedable PRNG; the same seed gives the same CDRs. */
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

const DISCONNECTS = [
  [200, "OK"],
  [486, "Busy Here"],
  [487, "Request Terminated"],
  [480, "Temporarily Unavailable"],
  [404, "Not Found"],
  [503, "Service Unavailable"],
];
const AGENTS = [
  "Asterisk PBX 18.9.0",
  "FreeSWITCH-mod_sofia/1.10.9",
  "Yealink SIP-T46S 66.86.0.15",
  'Zoiper "rv2.10"',
];
const PREFIXES = ["380", "38044", "38067", "4420", "4930", "1212", "91", "3361"];

function pgTime(micros) {
  const ms = Math.floor(micros / 1000);
  const iso = new Date(ms).toISOString().slice(0, 19);
  return `${iso}.${String(micros % 1_000_000).padStart(6, "0")}Z`;
}

function uuidFrom(rand) {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Yields `count` CDRs of one account spread evenly over [fromMs, toMs), with ids from `firstId`.
 * Values mix successes and failures, NULLs, quotes and non-ASCII, as real traffic does.
 */
export function* generateCdrs({ count, seed = 1, accountId, customerId, fromMs, toMs, firstId = 1 }) {
  const rand = prng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const span = (toMs - fromMs) * 1000;
  for (let i = 0; i < count; i++) {
    const start = fromMs * 1000 + Math.floor(((i + rand()) / count) * span);
    const success = rand() < 0.7;
    const duration = success ? Math.floor(rand() * 600) : 0;
    const connect = success ? start + Math.floor(rand() * 8_000_000) : null;
    const end = (connect ?? start) + duration * 1_000_000 + Math.floor(rand() * 1_000_000);
    const [code, reason] = success ? DISCONNECTS[0] : pick(DISCONNECTS.slice(1));
    const dst = `${pick(PREFIXES)}${Math.floor(rand() * 1e7)}`;
    const rate = (rand() * 0.1).toFixed(4);
    yield {
      id: firstId + i,
      uuid: uuidFrom(rand),
      customer_id: customerId,
      customer_acc_id: accountId,
      vendor_id: 1 + Math.floor(rand() * 5),
      vendor_acc_id: 10 + Math.floor(rand() * 5),
      is_last_cdr: true,
      time_start: pgTime(start),
      time_connect: connect === null ? null : pgTime(connect),
      time_end: pgTime(end),
      success,
      duration,
      src_name_in: rand() < 0.2 ? null : rand() < 0.1 ? 'Київ "Office"' : `Caller ${i % 100}`,
      src_prefix_in: `380${Math.floor(rand() * 1e9)}`,
      dst_prefix_in: dst,
      from_domain: "sip.example.net",
      to_domain: "carrier.example.com",
      ruri_domain: "carrier.example.com",
      lega_disconnect_code: code,
      lega_disconnect_reason: reason,
      auth_orig_ip: rand() < 0.8 ? `192.0.2.${Math.floor(rand() * 250) + 1}` : "2001:db8::15",
      auth_orig_port: 5060,
      src_prefix_routing: "380",
      dst_prefix_routing: dst.slice(0, 3),
      destination_prefix: dst.slice(0, 5),
      destination_initial_interval: 1,
      destination_next_interval: 1,
      destination_initial_rate: rate,
      destination_next_rate: rate,
      destination_fee: "0.0",
      customer_price: ((Number(rate) * duration) / 60).toFixed(6),
      customer_duration: duration,
      orig_call_id: `${uuidFrom(rand)}@192.0.2.1`,
      local_tag: Math.floor(rand() * 2 ** 32).toString(16),
      lega_user_agent: pick(AGENTS),
      diversion_in: rand() < 0.05 ? "sip:+380441234567@pbx.example.net" : null,
    };
  }
}
