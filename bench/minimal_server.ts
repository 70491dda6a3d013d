/**
 * The benchmark's baseline: a minimal Deno ACK server, run as its own
 * process. It answers each line with an ACK carrying its id (or each device
 * packet with the protocol's ACK): no JSON parse, no schema, no journal, no
 * faults. It is the practical limit of a Deno server on this machine, and it
 * serves `GET /metrics` like the real servers so the benchmark reads it the
 * same way.
 *
 * ```sh
 * deno run -A bench/minimal_server.ts --codec line-json
 * # minimal tcp=127.0.0.1:PORT admin=http://127.0.0.1:PORT codec=line-json
 * ```
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { answerer, BENCH_CODECS, type BenchCodec } from "./_wire.ts";

/** Options for {@linkcode startMinimalServer}. */
export interface MinimalServerOptions {
  /** The wire codec (default `line-json`). */
  codec?: BenchCodec;
  /** Host to bind (default `127.0.0.1`). */
  hostname?: string;
  /**
   * Bytes of each connection's read buffer (default 65536). Ten thousand
   * idle connections hold ten thousand of them: use a small one there.
   */
  readBuffer?: number;
}

/** A running minimal server. */
export interface MinimalServer extends AsyncDisposable {
  /** Its TCP port. */
  port: number;
  /** Its admin (metrics) port. */
  adminPort: number;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a minimal ACK server and its `/metrics`. */
export function startMinimalServer(
  options: MinimalServerOptions = {},
): MinimalServer {
  const codec = options.codec ?? "line-json";
  const hostname = options.hostname ?? "127.0.0.1";
  const listener = Deno.listen({ hostname, port: 0 });
  const conns = new Set<Deno.Conn>();
  let framesIn = 0;
  let repliesOut = 0;
  const served = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      void serve(conn).finally(() => conns.delete(conn));
    }
  })().catch(() => {});
  async function serve(conn: Deno.Conn): Promise<void> {
    const answer = answerer(codec);
    const buffer = new Uint8Array(options.readBuffer ?? 65536);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        const { frames, reply } = answer.push(buffer.subarray(0, n));
        framesIn += frames;
        if (!reply) continue;
        repliesOut += frames;
        let written = 0;
        while (written < reply.length) {
          written += await conn.write(reply.subarray(written));
        }
      }
    } catch {
      // The peer went away.
    }
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
  const admin = Deno.serve(
    { hostname, port: 0, onListen: () => {} },
    () => {
      const cpu = process.cpuUsage();
      const lines = [
        "# TYPE process_cpu_seconds_total counter",
        `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
        "# TYPE process_resident_memory_bytes gauge",
        `process_resident_memory_bytes ${Deno.memoryUsage().rss}`,
        "# TYPE failover_open_connections gauge",
        `failover_open_connections ${conns.size}`,
        "# TYPE failover_frames_in_total counter",
        `failover_frames_in_total ${framesIn}`,
        "# TYPE failover_replies_out_total counter",
        `failover_replies_out_total ${repliesOut}`,
      ];
      return new Response(lines.join("\n") + "\n", {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    },
  );
  const close = async () => {
    listener.close();
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
    await served;
    await admin.shutdown();
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    adminPort: admin.addr.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      codec: { type: "string", default: "line-json" },
      "read-buffer": { type: "string", default: "65536" },
    },
  });
  const codec = values.codec as BenchCodec;
  if (!BENCH_CODECS.includes(codec)) {
    console.error(
      `error: Invalid --codec "${codec}": expected one of ${
        BENCH_CODECS.join(", ")
      }`,
    );
    Deno.exit(2);
  }
  const server = startMinimalServer({
    codec,
    readBuffer: Number(values["read-buffer"]),
  });
  console.log(
    `minimal tcp=127.0.0.1:${server.port} admin=http://127.0.0.1:${server.adminPort} codec=${codec}`,
  );
  Deno.addSignalListener("SIGTERM", () => {
    void server.close().then(() => Deno.exit(0));
  });
}
