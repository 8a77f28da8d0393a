// `COPY ... TO STDOUT` through pg: each CopyData chunk handed to a sink, the socket paused while it drains.
import type { Client, Connection, Submittable } from "pg";

/**
 * Where COPY's bytes go. `write` must copy what it keeps before it returns: pg's parser hands out views
 * of a buffer it reuses for later reads. It answers true when it holds enough to be drained; the socket
 * then stops reading until `drain` has settled (the chunks already read still arrive meanwhile).
 */
export type CopySink = {
  write(bytes: Uint8Array): boolean;
  drain(): Promise<void>;
};

type PausableStream = { pause(): unknown; resume(): unknown };

/** Runs one COPY TO STDOUT statement on `client`; resolves with the rows COPY reports having written. */
export function copyOut(client: Client, sql: string, sink: CopySink): Promise<number> {
  const query = new CopyOutQuery(sql, sink);
  client.query(query);
  return query.done;
}

class CopyOutQuery implements Submittable {
  readonly done: Promise<number>;
  private resolve!: (rows: number) => void;
  private reject!: (error: Error) => void;
  private rows: number | null = null;
  private error: Error | null = null;
  private draining: Promise<void> | null = null;
  private drainError: Error | null = null;
  private settled = false;

  constructor(
    private readonly text: string,
    private readonly sink: CopySink,
  ) {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: Connection): void {
    (connection as unknown as { query(text: string): void }).query(this.text);
  }

  handleCopyData(message: { chunk: Uint8Array }, connection: Connection): void {
    if (this.error || this.drainError) return;
    if (!this.sink.write(message.chunk) || this.draining) return;
    const stream = (connection as unknown as { stream: PausableStream }).stream;
    stream.pause();
    this.draining = this.sink.drain().then(
      () => {
        this.draining = null;
        stream.resume();
      },
      (error: unknown) => {
        // The rest of the output has nowhere to go: the caller ends the connection (the server stops).
        this.drainError = error instanceof Error ? error : new Error(String(error));
        this.draining = null;
        this.settle(this.drainError);
      },
    );
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)$/.exec(message.text ?? "");
    this.rows = match ? Number(match[1]) : null;
  }

  handleReadyForQuery(): void {
    if (this.rows === null && !this.error) this.error = new Error("COPY ended without reporting its rows");
    this.settle(this.error);
  }

  /** A server error (ReadyForQuery follows) or a broken connection (nothing follows). */
  handleError(error: Error): void {
    this.error ??= error;
    this.settle(this.error);
  }

  handleCopyInResponse(connection: Connection): void {
    (connection as unknown as { sendCopyFail(message: string): void }).sendCopyFail(
      "this statement only copies out",
    );
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}

  /**
   * Resolves or rejects once, after a drain in progress has finished writing what it took: a COPY that
   * completed while its last drain failed has not been stored, and fails.
   */
  private settle(error: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    const finish = () => {
      const failure = error ?? this.drainError;
      if (failure) this.reject(failure);
      else this.resolve(this.rows ?? 0);
    };
    if (this.draining) void this.draining.then(finish);
    else finish();
  }
}
