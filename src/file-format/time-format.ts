// Fast PostgreSQL-style timestamptz text formatting and lenient timestamp parsing for CDR exports.

export type TimeFormat = "with_timezone" | "without_timezone" | "round_to_seconds";

export const TIME_FORMATS: readonly TimeFormat[] = ["with_timezone", "without_timezone", "round_to_seconds"];

const MICROS_PER_SECOND = 1_000_000;
const MICROS_PER_MINUTE = 60_000_000;
const SECONDS_PER_DAY = 86_400;

// Offset-style names ("+02:00") are accepted by newer Intl but are not zone names.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/** true for an IANA zone name Intl accepts (e.g. "Europe/Kyiv", "UTC", "Asia/Kolkata"); false for "Mars/Base", "", garbage. */
export function isValidTimeZone(name: string): boolean {
  if (!ZONE_NAME.test(name)) return false;
  // Intl matches zone names in any case; Yeti's list is case-sensitive (every part starts uppercase).
  if (!name.split("/").every((part) => /^[A-Z]/.test(part))) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/** "YYYY-MM-DD" for days since the epoch (Hinnant's civil_from_days). */
function formatDate(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const yearText = year >= 0 ? String(year).padStart(4, "0") : `-${String(-year).padStart(4, "0")}`;
  return `${yearText}-${PAD2[month]}-${PAD2[day]}`;
}

/** PostgreSQL's offset suffix: "+02", "-03:30", and seconds only for historic LMT offsets. */
function formatOffset(offsetSeconds: number): string {
  const sign = offsetSeconds < 0 ? "-" : "+";
  const abs = Math.abs(offsetSeconds);
  const h = Math.floor(abs / 3600);
  const m = Math.floor((abs % 3600) / 60);
  const s = abs % 60;
  let text = sign + (h < 100 ? PAD2[h] : String(h));
  if (m !== 0 || s !== 0) text += `:${PAD2[m]}`;
  if (s !== 0) text += `:${PAD2[s]}`;
  return text;
}

/** ".5", ".000001", or "" when there are no microseconds. */
function formatFraction(fracMicros: number): string {
  if (fracMicros === 0) return "";
  let value = fracMicros;
  let digits = 6;
  while (value % 10 === 0) {
    value /= 10;
    digits--;
  }
  return `.${String(value).padStart(digits, "0")}`;
}

/** Returns offset-in-seconds lookup for a zone; only called on cache misses. */
function intlOffsetLookup(timeZone: string): (utcMs: number) => number {
  const dtf = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    era: "short",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  return (utcMs) => {
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const part of dtf.formatToParts(utcMs)) {
      const n = Number(part.value);
      if (part.type === "year") year = n;
      else if (part.type === "month") month = n;
      else if (part.type === "day") day = n;
      else if (part.type === "hour") hour = n;
      else if (part.type === "minute") minute = n;
      else if (part.type === "second") second = n;
      else if (part.type === "era") bc = part.value.startsWith("B");
    }
    if (bc) year = 1 - year;
    const localSeconds =
      daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    return localSeconds - Math.floor(utcMs / 1000);
  };
}

const DAY_MS = 86_400_000;

/**
 * The instant PostgreSQL reads for a timestamp without offset in session zone `timeZone` (null/"" = UTC):
 * `wallMs` holds the local date and time as if it were UTC (the stored filter digits, `...Z` dropped).
 * Mirrors DetermineTimeZoneOffsetInternal (src/backend/utils/adt/datetime.c): it takes the offsets either
 * side of the zone's transition near the local time (PostgreSQL assumes transitions 48 h apart at least, as
 * here); a time on one side of it takes that side's offset, and a time that is neither — nonexistent in a
 * spring-forward gap or ambiguous in a fall-back overlap — prefers the "before" offset in spring-forward and
 * the "after" offset in fall-back. So `02:30` in New York's gap is 07:30Z (03:30 EDT), and `01:30` of its
 * overlap is 06:30Z (01:30 EST, the second occurrence).
 */
export function wallClockToInstant(wallMs: number, timeZone: string | null): number {
  if (!timeZone || timeZone === "UTC" || timeZone === "Etc/UTC") return wallMs;
  const offsetMs = (utcMs: number) => zoneLookup(timeZone)(utcMs) * 1000;
  const before = offsetMs(wallMs - DAY_MS);
  const after = offsetMs(wallMs + DAY_MS);
  if (before === after) return wallMs - before;
  const beforeTime = wallMs - before;
  const afterTime = wallMs - after;
  // The transition lies between the two: an instant is past it when the "after" offset applies there.
  const beforePast = offsetMs(beforeTime) === after;
  const afterPast = offsetMs(afterTime) === after;
  if (!beforePast && !afterPast) return beforeTime;
  if (beforePast && afterPast) return afterTime;
  // Spring-forward's "before" reading and fall-back's "after" reading are both the later instant.
  return Math.max(beforeTime, afterTime);
}

const lookups = new Map<string, (utcMs: number) => number>();

function zoneLookup(timeZone: string): (utcMs: number) => number {
  let lookup = lookups.get(timeZone);
  if (!lookup) {
    lookup = intlOffsetLookup(timeZone);
    lookups.set(timeZone, lookup);
  }
  return lookup;
}

