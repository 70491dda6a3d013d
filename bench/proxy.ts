/**
 * The fault proxy's benchmark (not a test): our proxy, started as its own
 * process as a user starts it, beside a minimal Deno pipe proxy
 * (`bench/_pipe_proxy.ts`) in the same run, through the same upstream:
 *
 * - throughput moving 200 MB each way at once (ratio to the baseline), and
 *   that of a bare `node:net` pipe proxy (`bench/_node_pipe_proxy.ts`, the
 *   sockets ours is built on) for the ceiling they set;
 * - added round-trip p99 (proxy minus direct), 32-byte echoes;
 * - 1 000 concurrent proxied links held (each makes a round trip, all open);
 * - a 100 ms latency toxic's error at p99 (round trip minus 100 ms);
 * - the proxy's resident memory idle, after the bulk transfer, and 3 s later.
 *
 * `npx -y deno@2.9.6 run -A bench/proxy.ts [--mb 200]`
 *
 * `deno task bench` calls {@linkcode benchProxy} for its figure 6.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startListeningProcess } from "./_process.ts";

/** One measured figure, as the bench runner reads it. */
export interface ProxyBenchRow {
  /** What was measured. */
  name: string;
  /** Its unit. */
  unit: string;
  /** Our proxy's value. */
  value: number;
  /** The minimal pipe proxy's value, when it has one. */
  baseline?: number;
  /** The target: on the ratio or the value. */
  target?: { on: "ratio" | "value"; op: "<=" | ">="; limit: number };
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
  return kb / 1024;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Writes `bytes` bytes (`chunk` over and over), then the FIN. */
async function sendAll(conn: Deno.Conn, chunk: Uint8Array, bytes: number) {
  let sent = 0;
  while (sent < bytes) {
    const part = Math.min(chunk.length, bytes - sent);
    let written = 0;
    while (written < part) {
      written += await conn.write(chunk.subarray(written, part));
    }
    sent += part;
  }
  await conn.closeWrite();
}

/** Upstream servers in this process: `bulk` sinks and sources, `echo` echoes. */
function startUpstreams(bytes: number) {
  const bulk = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const chunk = new Uint8Array(64 * 1024).fill(7);
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of bulk) {
      conns.add(conn);
      (async () => {
        const sink = (async () => {
          const buffer = new Uint8Array(256 * 1024);
          while ((await conn.read(buffer)) !== null) { /* count nothing */ }
        })();
        await sendAll(conn, chunk, bytes);
        await sink;
        conn.close();
        conns.delete(conn);
      })().catch(() => conns.delete(conn));
    }
  })().catch(() => {});
  (async () => {
    for await (const conn of echo) {
      conns.add(conn);
      conn.readable.pipeTo(conn.writable).catch(() => {}).finally(() =>
        conns.delete(conn)
      );
    }
  })().catch(() => {});
  return {
    bulkPort: (bulk.addr as Deno.NetAddr).port,
    echoPort: (echo.addr as Deno.NetAddr).port,
    close() {
      bulk.close();
      echo.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Gone already.
        }
      }
    },
  };
}

/** Moves `bytes` each way at once through a port; returns MB/s (both ways). */
async function throughput(port: number, bytes: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunk = new Uint8Array(64 * 1024).fill(9);
  const start = performance.now();
  const send = sendAll(conn, chunk, bytes);
  let received = 0;
  const buffer = new Uint8Array(256 * 1024);
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) break;
    received += n;
  }
  await send;
  const seconds = (performance.now() - start) / 1000;
  conn.close();
  if (received !== bytes) {
    throw new Error(`Received ${received} of ${bytes} bytes`);
  }
  return (2 * bytes / 1e6) / seconds;
}

async function echoOnce(conn: Deno.Conn, data: Uint8Array, buffer: Uint8Array) {
  await conn.write(data);
  let got = 0;
  while (got < data.length) {
    const n = await conn.read(buffer.subarray(got, data.length));
    if (n === null) throw new Error("Echo closed");
    got += n;
  }
}

/** Round-trip times (ms) of 32-byte echoes over one connection. */
async function roundTrips(port: number, count: number): Promise<number[]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const data = new Uint8Array(32).fill(1);
  const buffer = new Uint8Array(32);
  const times: number[] = [];
  for (let i = 0; i < count + 200; i++) {
    const start = performance.now();
    await echoOnce(conn, data, buffer);
    if (i >= 200) times.push(performance.now() - start);
  }
  conn.close();
  return times;
}

