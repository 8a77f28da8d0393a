// The Worker isolate's own V8 heap, sampled through wrangler dev's inspector while an export runs.
import { inspector } from "./profile.mjs";

/**
 * Reads `Runtime.getHeapUsage` of the user Worker now (idle) and then every `everyMs` until the returned
 * stop() is called, keeping the peak used and total sizes. VmHWM counts the whole workerd process, which
 * also hosts the local D1 (SQLite) and R2 simulators; this is the isolate's JavaScript heap alone. A
 * reading waits for the isolate lock, so it lands between the export's tasks: a sampled peak, a lower bound.
 */
export async function sampleHeap(server, everyMs = 200) {
  const session = await inspector(server);
  const read = () => session.send("Runtime.getHeapUsage");
  const idle = await read();
  const heap = {
    everyMs,
    samples: 0,
    idleUsed: idle.usedSize,
    peakUsed: idle.usedSize,
    peakTotal: idle.totalSize,
  };
  let running = true;
  let failure = null;
  const loop = (async () => {
    while (running) {
      const { usedSize, totalSize } = await read();
      heap.samples++;
      heap.peakUsed = Math.max(heap.peakUsed, usedSize);
      heap.peakTotal = Math.max(heap.peakTotal, totalSize);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })().catch((error) => {
    failure = error;
  });
  return async () => {
    running = false;
    await loop;
    try {
      if (failure) throw failure;
      // What the isolate still holds after a full GC once the export is over (a leak would show here).
      // V8 runs that GC as a task of the isolate's; should workerd not run it, the figure is left out.
      const gc = session.send("HeapProfiler.collectGarbage").then(() => true);
      if (await Promise.race([gc, new Promise((r) => setTimeout(r, 10_000, false).unref())])) {
        heap.afterGcUsed = (await read()).usedSize;
      }
      return heap;
    } finally {
      session.close();
    }
  };
}
