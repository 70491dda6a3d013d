/**
 * The benchmark's baseline: a minimal Deno ACK server, run as its own
 * process. It answers each line with an ACK carrying its id (or each device
 * packet with the protocol's ACK): no JSON parse, no schema, no journal, no
 * faults. It is the practical limit of a Deno server on this machine, and it
 * serves `GET /metrics` like the real servers so the benchmark reads it the
 * same way.
 *
 * With `--net node` it does the same over `node:net` (the socket layer the
 * project's servers use, for the TCP reset `Deno.Conn` cannot send): the
 * floor of any server built on it.
 *
 * ```sh
 * deno run -A bench/minimal_server.ts --codec line-json
 * # minimal tcp=127.0.0.1:PORT admin=http://127.0.0.1:PORT codec=line-json net=deno
 * deno run -A bench/minimal_server.ts --net node
 * ```
 *
 * @module
 */
import { createServer, type Socket } from "node:net";
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
  /**
   * The socket layer: `deno` (default), `Deno.listen` and `Deno.Conn`; or
   * `node`, `node:net` (its own read buffers: `readBuffer` is not used).
   */
  net?: "deno" | "node";
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

/** Counts of what a minimal server answered. */
interface Counts {
  framesIn: number;
  repliesOut: number;
  open(): number;
}

/** A minimal server's TCP side, either socket layer. */
interface TcpSide {
  port: number;
  close(): Promise<void>;
}

/** Starts a minimal ACK server and its `/metrics`. */
export async function startMinimalServer(
  options: MinimalServerOptions = {},
): Promise<MinimalServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const counts: Counts = { framesIn: 0, repliesOut: 0, open: () => 0 };
  const tcp = options.net === "node"
    ? await listenNode(options, hostname, counts)
    : listenDeno(options, hostname, counts);
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
        `failover_open_connections ${counts.open()}`,
        "# TYPE failover_frames_in_total counter",
        `failover_frames_in_total ${counts.framesIn}`,
        "# TYPE failover_replies_out_total counter",
        `failover_replies_out_total ${counts.repliesOut}`,
      ];
      return new Response(lines.join("\n") + "\n", {
        headers: { "content-type": "text/plain; version=0.0.4" },
      });
    },
  );
  const close = async () => {
    await tcp.close();
    await admin.shutdown();
  };
  return {
    port: tcp.port,
    adminPort: admin.addr.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The minimal server over `node:net`: a write per chunk read, as the project's connections make. */
async function listenNode(
  options: MinimalServerOptions,
  hostname: string,
  counts: Counts,
): Promise<TcpSide> {
  const codec = options.codec ?? "line-json";
  const sockets = new Set<Socket>();
  counts.open = () => sockets.size;
  const server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    const answer = answerer(codec);
    socket.on("data", (chunk: Uint8Array) => {
      const { frames, reply } = answer.push(chunk);
      counts.framesIn += frames;
      if (!reply) return;
      counts.repliesOut += frames;
      socket.write(reply);
    });
    socket.on("error", () => {
      // The peer went away.
    });
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: hostname, port: 0 }, resolve)
  );
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      const closed = new Promise<void>((resolve) =>
        server.close(() => resolve())
      );
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}

/** The minimal server over `Deno.Conn`. */
function listenDeno(
  options: MinimalServerOptions,
  hostname: string,
  counts: Counts,
): TcpSide {
  const codec = options.codec ?? "line-json";
  const listener = Deno.listen({ hostname, port: 0 });
  const conns = new Set<Deno.Conn>();
  counts.open = () => conns.size;
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
        counts.framesIn += frames;
        if (!reply) continue;
        counts.repliesOut += frames;
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
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
      await served;
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      codec: { type: "string", default: "line-json" },
      "read-buffer": { type: "string", default: "65536" },
      net: { type: "string", default: "deno" },
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
  if (values.net !== "deno" && values.net !== "node") {
    console.error(
      `error: Invalid --net "${values.net}": expected deno or node`,
    );
    Deno.exit(2);
  }
  const server = await startMinimalServer({
    codec,
    readBuffer: Number(values["read-buffer"]),
    net: values.net,
  });
  console.log(
    `minimal tcp=127.0.0.1:${server.port} admin=http://127.0.0.1:${server.adminPort} codec=${codec} net=${values.net}`,
  );
  Deno.addSignalListener("SIGTERM", () => {
    void server.close().then(() => Deno.exit(0));
  });
}