async function metric(admin: string, name: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name));
  return Number(line?.split(" ").pop() ?? NaN);
}

/** Holds `count` links open at once through a port, each after a round trip. */
async function holdLinks(
  port: number,
  count: number,
  admin?: string,
): Promise<number> {
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < count; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    const data = new Uint8Array(8).fill(2);
    await Promise.all(
      conns.map((conn) => echoOnce(conn, data, new Uint8Array(8))),
    );
    return admin
      ? await metric(admin, "failover_proxy_connections_open")
      : conns.length;
  } finally {
    for (const conn of conns) conn.close();
  }
}

/** Options for {@linkcode benchProxy}. */
export interface ProxyBenchOptions {
  /** The Deno to run the processes with (default: this one). */
  deno?: string;
  /** The checkout whose `servers/proxy.ts` runs (default: this one). */
  root?: string;
  /** Megabytes to move each way (default 200). */
  mb?: number;
  /** Round trips measured (default 2000). */
  roundTrips?: number;
  /** Links held at once (default 1000). */
  links?: number;
  /** Prints progress to stderr (default false). */
  verbose?: boolean;
  /** Ignored: the bench runner passes it. */
  seconds?: number;
}

/**
 * Measures our proxy beside a minimal pipe proxy; returns the figures.
 *
 * @example Usage
 * ```ts ignore
 * import { benchProxy } from "./proxy.ts";
 * console.table(await benchProxy({ mb: 50 }));
 * ```
 */
