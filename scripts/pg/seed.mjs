// Prints the SQL that loads the fixture's CDRs (scripts/pg/fixture.mjs) into a fresh cdr.cdr: its day
// partitions, one COPY, ANALYZE. `node scripts/pg/seed.mjs | psql ...` (scripts/pg/setup.sh does it).
import { copyHeader, copyLine, dayPartitionsSql } from "./copy-text.mjs";
import { DST_DAYS, END_DAY, FIRST_DAY, fixtureCdrs } from "./fixture.mjs";

/** Epoch microseconds of an RFC 3339 time with up to 6 fraction digits. */
function micros(iso) {
  const fraction = (/\.(\d+)/.exec(iso)?.[1] ?? "").padEnd(6, "0");
  return Date.parse(iso) * 1000 + Number(fraction.slice(3));
}

const nextDay = (day) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const out = [
  dayPartitionsSql(FIRST_DAY, END_DAY),
  ...DST_DAYS.map((day) => dayPartitionsSql(day, nextDay(day))),
  copyHeader(),
];
const starts = new Set();
for (const cdr of fixtureCdrs()) {
  // Yeti orders by time_start alone: equal starts would leave the expected files' order to the planner.
  const start = micros(cdr.time_start);
  if (starts.has(start)) throw new Error(`two seeded CDRs start at ${cdr.time_start}`);
  starts.add(start);
  out.push(copyLine(cdr));
}
out.push("\\.\nANALYZE cdr.cdr;\n");
process.stdout.write(out.join(""));
