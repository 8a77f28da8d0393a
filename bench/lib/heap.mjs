// The Worker isolate's own V8 heap, sampled through wrangler dev's inspector while an export runs.
import { inspector } from "./profile.mjs";

/**
 * Reads `Runtime.getHeapUsage` of the user Worker once idle, then every `everyMs` until the returned stop()
 * is called, and once more then; keeps the peaks of V8 used and total (committed) heap and of ArrayBuffer
 * bytes. VmHWM counts the whole workerd process, which also hosts the local D1 (SQLite) and R2 simulators;
 * this is the isolate alone. A reading waits until workerd lets the inspector into the isolate, which a
 * busy export seldom or never does (in the bench's runs the next reading came once the export was over):
 * `samples` and `maxGapMs` tell, and the used "peak" may be the heap at the end. V8 seldom shrinks the
 * total while busy, so that is the steadier figure.
 */
export async function sampleHeap(server, everyMs = 200) {
  const session = await inspector(server);
  const usage = () => session.send("Runtime.getHeapUsage");
  const idle = await usage();
  const heap = {
    everyMs,
    samples: 0,
    maxGapMs: 0,
    idleUsed: idle.usedSize,
    peakUsed: idle.usedSize,
    peakTotal: idle.totalSize,
    // ArrayBuffer backing stores (the export's byte chunks and R2 parts) live outside the V8 heap.
    peakBuffers: idle.backingStorageSize ?? 0,
  };
  let last = performance.now();
  const sample = async () => {
    const { usedSize, totalSize, backingStorageSize = 0 } = await usage();
    heap.samples++;
    heap.maxGapMs = Math.max(heap.maxGapMs, Math.round(performance.now() - last));
    last = performance.now();
    heap.peakUsed = Math.max(heap.peakUsed, usedSize);
    heap.peakTotal = Math.max(heap.peakTotal, totalSize);
    heap.peakBuffers = Math.max(heap.peakBuffers, backingStorageSize);
  };
  let running = true;
  let failure = null;
  const loop = (async () => {
    while (running) {
      await sample();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })().catch((error) => {
    failure = error;
  });
  // HeapProfiler.collectGarbage is not used: under workerd its reply (and the GC) only comes when a later
  // message arrives, and not reliably then.
  return async () => {
    running = false;
    await loop;
    try {
      if (failure) throw failure;
      await sample();
      return heap;
    } finally {
      session.close();
    }
  };
}
