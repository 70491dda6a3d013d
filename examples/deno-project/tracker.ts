/**
 * Your code: a tiny tracker that sends records to a server as line JSON
 * (`{"type":"record","id":"r1"}`) and sends each one again until the server
 * ACKs it (`{"type":"ack","id":"r1"}`).
 *
 * @module
 */
import { connect } from "node:net";

/** Options for {@linkcode sendRecords}. */
export interface TrackerOptions {
  /** The server's host. */
  hostname: string;
  /** The server's port. */
  port: number;
  /** How long to wait for an ACK before sending a record again. */
  ackTimeoutMs: number;
  /** Gives up when this aborts. */
  signal: AbortSignal;
}

/** Sends each record until it is ACKed; resolves once all are. */
export function sendRecords(
  ids: string[],
  options: TrackerOptions,
): Promise<{ sends: number }> {
  const socket = connect({ host: options.hostname, port: options.port });
  const waiting = new Set(ids);
  let sends = 0;
  let buffer = "";
  const send = (id: string) => {
    sends++;
    socket.write(JSON.stringify({ type: "record", id }) + "\n");
  };
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      for (const id of waiting) send(id);
    }, options.ackTimeoutMs);
    const finish = (error?: unknown) => {
      clearInterval(timer);
      options.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      socket.once("close", () => error ? reject(error) : resolve({ sends }));
    };
    const onAbort = () => finish(options.signal.reason);
    options.signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", (error) => finish(error));
    socket.on("connect", () => {
      for (const id of waiting) send(id);
    });
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      let newline;
      while ((newline = buffer.indexOf("\n")) !== -1) {
        const frame = JSON.parse(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        if (frame.type === "ack") waiting.delete(frame.id);
      }
      if (waiting.size === 0) finish();
    });
  });
}
