// EXPORT_NEUTRALISE_FORMULAS: values a spreadsheet would run as formulas are written as stored by default
// (Yeti's bytes) and with a leading ' when the operator turns the option on.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { insertExport } from "../src/db/queries/cdr-exports";
import { runExport } from "../src/pipeline/run-export";
import { tenant } from "./helpers/api";
import { capturingEnv, gunzip, ingestCdrs, objectBytes } from "./helpers/cdrs";
import { COLUMNS } from "./helpers/expected-csv";

const RANGE = { time_start_gteq: "2025-03-01T00:00:00.000Z", time_start_lt: "2025-03-02T00:00:00.000Z" };

/** src_name_in as sent → as written with the option on. */
const CASES: [string, string][] = [
  ['=HYPERLINK("http://x.test")', '\'=HYPERLINK(""http://x.test"")'],
  ["+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"],
  ["-2+3", "'-2+3"],
  ["@SUM(A1)", "'@SUM(A1)"],
  ["\tlead tab", "'\tlead tab"],
  ["\rlead cr", "'\rlead cr"],
  ["+380441234567", "+380441234567"],
  ["-0.0100", "-0.0100"],
  ["plain=value", "plain=value"],
  ["-", "'-"],
];

let accountId: number;

beforeAll(async () => {
  const t = await tenant();
  accountId = t.accountId;
  await ingestCdrs(
    CASES.map(([value], i) => ({
      uuid: crypto.randomUUID(),
      customer_id: Number(t.customer.id),
      customer_acc_id: accountId,
      time_start: `2025-03-01T10:00:${String(i).padStart(2, "0")}.000Z`,
      src_name_in: value,
      customer_price: i === 0 ? "-0.5" : "0.0100",
      orig_call_id: `case-${i}`,
    })),
  );
});

/** The export's src_name_in and customer_price cells by orig_call_id (the file read by a real CSV split). */
async function cells(neutralise: string): Promise<Map<string, { name: string; price: string }>> {
  const row = await insertExport(env, {
    filters: { ...RANGE },
    fields: COLUMNS.map(([name]) => name),
    timeFormat: "with_timezone",
    timeZoneName: null,
    callbackUrl: null,
    customerAccountId: accountId,
  });
  const { env: e } = capturingEnv({ EXPORT_NEUTRALISE_FORMULAS: neutralise });
  expect(await runExport(e, { exportId: row.uuid })).toBe("completed");
  const text = new TextDecoder().decode((await gunzip(await objectBytes(`exports/${row.uuid}.csv.gz`))).data);
  const at = (name: string) => COLUMNS.findIndex(([n]) => n === name);
  const out = new Map<string, { name: string; price: string }>();
  // Quoted CSV fields: "..." with "" inside; tabs and CRs stay inside the quotes.
  for (const line of text.split("\n").slice(1, -1)) {
    const fields = [...line.matchAll(/"((?:[^"]|"")*)"|(?<=^|,)(?=,|$)/g)].map((m) => m[1] ?? "");
    out.set(fields[at("orig_call_id")] as string, {
      name: fields[at("src_name_in")] as string,
      price: fields[at("customer_price")] as string,
    });
  }
  return out;
}

describe("EXPORT_NEUTRALISE_FORMULAS", () => {
  it("writes formula-like values as stored when off (the default), like Yeti", async () => {
    expect(env.EXPORT_NEUTRALISE_FORMULAS).toBe("false");
    const got = await cells("false");
    CASES.forEach(([value], i) => {
      expect(got.get(`case-${i}`)?.name).toBe(value.replaceAll('"', '""'));
    });
  });

  it("prefixes values that start with = + - @ tab or CR with ' when on, and leaves signed numbers alone", async () => {
    const got = await cells("true");
    CASES.forEach(([, written], i) => {
      expect(got.get(`case-${i}`)?.name).toBe(written);
    });
    expect(got.get("case-0")?.price).toBe("-0.5");
    expect(got.get("case-1")?.price).toBe("0.0100");
  });
});
