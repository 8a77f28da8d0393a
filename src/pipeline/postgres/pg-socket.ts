// pg's socket in workerd (cloudflare:sockets) that can stop reading: the back-pressure a COPY needs.
import { connect } from "cloudflare:sockets";
import { EventEmitter } from "node:events";

/**
 * The duplex surface pg's Connection uses (connect, write, end, destroy, startTls, `data`/`connect`/
 * `close`/`error` events), plus pause() and resume(). pg-cloudflare's socket reads as fast as the network
 * delivers and cannot pause, so a COPY larger than the Worker could compress piled up in memory; here the
 * read loop waits while paused, and TCP flow control holds the rest back in the server.
 */
/**
 * Bytes asked of each read: the default reader hands out 4 KiB chunks, and a COPY of a million CDRs then
 * costs 120k reads; a BYOB read of 64 KiB takes what has arrived, up to that (measured: 2.8× fewer CPU
 * seconds for the socket, bench/RESULTS.md). Each read gets a new buffer: pg's parser may keep a view of it.
 */
const READ_BYTES = 64 * 1024;

export class PgSocket extends EventEmitter {
  writable = false;
  destroyed = false;
  private socket: Socket | null = null;
  private writer: WritableStreamDefaultWriter<Uint8Array> | null = null;
  private reader: ReadableStreamBYOBReader | null = null;
  private paused = false;
  private wake: (() => void) | null = null;
  /** Set once end() or destroy() ran: a read or close failing afterwards is the end, not an error. */
  private ending = false;
  private failed = false;

  constructor(private readonly ssl: unknown) {
    super();
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  connect(port: number, host: string, listener?: () => void): this {
    if (listener) this.once("connect", listener);
    try {
      this.attach(
        connect(`${host}:${port}`, {
          secureTransport: this.ssl ? "starttls" : "off",
          allowHalfOpen: false,
        }),
      );
    } catch (error) {
      queueMicrotask(() => this.emit("error", error));
      return this;
    }
    // With TLS, pg reads the server's one-byte answer to its SSLRequest, then calls startTls().
    void this.read(Boolean(this.ssl));
    (this.writer as WritableStreamDefaultWriter<Uint8Array>).ready.then(
      () => {
        this.writable = true;
        this.emit("connect");
      },
      (error) => this.fail(error),
    );
    return this;
  }

  /** Stops reading after the chunk being handed out; the server's further output waits in TCP. */
  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    this.wake?.();
    this.wake = null;
    return this;
  }

  write(data: Uint8Array | string, encoding?: unknown, callback?: (error?: unknown) => void): boolean {
    const done = typeof encoding === "function" ? (encoding as (error?: unknown) => void) : callback;
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    if (!this.writer || bytes.length === 0) {
      done?.();
      return true;
    }
    this.writer.write(bytes).then(
      () => done?.(),
      (error) => {
        done?.(error);
        this.fail(error);
      },
    );
    return true;
  }

  end(data?: Uint8Array, encoding?: unknown, callback?: () => void): this {
    const done = typeof encoding === "function" ? (encoding as () => void) : callback;
    this.ending = true;
    this.writable = false;
    const close = () => {
      const socket = this.socket;
      this.socket = null;
      this.resume();
      if (!socket) return done?.();
      socket.close().then(
        () => this.emit("close"),
        () => this.emit("close"),
      );
      done?.();
    };
    if (data?.length) this.write(data, close);
    else close();
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    return this.end();
  }

  /** pg's TLS upgrade after the server agreed to it (`getSecureStream` hands the same socket back). */
  startTls(options: { servername?: string; host?: string }): void {
    const socket = this.socket as Socket;
    this.writer?.releaseLock();
    this.reader?.releaseLock();
    this.attach(socket.startTls({ expectedServerHostname: options.servername ?? options.host }));
    void this.read(false);
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    this.writer = socket.writable.getWriter();
    this.reader = socket.readable.getReader({ mode: "byob" });
    // Its failures surface through the reads and writes; this promise must not count as unhandled.
    socket.closed.catch(() => {});
  }

  private async read(once: boolean): Promise<void> {
    const reader = this.reader as ReadableStreamBYOBReader;
    try {
      for (;;) {
        if (this.paused) await new Promise<void>((resolve) => (this.wake = resolve));
        if (this.ending) return;
        const { done, value } = await reader.read(new Uint8Array(READ_BYTES));
        if (done || !value) break;
        // A view, no copy: pg's parser keeps or merges it, and the COPY handler copies what it keeps.
        this.emit("data", Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        if (once) return;
      }
      if (!this.ending) {
        this.socket = null;
        this.emit("close");
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** One `error` per socket: a refused connection fails both the first write and the first read. */
  private fail(error: unknown): void {
    if (this.ending || this.failed) return;
    this.failed = true;
    this.emit("error", error instanceof Error ? error : new Error(String(error)));
  }
}
