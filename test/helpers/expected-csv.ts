// An expected-CSV builder for the export tests, written independently of src/file-format (csv.ts, columns.ts,
// time-format.ts): PostgreSQL COPY (FORMAT CSV, HEADER, FORCE_QUOTE *) of Yeti's customer columns, or of
// any columns given with their kinds (operator exports).
import { type CdrInput, micros } from "./cdrs";

export type Kind = "time" | "bool" | "int" | "text";
export type Format = "with_timezone" | "without_timezone" | "round_to_seconds";

/** The customer columns in Yeti's order, with how PostgreSQL prints them. */
export const COLUMNS: readonly [string, Kind][] = [
  ["time_start", "time"],
  ["time_connect", "time"],
  ["time_end", "time"],
  ["success", "bool"],
  ["duration", "int"],
  ["src_name_in", "text"],
  ["src_prefix_in", "text"],
  ["dst_prefix_in", "text"],
  ["from_domain", "text"],
  ["to_domain", "text"],
  ["ruri_domain", "text"],
  ["lega_disconnect_code", "int"],
  ["lega_disconnect_reason", "text"],
  ["auth_orig_ip", "text"],
  ["auth_orig_port", "int"],
  ["src_prefix_routing", "text"],
  ["dst_prefix_routing", "text"],
  ["destination_prefix", "text"],
  ["destination_initial_interval", "int"],
  ["destination_next_interval", "int"],
  ["destination_initial_rate", "text"],
  ["destination_next_rate", "text"],
  ["destination_fee", "text"],
  ["customer_price", "text"],
  ["customer_duration", "int"],
  ["orig_call_id", "text"],
  ["local_tag", "text"],
  ["lega_user_agent", "text"],
  ["diversion_in", "text"],
];

export const HEADER =
  "Time Start,Time Connect,Time End,Success,Duration,Src Name In,Src Prefix In,Dst Prefix In,From Domain," +
  "To Domain,Ruri Domain,Lega Disconnect Code,Lega Disconnect Reason,Auth Orig Ip,Auth Orig Port," +
  "Src Prefix Routing,Dst Prefix Routing,Destination Prefix,Destination Initial Interval," +
  "Destination Next Interval,Destination Initial Rate,Destination Next Rate,Destination Fee,Customer Price," +
  "Customer Duration,Orig Call,Local Tag,Lega User Agent,Diversion In\n";

/** PostgreSQL's timestamptz text for `us` in `zone`, built from Intl's local parts and offset name. */
const formats = new Map<string, Intl.DateTimeFormat>();

function dateTimeFormat(zone: string): Intl.DateTimeFormat {
  let dtf = formats.get(zone);
  if (!dtf) {
    dtf = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZoneName: "longOffset",
    });
    formats.set(zone, dtf);
  }
  return dtf;
}

export function pgTime(us: number, format: Format, zone: string | null): string {
  const seconds = Math.floor(us / 1_000_000);
  const fraction = us - seconds * 1_000_000;
  const dtf = dateTimeFormat(zone || "UTC");
  const p: Record<string, string> = {};
  for (const part of dtf.formatToParts(seconds * 1000)) p[part.type] = part.value;
  let text = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  if (format !== "round_to_seconds" && fraction)
    text += `.${String(fraction).padStart(6, "0").replace(/0+$/, "")}`;
  if (format === "with_timezone") {
    const offset = (p.timeZoneName ?? "").replace("GMT", "") || "+00:00";
    text += offset.endsWith(":00") ? offset.slice(0, 3) : offset;
  }
  return text;
}

function field(kind: Kind, value: unknown, format: Format, zone: string | null): string {
  if (value === undefined || value === null) return "";
  switch (kind) {
    case "time":
      return `"${pgTime(micros(value as string), format, zone)}"`;
    case "bool":
      return value ? `"t"` : `"f"`;
    case "int":
      return `"${value}"`;
    case "text":
      return `"${String(value).replace(/"/g, '""')}"`;
  }
}

/**
 * The expected file: header, then rows newest first (ties: the later-inserted CDR, higher id, first).
 * `columns` and `header` default to the customer columns; an operator export passes its own `fields`
 * with their kinds and the header written out by hand. An `id` column takes the stored id from `ids`.
 */
export function expectedCsv(
  records: CdrInput[],
  ids: Map<string, number>,
  format: Format,
  zone: string | null,
  columns: readonly (readonly [string, Kind])[] = COLUMNS,
  header: string = HEADER,
) {
  const keyed = records.map((r) => ({
    r,
    start: micros(r.time_start as string),
    id: ids.get(r.uuid as string) ?? Number.NaN,
  }));
  keyed.sort((a, b) => b.start - a.start || b.id - a.id);
  let text = header;
  for (const { r, id } of keyed) {
    const value = (name: string) => (name === "id" && r.id === undefined ? id : r[name]);
    text += `${columns.map(([name, kind]) => field(kind, value(name), format, zone)).join(",")}\n`;
  }
  return text;
}
