// A bench-only `wrangler dev`: its own config (generated from wrangler.toml), free port, --persist-to dir
// under bench/out/, secrets via --var. Also finds its workerd process and reads VmHWM/VmRSS from /proc.
import { spawn, spawnSync } from "node:child_process";
import {
  createWriteStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";
import { experimental_readRawConfig } from "wrangler";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const OUT = path.join(ROOT, "bench", "out");
const WRANGLER = path.join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export const ADMIN_TOKEN = "bench-admin-token";
export const JWT_SECRET = "bench-customer-v1-jwt-secret";
/** POST /cdr-exports limit in the bench config (production: 100 / 60 s per customer). */
export const BENCH_EXPORT_RATE_LIMIT = 10_000_000;

function baseConfig(vars) {
  // wrangler's own reader of wrangler.toml; the copy below is written as JSON, which wrangler reads too.
  const config = structuredClone(
    experimental_readRawConfig({ config: path.join(ROOT, "wrangler.toml") }).rawConfig,
  );
  for (const d1 of config.d1_databases ?? []) {
    if (d1.migrations_dir) d1.migrations_dir = path.relative(OUT, path.resolve(ROOT, d1.migrations_dir));
  }
  for (const limiter of config.ratelimits ?? []) {
    if (limiter.name === "EXPORT_RATE_LIMITER") limiter.simple.limit = BENCH_EXPORT_RATE_LIMIT;
  }
  config.vars = { ...config.vars, ...vars };
  return config;
}

function writeConfig(name, config) {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, name);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/**
 * Bundles the Worker once (`wrangler deploy --dry-run --outdir`) and writes bench/out/<label>.json:
 * wrangler.toml with paths relative to bench/out/, `main` = the bundle with `no_bundle`, and the
 * export-creation rate limit raised (so the POST benchmark measures the route, not the 429 path).
 * The bundle is a snapshot: edits to src/ while the bench runs neither reload nor change the Worker
 * under test. `entry` replaces src/index.ts (the profiling Worker); `vars` are merged over the vars.
 */
export function buildBenchWorker({ label = "wrangler.bench", entry, vars = {} } = {}) {
  const config = baseConfig(vars);
  config.main = path.relative(OUT, entry ?? path.resolve(ROOT, config.main));
  const buildConfig = writeConfig(`${label}.build.json`, config);
  const outdir = path.join(OUT, `dist-${label}`);
  rmSync(outdir, { recursive: true, force: true });
  const r = spawnSync(
    process.execPath,
    [WRANGLER, "deploy", "--dry-run", "--outdir", outdir, "-c", buildConfig],
    {
      env: wranglerEnv(),
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(`bundling failed:\n${r.stdout}\n${r.stderr}`);
  const bundle = `${path.basename(config.main).replace(/\.[cm]?[jt]s$/, "")}.js`;
  config.main = path.relative(OUT, path.join(outdir, bundle));
  config.no_bundle = true;
  // Modules the bundle imports (e.g. Text rules' files, written as <hash>-<name>) keep their rule's type.
  const extra = readdirSync(outdir).filter((f) => f !== bundle && !f.endsWith(".map") && f !== "README.md");
  if (extra.length) {
    const typeOf = (file) =>
      (config.rules ?? []).find((rule) => rule.globs.some((g) => file.endsWith(path.basename(g))))?.type ??
      "ESModule";
    config.rules = extra.map((file) => ({ type: typeOf(file), globs: [file], fallthrough: true }));
    config.find_additional_modules = true;
  }
  return { config: writeConfig(`${label}.json`, config), bundle: path.join(outdir, bundle) };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function wranglerEnv() {
  return { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
}

/** Runs a wrangler command to completion; its output goes to `logFile`. */
export function wranglerRun(args, logFile) {
  const r = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: OUT,
    env: wranglerEnv(),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (logFile) writeFileSync(logFile, `${r.stdout}\n${r.stderr}`);
  if (r.status !== 0)
    throw new Error(`wrangler ${args.slice(0, 3).join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
}

/** `wrangler d1 migrations apply DB --local` against the bench's persist dir. */
export function applyMigrations(config, persistTo, logFile) {
  wranglerRun(
    ["d1", "migrations", "apply", "DB", "--local", "-c", config, "--persist-to", persistTo],
    logFile,
  );
}

/** Children of `pid`, recursively, as {pid, comm}. */
function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push({ pid: Number(name), comm });
    } catch {
      // the process went away while we looked
    }
  }
  const found = [];
  const walk = (p) => {
    for (const child of children.get(p) ?? []) {
      found.push(child);
      walk(child.pid);
    }
  };
  walk(pid);
  return found;
}

/** VmHWM / VmRSS (KiB → bytes) of a process, or null once it is gone. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
    return { hwm: kib("VmHWM"), rss: kib("VmRSS") };
  } catch {
    return null;
  }
}

/**
 * A workerd launcher that keeps V8's `--trace-gc` lines: miniflare passes on only workerd's structured
 * (JSON) output, so the wrapper sends workerd's stdout, line-buffered, to `traceFile` instead.
 */
function gcTraceLauncher(traceFile) {
  // The workerd wrangler itself runs (its own dependency, which may be newer than the top-level one).
  const workerd = createRequire(path.join(ROOT, "node_modules", "wrangler", "package.json"))(
    "workerd",
  ).default;
  const launcher = path.join(OUT, "workerd-gc-trace.sh");
  writeFileSync(launcher, `#!/bin/sh\nexec stdbuf -oL '${workerd}' "$@" >> '${traceFile}'\n`, {
    mode: 0o755,
  });
  return {
    MINIFLARE_WORKERD_PATH: launcher,
    MINIFLARE_WORKERD_V8_FLAGS: "--trace-gc",
  };
}

export class DevServer {
  /** `gcTrace`: record V8's GC trace of every isolate of the Worker's workerd in bench/out/gc-<label>.log. */
  constructor({ config, persistTo, label, vars = {}, gcTrace = false }) {
    this.config = config;
    this.persistTo = persistTo;
    this.label = label;
    this.vars = vars;
    this.gcTraceFile = gcTrace ? path.join(OUT, `gc-${label}.log`) : null;
    this.logFile = path.join(OUT, `wrangler-${label}.log`);
    // To pick the Worker's inspector target by name where one is listed (inspector() in profile.mjs).
    this.workerName = JSON.parse(readFileSync(config, "utf8")).name;
  }

  async start() {
    this.port = await freePort();
    this.inspectorPort = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    const vars = { CUSTOMER_V1_JWT_SECRET: JWT_SECRET, ADMIN_API_TOKEN: ADMIN_TOKEN, ...this.vars };
    const args = [
      WRANGLER,
      "dev",
      "-c",
      this.config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--inspector-port",
      String(this.inspectorPort),
      "--persist-to",
      this.persistTo,
      "--show-interactive-dev-session=false",
      // Request lines would be written by wrangler's Node process for every benchmark request.
      "--log-level",
      "warn",
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ];
    const log = createWriteStream(this.logFile);
    if (this.gcTraceFile) writeFileSync(this.gcTraceFile, "");
    const env = { ...wranglerEnv(), ...(this.gcTraceFile ? gcTraceLauncher(this.gcTraceFile) : {}) };
    // Own process group, so stop() ends wrangler and its workerd children, and nothing else.
    this.child = spawn(process.execPath, args, {
      cwd: OUT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout.pipe(log);
    this.child.stderr.pipe(log);
    this.exited = new Promise((resolve) => this.child.on("exit", resolve));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`wrangler dev exited early (see ${this.logFile})`);
      try {
        const res = await fetch(`${this.base}/__bench_ready`);
        await res.arrayBuffer();
        if (res.status === 404) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`wrangler dev did not start (see ${this.logFile})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    this.workerdPid = this.findWorkerd();
    return this;
  }

  /**
   * The workerd that runs the user Worker (with its D1, R2 and Queues simulators): wrangler 4 also runs a
   * small proxy workerd in front of it; the user Worker's is the one started with an inspector address.
   */
  findWorkerd() {
    const all = descendants(this.child.pid).filter((p) => p.comm === "workerd");
    this.workerdAll = all.map((p) => p.pid);
    const user = all.find((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/cmdline`, "utf8").includes("--inspector-addr");
      } catch {
        return false;
      }
    });
    if (!user) throw new Error("no workerd process with an inspector under wrangler dev");
    return user.pid;
  }

  memory() {
    return memoryOf(this.workerdPid);
  }

  /**
   * The user workerd's own HTTP entry, bypassing wrangler's proxy workerd (which every request to the
   * wrangler port crosses: a Durable Object that forwards it). Found among the process's listening
   * sockets as the one that answers like the app (its JSON 404).
   */
  async directBase() {
    const inodes = new Set();
    for (const fd of readdirSync(`/proc/${this.workerdPid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${this.workerdPid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      } catch {
        // fd closed meanwhile
      }
    }
    const ports = [];
    for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A" && inodes.has(f[9])) ports.push(Number.parseInt(f[1].split(":")[1], 16));
    }
    for (const port of ports) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/__bench_ready`, {
          signal: AbortSignal.timeout(2000),
        });
        if ((await res.text()).includes("No route matches this request")) return `http://127.0.0.1:${port}`;
      } catch {
        // not an HTTP entry
      }
    }
    return null;
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    try {
      process.kill(-this.child.pid, "SIGTERM");
    } catch {
      return;
    }
    const timeout = new Promise((r) => setTimeout(r, 10_000, "timeout"));
    if ((await Promise.race([this.exited, timeout])) === "timeout") {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await this.exited;
    }
    // workerd children may outlive wrangler by a moment; wait until the persist dir is free.
    for (let i = 0; i < 50 && this.workerdAll.some((pid) => memoryOf(pid)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