/** Returns a fast formatter micros -> PostgreSQL text, in the IANA zone (null/"" = UTC). */
export function createTimeFormatter(format: TimeFormat, timeZone: string | null): (micros: number) => string {
  const isUtc = !timeZone || timeZone === "UTC" || timeZone === "Etc/UTC";
  const lookup = isUtc ? null : intlOffsetLookup(timeZone);
  // Intl is far too slow to call per row, but offsets only change on (modern) minute boundaries, so one
  // lookup per UTC minute is exact. Rows arrive sorted, so the last minute almost always hits; the
  // bounded Map covers interleaved or unsorted input without growing with the export size.
  const cache = new Map<number, number>();
  let lastMinute = Number.NaN;
  let lastOffset = 0;
  const offsetFor = (minute: number): number => {
    if (lookup === null) return 0;
    if (minute === lastMinute) return lastOffset;
    let offset = cache.get(minute);
    if (offset === undefined) {
      offset = lookup(minute * 60_000);
      if (cache.size >= 4096) cache.clear();
      cache.set(minute, offset);
    }
    lastMinute = minute;
    lastOffset = offset;
    return offset;
  };
  // Sorted rows share a local day, so the date text is reused rather than rebuilt.
  let lastDay = Number.NaN;
  let lastDate = "";
  const withFraction = format !== "round_to_seconds";
  const withOffset = format === "with_timezone";

  return (micros) => {
    const utcSeconds = Math.floor(micros / MICROS_PER_SECOND);
    const offset = offsetFor(Math.floor(micros / MICROS_PER_MINUTE));
    const local = utcSeconds + offset;
    const day = Math.floor(local / SECONDS_PER_DAY);
    if (day !== lastDay) {
      lastDay = day;
      lastDate = formatDate(day);
    }
    const sod = local - day * SECONDS_PER_DAY;
    let text = `${lastDate} ${PAD2[Math.floor(sod / 3600)]}:${PAD2[Math.floor(sod / 60) % 60]}:${PAD2[sod % 60]}`;
    if (withFraction) text += formatFraction(micros - utcSeconds * MICROS_PER_SECOND);
    if (withOffset) text += formatOffset(offset);
    return text;
  };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isValidDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const max = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  return day <= max;
}

/** Offset in seconds east of UTC from "Z", "+02", "+0530", "-05:30" or "+02:02:04"; null if out of range. */
function parseOffset(zone: string): number | null {
  if (zone === "Z" || zone === "z") return 0;
  const m = /^([+-])(\d{2})(?::?(\d{2})(?::(\d{2}))?)?$/.exec(zone);
  if (!m) return null;
  const h = Number(m[2]);
  const min = Number(m[3] ?? 0);
  const s = Number(m[4] ?? 0);
  if (h > 15 || min > 59 || s > 59) return null;
  const total = h * 3600 + min * 60 + s;
  return m[1] === "-" ? -total : total;
}

// Shared shape: date, optional time (seconds and fraction optional), optional zone.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)? ?(Z|z|[+-][\d:]+)?$/;

interface Parsed {
  epochSeconds: number;
  fraction: string;
  hasSeconds: boolean;
  hasZone: boolean;
}

function parseParts(text: string): Parsed | null {
  const m = TIMESTAMP.exec(text);
  if (!m) return null;
  const [, ys, mos, ds, hs, mis, ss, fraction = "", zone] = m;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs ?? 0);
  const minute = Number(mis ?? 0);
  const second = Number(ss ?? 0);
  if (!isValidDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return null;
  // A bare date with a zone ("2019-01-01Z") is not a form anyone writes on purpose.
  if (zone !== undefined && hs === undefined) return null;
  const offset = zone === undefined ? 0 : parseOffset(zone);
  if (offset === null) return null;
  const epochSeconds =
    daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset;
  return { epochSeconds, fraction, hasSeconds: ss !== undefined, hasZone: zone !== undefined };
}

/** Parses a CDR timestamp into epoch micros, or returns null if invalid. */
export function parseTimestampMicros(text: string): number | null {
  const p = parseParts(text);
  if (!p?.hasSeconds || !p.hasZone || p.fraction.length > 6) return null;
  // Integer math keeps every fractional digit exact; a float parse of ".123456" would not.
  const micros = p.epochSeconds * MICROS_PER_SECOND + Number(p.fraction.padEnd(6, "0"));
  return Number.isSafeInteger(micros) ? micros : null;
}

/** Parses a filter time value (for export filters) into epoch milliseconds or null if invalid. */
export function parseFilterTime(text: string): number | null {
  const p = parseParts(text.trim());
  if (!p) return null;
  const ms = p.epochSeconds * 1000 + Number(p.fraction.slice(0, 3).padEnd(3, "0"));
  // Outside Date's range the value could not be used in a query or echoed back via isoMillis.
  return Math.abs(ms) <= 8.64e15 ? ms : null;
}

/** epoch ms -> "YYYY-MM-DDTHH:MM:SS.sssZ" */
export function isoMillis(ms: number): string {
  return new Date(ms).toISOString();
}