export async function benchProxy(
  options: ProxyBenchOptions = {},
): Promise<ProxyBenchRow[]> {
  const deno = options.deno ?? Deno.execPath();
  const root = options.root ??
    new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const bytes = (options.mb ?? 200) * 1e6;
  const count = options.roundTrips ?? 2000;
  const linkCount = options.links ?? 1000;
  const say = (text: string) => {
    if (options.verbose) console.error(text);
  };
  const upstreams = startUpstreams(bytes);
  const up = (port: number) => `127.0.0.1:${port}`;
  const run = (script: string, args: string[]) =>
    startListeningProcess(script, args, { deno });
  const ourProxy = (name: string, port: number) => {
    const args = ["--port", "0", "--name", name, "--upstream", up(port)];
    return run(`${root}/servers/proxy.ts`, args);
  };
  const ours = {
    bulk: await ourProxy("bulk", upstreams.bulkPort),
    echo: await ourProxy("echo", upstreams.echoPort),
  };
  const pipe = new URL("./_pipe_proxy.ts", import.meta.url).pathname;
  const base = {
    bulk: await run(pipe, ["--upstream", up(upstreams.bulkPort)]),
    echo: await run(pipe, ["--upstream", up(upstreams.echoPort)]),
  };
  const nodePipe = await run(
    new URL("./_node_pipe_proxy.ts", import.meta.url).pathname,
    ["--upstream", up(upstreams.bulkPort)],
  );
  try {
    const idleRss = rssMb(ours.bulk.pid);
    say(`throughput, ${bytes / 1e6} MB each way ...`);
    say(`direct ${await throughput(upstreams.bulkPort, bytes)}`);
    const baseMbs = await throughput(base.bulk.port, bytes);
    say(`baseline ${baseMbs}`);
    const ourMbs = await throughput(ours.bulk.port, bytes);
    say(`ours ${ourMbs}`);
    const afterRss = rssMb(ours.bulk.pid);
    const nodeMbs = await throughput(nodePipe.port, bytes);
    say(`node:net pipe ${nodeMbs}`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const settledRss = rssMb(ours.bulk.pid);
    const nodeRssSettled = rssMb(nodePipe.pid);
    const baseRssSettled = rssMb(base.bulk.pid);
    say("round trips ...");
    const direct = await roundTrips(upstreams.echoPort, count);
    const viaBase = await roundTrips(base.echo.port, count);
    const viaOurs = await roundTrips(ours.echo.port, count);
    const p99 = (values: number[]) => percentile(values, 0.99);
    say("latency toxic ...");
    await fetch(`${ours.echo.admin}/proxies/echo/toxics`, {
      method: "POST",
      body: JSON.stringify({ type: "latency", attributes: { latency: 100 } }),
    }).then((r) => r.body?.cancel());
    say("toxic set");
    // 20 links, 20 round trips each, started 5 ms apart (a twentieth of
    // the latency): not all in one burst.
    const delayed = (await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) => roundTripsNoWarmup(ours.echo.port, 20, i * 5),
      ),
    )).flat();
    await fetch(`${ours.echo.admin}/proxies/echo/toxics/latency_downstream`, {
      method: "DELETE",
    }).then((r) => r.body?.cancel());
    say("links held ...");
    const heldBase = await holdLinks(base.echo.port, linkCount);
    const heldOurs = await holdLinks(
      ours.echo.port,
      linkCount,
      ours.echo.admin,
    );
    const errors = delayed.map((ms) => ms - 100);
    return [
      {
        name: `throughput, ${bytes / 1e6} MB each way at once`,
        unit: "MB/s",
        value: ourMbs,
        baseline: baseMbs,
        target: { on: "ratio", op: ">=", limit: 0.9 },
      },
      {
        name: `throughput of a bare node:net pipe proxy, ${
          bytes / 1e6
        } MB each way`,
        unit: "MB/s",
        value: nodeMbs,
        baseline: baseMbs,
      },
      {
        name: "throughput, ours to the bare node:net pipe proxy",
        unit: "x",
        value: ourMbs / nodeMbs,
      },
      {
        name: "round trip p99, added to a direct connection",
        unit: "ms",
        value: p99(viaOurs) - p99(direct),
        baseline: p99(viaBase) - p99(direct),
        target: { on: "value", op: "<=", limit: 0.3 },
      },
      {
        name: "round trip p50, added to a direct connection",
        unit: "ms",
        value: percentile(viaOurs, 0.5) - percentile(direct, 0.5),
        baseline: percentile(viaBase, 0.5) - percentile(direct, 0.5),
      },
      {
        name: "concurrent proxied links held",
        unit: "links",
        value: heldOurs,
        baseline: heldBase,
        target: { on: "value", op: ">=", limit: linkCount },
      },
      {
        name: "100 ms latency toxic: round trip minus 100 ms, p99",
        unit: "ms",
        value: p99(errors),
        // Issue 14: ACK delay and proxy latency within 2 ms of the asked value at p99.
        target: { on: "value", op: "<=", limit: 2 },
      },
      {
        name: "100 ms latency toxic: round trip minus 100 ms, least",
        unit: "ms",
        value: Math.min(...errors),
      },
      { name: "proxy RSS idle", unit: "MB", value: idleRss },
      {
        name: "proxy RSS right after the bulk transfer",
        unit: "MB",
        value: afterRss,
      },
      {
        name: "proxy RSS 3 s after the bulk transfer",
        unit: "MB",
        value: settledRss,
        baseline: baseRssSettled,
      },
      {
        name: "bare node:net pipe proxy RSS 3 s after its bulk transfer",
        unit: "MB",
        value: nodeRssSettled,
      },
    ];
  } catch (error) {
    say(`failed: ${(error as Error).stack}`);
    throw error;
  } finally {
    await Promise.all([
      ours.bulk.stop(),
      ours.echo.stop(),
      base.bulk.stop(),
      base.echo.stop(),
      nodePipe.stop(),
    ]);
    upstreams.close();
  }
}

/**
 * Round trips over a new connection, the first (the link's setup) left out,
 * starting `startMs` after it.
 */
async function roundTripsNoWarmup(
  port: number,
  count: number,
  startMs: number,
) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const data = new Uint8Array(32).fill(1);
  const buffer = new Uint8Array(32);
  const times: number[] = [];
  await echoOnce(conn, data, buffer);
  await new Promise((resolve) => setTimeout(resolve, startMs));
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await echoOnce(conn, data, buffer);
    times.push(performance.now() - start);
  }
  conn.close();
  return times;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      mb: { type: "string" },
      "round-trips": { type: "string" },
      links: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const rows = await benchProxy({
    mb: values.mb ? Number(values.mb) : undefined,
    roundTrips: values["round-trips"]
      ? Number(values["round-trips"])
      : undefined,
    links: values.links ? Number(values.links) : undefined,
    verbose: true,
  });
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else {
    for (const row of rows) {
      const base = row.baseline !== undefined
        ? `  baseline ${row.baseline.toFixed(3)}  ratio ${
          (row.value / row.baseline).toFixed(3)
        }`
        : "";
      const target = row.target
        ? `  target ${row.target.on} ${row.target.op} ${row.target.limit}`
        : "";
      console.log(
        `${row.name}: ${row.value.toFixed(3)} ${row.unit}${base}${target}`,
      );
    }
  }
}
