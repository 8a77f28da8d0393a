// Where an export's time goes: (1) stage timings from bench/profile-worker.ts (scan → CSV → UTF-8 → gzip →
// R2, each stage run alone), (2) a V8 CPU profile of one real export through wrangler dev's inspector,
// attributed to the source files of the bundle.
import { readFileSync, writeFileSync } from "node:fs";

/** Runs every stage `repeat` times (best wall time kept) and derives each stage's own share. */
export async function stageProfile(base, { accountId, fromMs, toMs, pageRows, level, repeat = 1, only }) {
  const stages = only ? [only] : ["scan", "csv", "utf8", "gzip", "r2"];
  const results = {};
  for (const stage of stages) {
    for (let i = 0; i < repeat; i++) {
      const query = new URLSearchParams({
        stage,
        account: String(accountId),
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
        ...(pageRows ? { pageRows: String(pageRows) } : {}),
        ...(level ? { level: String(level) } : {}),
      });
      const started = performance.now();
      const res = await fetch(`${base}/__bench/stage?${query}`);
      const body = await res.json();
      if (!res.ok) throw new Error(`stage ${stage}: ${body.error}`);
      const wallMs = performance.now() - started;
      if (!results[stage] || wallMs < results[stage].wallMs) results[stage] = { ...body, wallMs };
    }
  }
  let previous = 0;
  for (const stage of stages) {
    results[stage].ownMs = Math.max(0, results[stage].wallMs - previous);
    previous = results[stage].wallMs;
  }
  return results;
}

/**
 * A Chrome DevTools protocol session with the Worker `server` runs (Node 22's global WebSocket). wrangler
 * dev's `--inspector-port` is its InspectorProxyWorker: it lists a single target, `ws://<host>/ws`, wired
 * to the user Worker's isolate only (wrangler's proxy Worker and miniflare's internal ones are not listed),
 * and takes one client at a time (a second is closed with 1013). miniflare's own inspector proxy, one
 * level down, lists `ws://<host>/<worker name>` per user Worker; that name is preferred when present.
 */
export async function inspector(server) {
  const targets = await (await fetch(`http://127.0.0.1:${server.inspectorPort}/json/list`)).json();
  const named = targets.find((t) => new URL(t.webSocketDebuggerUrl).pathname === `/${server.workerName}`);
  const target = named ?? (targets.length === 1 ? targets[0] : undefined);
  if (!target) {
    const urls = targets.map((t) => t.webSocketDebuggerUrl).join(", ");
    throw new Error(`no inspector target for Worker ${server.workerName} (targets: ${urls || "none"})`);
  }
  // wrangler's inspector proxy only accepts DevTools-like origins (localhost among them).
  const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { Origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("inspector connection failed"));
  });
  let nextId = 1;
  const pending = new Map();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
    else waiter.resolve(message.result);
  };
  // Otherwise a call in flight when the proxy or workerd goes away would never settle.
  ws.onclose = (event) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`inspector closed (${event.code})`));
    pending.clear();
  };
  return {
    send(method, params = {}) {
      if (ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("inspector closed"));
      const id = nextId++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    close: () => ws.close(),
  };
}

/** Starts the CPU profiler of the user Worker; the returned function stops it and returns the profile. */
export async function startCpuProfile(server, samplingIntervalUs = 500) {
  const session = await inspector(server);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
  await session.send("Profiler.start");
  return async () => {
    const { profile } = await session.send("Profiler.stop");
    session.close();
    return profile;
  };
}

/** Generated line (1-based) → source path, from esbuild's `// path/file.ts` markers in an unminified bundle. */
function moduleMarkers(bundleFile) {
  const markers = [];
  readFileSync(bundleFile, "utf8")
    .split("\n")
    .forEach((line, i) => {
      const m = /^\/\/ ((?:src|bench|node_modules|scripts)\/\S+|\.\.\/\S+)$/.exec(line);
      if (m) markers.push({ line: i + 1, file: m[1].replace(/^(\.\.\/)+/, "") });
    });
  return (lineNumber) => {
    let lo = 0;
    let hi = markers.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (markers[mid].line <= lineNumber) {
        found = markers[mid].file;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/**
 * Self time per source file and per function. Frames outside the bundle keep their URL (workerd's built-in
 * modules, e.g. the D1 binding's JavaScript) or V8's names: (program) is native work outside JavaScript
 * (including the gzip that CompressionStream runs), (garbage collector), (idle) is waiting for I/O.
 */
export function summarizeProfile(profile, bundleFile, rawFile) {
  if (rawFile) writeFileSync(rawFile, JSON.stringify(profile));
  const fileOf = moduleMarkers(bundleFile);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const files = new Map();
  const functions = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    totalUs += us;
    // workerd names the bundle's frames by the module name, e.g. "index.js".
    const inBundle =
      callFrame.url !== "" &&
      bundleFile.endsWith(
        `/${callFrame.url
          .replace(/^file:\/\//, "")
          .split("/")
          .pop()}`,
      );
    const file = inBundle
      ? fileOf(callFrame.lineNumber + 1)
      : callFrame.url || callFrame.functionName || "(native)";
    const fn = `${callFrame.functionName || "(anonymous)"} ${file}${inBundle ? `:${callFrame.lineNumber + 1}` : ""}`;
    files.set(file, (files.get(file) ?? 0) + us);
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: us / totalUs }));
  return { totalMs: Math.round(totalUs / 1000), files: top(files, 15), functions: top(functions, 20) };
}
