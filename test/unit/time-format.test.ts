// Unit tests for the CDR export timestamp formatter and parsers.
import { describe, expect, it } from "vitest";
import {
  createTimeFormatter,
  isoMillis,
  isValidTimeZone,
  parseFilterTime,
  parseTimestampMicros,
  TIME_FORMATS,
  type TimeFormat,
  wallClockToInstant,
} from "../../src/file-format/time-format";

/** Micros from an ISO string with up to 6 fraction digits, independent of the module under test. */
function us(iso: string): number {
  const m = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(iso);
  if (!m || m[1] === undefined) throw new Error(`bad test input ${iso}`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? "").padEnd(6, "0"));
}

function fmt(format: TimeFormat, zone: string | null, iso: string): string {
  return createTimeFormatter(format, zone)(us(iso));
}

/** Slow reference built on Intl's own local time and offset name. */
function reference(zone: string, micros: number, format: TimeFormat): string {
  const ms = Math.floor(micros / 1000);
  const dtf = new Intl.DateTimeFormat("en-US", {
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
  const parts: Record<string, string> = {};
  for (const p of dtf.formatToParts(ms)) parts[p.type] = p.value;
  let text = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  if (format === "round_to_seconds") return text;
  const frac = micros - Math.floor(micros / 1_000_000) * 1_000_000;
  if (frac !== 0) text += `.${String(frac).padStart(6, "0").replace(/0+$/, "")}`;
  if (format === "without_timezone") return text;
  const name = parts.timeZoneName ?? "";
  if (name === "GMT") return `${text}+00`;
  const m = /^GMT([+-]\d{2}):(\d{2})(?::(\d{2}))?$/.exec(name);
  if (!m) throw new Error(`unexpected offset name ${name}`);
  let offset = m[1] ?? "";
  if (m[2] !== "00" || m[3] !== undefined) offset += `:${m[2]}`;
  if (m[3] !== undefined) offset += `:${m[3]}`;
  return text + offset;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("TIME_FORMATS", () => {
  it("lists the formats in order", () => {
    expect(TIME_FORMATS).toEqual(["with_timezone", "without_timezone", "round_to_seconds"]);
  });
});

describe("isValidTimeZone", () => {
  it("accepts IANA names", () => {
    for (const z of ["Europe/Kyiv", "UTC", "Asia/Kolkata", "America/St_Johns", "America/New_York"]) {
      expect(isValidTimeZone(z), z).toBe(true);
    }
  });
  it("rejects unknown names and garbage", () => {
    for (const z of ["Mars/Base", "", " ", "Europe/", "+02:00", "Europe/Kyiv; drop", "../etc"]) {
      expect(isValidTimeZone(z), z).toBe(false);
    }
  });
});

describe("createTimeFormatter in UTC", () => {
  const iso = "2025-02-03T20:21:32.118457Z";
  it("formats each format", () => {
    expect(fmt("with_timezone", null, iso)).toBe("2025-02-03 20:21:32.118457+00");
    expect(fmt("without_timezone", null, iso)).toBe("2025-02-03 20:21:32.118457");
    expect(fmt("round_to_seconds", null, iso)).toBe("2025-02-03 20:21:32");
  });
  it("treats null, empty string and UTC alike", () => {
    expect(fmt("with_timezone", "", iso)).toBe("2025-02-03 20:21:32.118457+00");
    expect(fmt("with_timezone", "UTC", iso)).toBe("2025-02-03 20:21:32.118457+00");
  });
  it("trims trailing fraction zeros and omits a zero fraction", () => {
    expect(fmt("with_timezone", null, "2025-02-03T20:21:32.1Z")).toBe("2025-02-03 20:21:32.1+00");
    expect(fmt("with_timezone", null, "2025-02-03T20:21:32.5Z")).toBe("2025-02-03 20:21:32.5+00");
    expect(fmt("with_timezone", null, "2025-02-03T20:21:32.01Z")).toBe("2025-02-03 20:21:32.01+00");
    expect(fmt("with_timezone", null, "2025-02-03T20:21:32.000001Z")).toBe("2025-02-03 20:21:32.000001+00");
    expect(fmt("with_timezone", null, "2025-02-03T20:21:32.120000Z")).toBe("2025-02-03 20:21:32.12+00");
    expect(fmt("with_timezone", null, "2025-02-03T20:21:32Z")).toBe("2025-02-03 20:21:32+00");
    expect(fmt("without_timezone", null, "2025-02-03T20:21:32Z")).toBe("2025-02-03 20:21:32");
  });
  it("truncates rather than rounds for round_to_seconds", () => {
    expect(fmt("round_to_seconds", null, "2025-12-31T23:59:59.999999Z")).toBe("2025-12-31 23:59:59");
    expect(fmt("round_to_seconds", null, "2025-02-03T20:21:32.5Z")).toBe("2025-02-03 20:21:32");
  });
  it("handles the epoch, leap days and pre-1970 instants with floor division", () => {
    expect(fmt("with_timezone", null, "1970-01-01T00:00:00Z")).toBe("1970-01-01 00:00:00+00");
    expect(fmt("with_timezone", null, "2024-02-29T12:00:00Z")).toBe("2024-02-29 12:00:00+00");
    expect(createTimeFormatter("with_timezone", null)(-1)).toBe("1969-12-31 23:59:59.999999+00");
    expect(createTimeFormatter("round_to_seconds", null)(-1)).toBe("1969-12-31 23:59:59");
    expect(createTimeFormatter("with_timezone", null)(-500_000)).toBe("1969-12-31 23:59:59.5+00");
    expect(fmt("with_timezone", null, "1969-07-20T20:17:40.25Z")).toBe("1969-07-20 20:17:40.25+00");
    expect(fmt("with_timezone", null, "1900-03-01T00:00:00Z")).toBe("1900-03-01 00:00:00+00");
  });
});

describe("createTimeFormatter across Europe/Kyiv DST", () => {
  const kyiv = (format: TimeFormat, iso: string) => fmt(format, "Europe/Kyiv", iso);
  it("uses +02 in winter", () => {
    expect(kyiv("with_timezone", "2025-02-03T20:21:32.118457Z")).toBe("2025-02-03 22:21:32.118457+02");
    expect(kyiv("without_timezone", "2025-02-03T20:21:32.118457Z")).toBe("2025-02-03 22:21:32.118457");
    expect(kyiv("round_to_seconds", "2025-02-03T20:21:32.118457Z")).toBe("2025-02-03 22:21:32");
  });
  it("switches to +03 at 01:00 UTC on 2025-03-30", () => {
    expect(kyiv("with_timezone", "2025-03-30T00:59:59.999999Z")).toBe("2025-03-30 02:59:59.999999+02");
    expect(kyiv("with_timezone", "2025-03-30T01:00:00Z")).toBe("2025-03-30 04:00:00+03");
    expect(kyiv("round_to_seconds", "2025-03-30T00:59:59.999999Z")).toBe("2025-03-30 02:59:59");
    expect(kyiv("without_timezone", "2025-03-30T01:00:00.000001Z")).toBe("2025-03-30 04:00:00.000001");
  });
  it("switches back to +02 at 01:00 UTC on 2025-10-26, repeating the 03:00 hour", () => {
    expect(kyiv("with_timezone", "2025-10-26T00:59:59.999999Z")).toBe("2025-10-26 03:59:59.999999+03");
    expect(kyiv("with_timezone", "2025-10-26T01:00:00Z")).toBe("2025-10-26 03:00:00+02");
    expect(kyiv("with_timezone", "2025-10-26T00:30:00Z")).toBe("2025-10-26 03:30:00+03");
    expect(kyiv("with_timezone", "2025-10-26T01:30:00Z")).toBe("2025-10-26 03:30:00+02");
  });
  it("gives the right offset when one formatter sees both sides in either order", () => {
    const f = createTimeFormatter("with_timezone", "Europe/Kyiv");
    const before = us("2025-03-30T00:59:59.999999Z");
    const after = us("2025-03-30T01:00:00Z");
    expect([f(before), f(after), f(before), f(after)]).toEqual([
      "2025-03-30 02:59:59.999999+02",
      "2025-03-30 04:00:00+03",
      "2025-03-30 02:59:59.999999+02",
      "2025-03-30 04:00:00+03",
    ]);
  });
  it("crosses local midnight with the offset", () => {
    expect(kyiv("with_timezone", "2025-07-31T21:00:00Z")).toBe("2025-08-01 00:00:00+03");
    expect(kyiv("with_timezone", "2025-12-31T22:00:00.5Z")).toBe("2026-01-01 00:00:00.5+02");
  });
});

describe("createTimeFormatter in other zones", () => {
  it("prints half-hour offsets with minutes (Asia/Kolkata)", () => {
    expect(fmt("with_timezone", "Asia/Kolkata", "2025-02-03T20:21:32.118457Z")).toBe(
      "2025-02-04 01:51:32.118457+05:30",
    );
    expect(fmt("round_to_seconds", "Asia/Kolkata", "2025-02-03T20:21:32.118457Z")).toBe(
      "2025-02-04 01:51:32",
    );
  });
  it("prints negative offsets (America/New_York)", () => {
    expect(fmt("with_timezone", "America/New_York", "2025-01-15T03:04:05.5Z")).toBe(
      "2025-01-14 22:04:05.5-05",
    );
    expect(fmt("with_timezone", "America/New_York", "2025-07-15T03:04:05Z")).toBe("2025-07-14 23:04:05-04");
    expect(fmt("with_timezone", "America/New_York", "2025-03-09T06:59:59Z")).toBe("2025-03-09 01:59:59-05");
    expect(fmt("with_timezone", "America/New_York", "2025-03-09T07:00:00Z")).toBe("2025-03-09 03:00:00-04");
  });
  it("prints negative half-hour offsets (America/St_Johns)", () => {
    expect(fmt("with_timezone", "America/St_Johns", "2025-01-15T12:00:00Z")).toBe(
      "2025-01-15 08:30:00-03:30",
    );
    expect(fmt("with_timezone", "America/St_Johns", "2025-07-15T12:00:00.000001Z")).toBe(
      "2025-07-15 09:30:00.000001-02:30",
    );
  });
  it("formats pre-1970 instants in a zone", () => {
    expect(fmt("with_timezone", "America/New_York", "1969-12-31T23:59:59.999999Z")).toBe(
      "1969-12-31 18:59:59.999999-05",
    );
    expect(fmt("with_timezone", "Asia/Kolkata", "1960-06-01T00:00:00Z")).toBe("1960-06-01 05:30:00+05:30");
  });
  it("throws for an unknown zone", () => {
    expect(() => createTimeFormatter("with_timezone", "Mars/Base")).toThrow(RangeError);
  });
});

describe("createTimeFormatter against an Intl reference", () => {
  const lo = us("1925-01-01T00:00:00Z");
  const hi = us("2060-01-01T00:00:00Z");
  for (const zone of ["Europe/Kyiv", "America/New_York"]) {
    it(`matches for random instants in ${zone}`, () => {
      const rand = mulberry32(zone.length * 7919);
      const samples: number[] = [];
      for (let i = 0; i < 3000; i++) {
        let micros = lo + Math.floor(rand() * (hi - lo));
        // Drop the fraction sometimes so the no-fraction path is exercised too.
        if (i % 5 === 0) micros -= ((micros % 1_000_000) + 1_000_000) % 1_000_000;
        samples.push(micros);
      }
      samples.sort((a, b) => a - b);
      for (const format of TIME_FORMATS) {
        const f = createTimeFormatter(format, zone);
        for (const micros of samples)
          expect(f(micros), `${zone} ${format} ${micros}`).toBe(reference(zone, micros, format));
      }
    });
  }
  it("matches minute by minute around 2025 transitions, including half-hour St_Johns", () => {
    const transitions: [string, string][] = [
      ["Europe/Kyiv", "2025-03-30T01:00:00Z"],
      ["Europe/Kyiv", "2025-10-26T01:00:00Z"],
      ["America/New_York", "2025-03-09T07:00:00Z"],
      ["America/New_York", "2025-11-02T06:00:00Z"],
      // St_Johns switches at 02:00 local, i.e. on a half hour in UTC.
      ["America/St_Johns", "2025-03-09T05:30:00Z"],
      ["America/St_Johns", "2025-11-02T04:30:00Z"],
    ];
    for (const [zone, center] of transitions) {
      const f = createTimeFormatter("with_timezone", zone);
      for (let minute = -120; minute <= 120; minute++) {
        const micros = us(center) + minute * 60_000_000 + (minute % 2 === 0 ? 0 : 999_999);
        expect(f(micros), `${zone} ${micros}`).toBe(reference(zone, micros, "with_timezone"));
      }
    }
  });
  it("pins the St_Johns switch on both sides", () => {
    const f = createTimeFormatter("with_timezone", "America/St_Johns");
    expect(f(us("2025-03-09T05:29:59.999999Z"))).toBe("2025-03-09 01:59:59.999999-03:30");
    expect(f(us("2025-03-09T05:30:00Z"))).toBe("2025-03-09 03:00:00-02:30");
  });
});

describe("parseTimestampMicros", () => {
  it("parses RFC 3339 forms", () => {
    expect(parseTimestampMicros("2020-03-28T10:00:00Z")).toBe(us("2020-03-28T10:00:00Z"));
    expect(parseTimestampMicros("2020-03-28T10:00:00.123456Z")).toBe(us("2020-03-28T10:00:00.123456Z"));
    expect(parseTimestampMicros("2020-03-28T10:00:00.1+02:00")).toBe(us("2020-03-28T08:00:00.1Z"));
    expect(parseTimestampMicros("2020-03-28T10:00:00-05:30")).toBe(us("2020-03-28T15:30:00Z"));
  });
  it("parses PostgreSQL text forms", () => {
    expect(parseTimestampMicros("2020-03-28 10:00:00.123456+00")).toBe(us("2020-03-28T10:00:00.123456Z"));
    expect(parseTimestampMicros("2020-03-28 10:00:00+02")).toBe(us("2020-03-28T08:00:00Z"));
    expect(parseTimestampMicros("2020-03-28 10:00:00.5+05:30")).toBe(us("2020-03-28T04:30:00.5Z"));
    expect(parseTimestampMicros("1969-12-31 23:59:59.999999+00")).toBe(-1);
  });
  it("keeps all six fraction digits exactly", () => {
    expect(parseTimestampMicros("2020-03-28T10:00:00.000001Z")).toBe(1_585_389_600_000_001);
    expect(parseTimestampMicros("2020-03-28T10:00:00.999999Z")).toBe(1_585_389_600_999_999);
    expect(parseTimestampMicros("2020-03-28T10:00:00.29Z")).toBe(1_585_389_600_290_000);
  });
  it("accepts leap days only in leap years", () => {
    expect(parseTimestampMicros("2024-02-29T00:00:00Z")).toBe(us("2024-02-29T00:00:00Z"));
    expect(parseTimestampMicros("2000-02-29T00:00:00Z")).toBe(us("2000-02-29T00:00:00Z"));
    expect(parseTimestampMicros("2023-02-29T00:00:00Z")).toBeNull();
    expect(parseTimestampMicros("1900-02-29T00:00:00Z")).toBeNull();
  });
  it("rejects invalid input", () => {
    for (const bad of [
      "",
      "garbage",
      "2020-03-28T10:00:00",
      "2020-03-28 10:00:00.123456",
      "2020-03-28T10:00:00.1234567Z",
      "2020-03-28T10:00:00.Z",
      "2020-13-01T10:00:00Z",
      "2020-00-01T10:00:00Z",
      "2020-04-31T10:00:00Z",
      "2020-03-28T24:00:00Z",
      "2020-03-28T10:60:00Z",
      "2020-03-28T10:00:60Z",
      "2020-03-28T10:00Z",
      "2020-03-28T10:00:00+16",
      "2020-03-28T10:00:00+02:60",
      "2020-03-28",
      " 2020-03-28T10:00:00Z",
      "2020-3-28T10:00:00Z",
    ]) {
      expect(parseTimestampMicros(bad), bad).toBeNull();
    }
  });
  it("round-trips formatter output in several zones", () => {
    const rand = mulberry32(42);
    for (const zone of [null, "Europe/Kyiv", "Asia/Kolkata", "America/St_Johns", "America/New_York"]) {
      const f = createTimeFormatter("with_timezone", zone);
      for (let i = 0; i < 500; i++) {
        const micros = Math.floor((rand() - 0.3) * 4e15);
        expect(parseTimestampMicros(f(micros)), `${zone} ${f(micros)}`).toBe(micros);
      }
    }
  });
});

describe("parseFilterTime", () => {
  it("treats values without a zone as UTC", () => {
    expect(parseFilterTime("2019-01-01 00:00:00")).toBe(Date.UTC(2019, 0, 1));
    expect(parseFilterTime("2019-01-01T00:00:00")).toBe(Date.UTC(2019, 0, 1));
    expect(parseFilterTime("2019-01-01")).toBe(Date.UTC(2019, 0, 1));
    expect(parseFilterTime("2019-06-15T13:45")).toBe(Date.UTC(2019, 5, 15, 13, 45));
  });
  it("applies zones and keeps milliseconds, truncating finer digits", () => {
    expect(parseFilterTime("2019-01-01T00:00:00.123Z")).toBe(Date.UTC(2019, 0, 1) + 123);
    expect(parseFilterTime("2019-01-01T00:00:00+02:00")).toBe(Date.UTC(2018, 11, 31, 22));
    expect(parseFilterTime("2019-01-01 00:00:00-05")).toBe(Date.UTC(2019, 0, 1, 5));
    expect(parseFilterTime("2019-01-01T00:00:00.123999Z")).toBe(Date.UTC(2019, 0, 1) + 123);
    expect(parseFilterTime("2019-01-01T00:00:00.5")).toBe(Date.UTC(2019, 0, 1) + 500);
  });
  it("rejects invalid values", () => {
    for (const bad of [
      "",
      "yesterday",
      "2019-02-30",
      "2019-01-01T25:00:00",
      "2019-01-01T00:00:00+16:00",
      "2019/01/01",
    ]) {
      expect(parseFilterTime(bad), bad).toBeNull();
    }
  });
});

describe("isoMillis", () => {
  it("formats epoch milliseconds as ISO 8601 UTC", () => {
    expect(isoMillis(Date.UTC(2019, 0, 1))).toBe("2019-01-01T00:00:00.000Z");
    expect(isoMillis(Date.UTC(2025, 2, 30, 1, 2, 3, 45))).toBe("2025-03-30T01:02:03.045Z");
    expect(isoMillis(-1)).toBe("1969-12-31T23:59:59.999Z");
  });
});

describe("wallClockToInstant: a zone-less time read in the session zone, as PostgreSQL reads it", () => {
  // [zone, local time, the instant PostgreSQL gives `'<local>'::timestamptz` after SET timezone TO zone]
  const cases: Array<[string | null, string, string, string]> = [
    [null, "2019-01-01T00:00:00.000", "2019-01-01T00:00:00.000Z", "no zone: UTC"],
    ["UTC", "2019-01-01T00:00:00.000", "2019-01-01T00:00:00.000Z", "UTC"],
    ["Europe/Kyiv", "2019-01-01T00:00:00.000", "2018-12-31T22:00:00.000Z", "Kyiv winter (+02)"],
    ["Europe/Kyiv", "2019-07-01T00:00:00.250", "2019-06-30T21:00:00.250Z", "Kyiv summer (+03), millis kept"],
    ["Asia/Kolkata", "2019-01-01T00:00:00.000", "2018-12-31T18:30:00.000Z", "a half-hour offset"],
    // Kyiv springs forward at 03:00 local (01:00Z) on 2019-03-31: 03:00-04:00 does not exist.
    ["Europe/Kyiv", "2019-03-31T02:59:59.000", "2019-03-31T00:59:59.000Z", "Kyiv just before the gap"],
    [
      "Europe/Kyiv",
      "2019-03-31T03:30:00.000",
      "2019-03-31T01:30:00.000Z",
      "Kyiv gap: the offset before (+02)",
    ],
    ["Europe/Kyiv", "2019-03-31T04:00:00.000", "2019-03-31T01:00:00.000Z", "Kyiv after the gap (+03)"],
    // Kyiv falls back at 04:00 local (01:00Z) on 2019-10-27: 03:00-04:00 happens twice.
    ["Europe/Kyiv", "2019-10-27T02:59:59.000", "2019-10-26T23:59:59.000Z", "Kyiv before the overlap (+03)"],
    [
      "Europe/Kyiv",
      "2019-10-27T03:30:00.000",
      "2019-10-27T01:30:00.000Z",
      "Kyiv overlap: the offset after (+02)",
    ],
    ["Europe/Kyiv", "2019-10-27T04:00:00.000", "2019-10-27T02:00:00.000Z", "Kyiv after the overlap"],
    // New York springs forward at 02:00 EST (07:00Z) on 2021-03-14; falls back at 02:00 EDT (06:00Z) on 2021-11-07.
    ["America/New_York", "2021-03-14T01:59:59.000", "2021-03-14T06:59:59.000Z", "NY before the gap (EST)"],
    ["America/New_York", "2021-03-14T02:00:00.000", "2021-03-14T07:00:00.000Z", "NY gap start: EST"],
    [
      "America/New_York",
      "2021-03-14T02:30:00.000",
      "2021-03-14T07:30:00.000Z",
      "NY gap: EST, i.e. 03:30 EDT",
    ],
    ["America/New_York", "2021-03-14T03:00:00.000", "2021-03-14T07:00:00.000Z", "NY after the gap (EDT)"],
    [
      "America/New_York",
      "2021-11-07T00:59:59.000",
      "2021-11-07T04:59:59.000Z",
      "NY before the overlap (EDT)",
    ],
    ["America/New_York", "2021-11-07T01:00:00.000", "2021-11-07T06:00:00.000Z", "NY overlap start: EST"],
    [
      "America/New_York",
      "2021-11-07T01:30:00.000",
      "2021-11-07T06:30:00.000Z",
      "NY overlap: the second (EST)",
    ],
    ["America/New_York", "2021-11-07T02:00:00.000", "2021-11-07T07:00:00.000Z", "NY after the overlap (EST)"],
    // Southern hemisphere: Sydney falls back 03:00 AEDT -> 02:00 AEST (16:00Z) on 2021-04-04.
    ["Australia/Sydney", "2021-04-04T02:30:00.000", "2021-04-03T16:30:00.000Z", "Sydney overlap: the second"],
    // ...and springs forward 02:00 AEST -> 03:00 AEDT (16:00Z) on 2021-10-03.
    ["Australia/Sydney", "2021-10-03T02:30:00.000", "2021-10-02T16:30:00.000Z", "Sydney gap: AEST"],
  ];
  it.each(cases)("%s %s -> %s (%s)", (zone, local, instant) => {
    expect(isoMillis(wallClockToInstant(Date.parse(`${local}Z`), zone))).toBe(instant);
  });
});
