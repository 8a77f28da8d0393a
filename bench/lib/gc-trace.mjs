// Heap peaks from V8's `--trace-gc` lines (bench/lib/dev-server.mjs records them): unlike inspector
// readings, a GC line is written by the isolate itself whenever it collects, however busy it is.
import { closeSync, openSync, readSync, statSync } from "node:fs";

// [pid:isolate]   1234 ms: Mark-Compact (reduce) 45.2 (60.1) -> 30.2 (55.0) MB, ...
const LINE =
  /^\[(\d+):(0x[0-9a-f]+)\]\s+\d+ ms: ([A-Za-z -]+?(?: \([a-z ]+\))?) ([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB/;

/** Where the trace file ends now: the start of a window read by gcWindow(). */
export function gcMark(file) {
  return statSync(file).size;
}

/**
 * Per isolate of process `pid`, the GCs between two marks, in MiB as V8 prints them: `peakUsed` (heap in
 * use when a GC started: live data plus the garbage it was about to collect), `peakAfterMarkCompact`
 * (what a full GC left: the live data), `peakCommitted` (what V8 had reserved).
 */
export function gcWindow(file, pid, from, to = gcMark(file)) {
  const fd = openSync(file, "r");
  const buffer = Buffer.alloc(Math.max(0, to - from));
  try {
    readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    closeSync(fd);
  }
  const isolates = new Map();
  for (const line of buffer.toString("utf8").split("\n")) {
    const m = LINE.exec(line);
    if (!m || Number(m[1]) !== pid) continue;
    const [, , isolate, kind, before, committedBefore, after, committedAfter] = m;
    const s = isolates.get(isolate) ?? {
      isolate,
      gcs: 0,
      markCompacts: 0,
      peakUsed: 0,
      peakAfterMarkCompact: null,
      peakCommitted: 0,
    };
    s.gcs++;
    if (kind.startsWith("Mark")) {
      s.markCompacts++;
      s.peakAfterMarkCompact = Math.max(s.peakAfterMarkCompact ?? 0, Number(after));
    }
    s.peakUsed = Math.max(s.peakUsed, Number(before));
    s.peakCommitted = Math.max(s.peakCommitted, Number(committedBefore), Number(committedAfter));
    isolates.set(isolate, s);
  }
  return [...isolates.values()].sort((a, b) => b.gcs - a.gcs);
}

/**
 * The Worker's isolate among the process's: the one that collects while `/__bench/gc-mark` (the profiling
 * Worker's route) allocates 64 MiB of short-lived objects in it.
 */
export async function workerIsolate(server) {
  const from = gcMark(server.gcTraceFile);
  const res = await fetch(`${server.base}/__bench/gc-mark?mb=64`);
  if (!res.ok) throw new Error(`gc-mark: ${res.status}`);
  await res.arrayBuffer();
  const [busiest] = gcWindow(server.gcTraceFile, server.workerdPid, from);
  if (!busiest || busiest.gcs < 2) throw new Error("no isolate collected during gc-mark");
  return busiest.isolate;
}
