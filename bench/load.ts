/**
 * The benchmark's load generator, run as its own process so its CPU time is
 * not the server's. It connects, sends records in one of four ways, and
 * prints one JSON line with what it saw; the server's CPU time and frame
 * count come from the server itself (`/metrics`, see `_probe.ts`).
 *
 * - `closed`: each connection sends a record and waits for its ACK;
 * - `pipelined`: each connection writes records back to back (TCP's flow
 *   control is the only limit); the run ends once the server has decoded
 *   every record sent (ACKs may be dropped, so they are not waited for);
 * - `trickle`: each connection sends a record every `--period-ms`, their
 *   phases spread evenly over the period (a fleet of devices is not in step:
 *   connection c sends at c/N of a period, then every period), on a fixed
 *   schedule kept by one timer for all connections, with at most one write in
 *   flight per connection (a record due while it is unfinished is skipped and
 *   counted in `skipped`); prints `ready` once every connection is open;
 * - `latency`: each connection sends a record every `--period-ms` on the same
 *   fixed schedule (a late send does not move the next ones) and times its
 *   ACK: from just before the record is written to when the read that
 *   completes the ACK returns (in ms; the record is made before the clock
 *   starts).
 *
 * ```sh
 * deno run -A bench/load.ts --port 7000 --admin http://127.0.0.1:7001 --pid 1234 \
 *   --mode pipelined --connections 50 --seconds 3
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { probe, type Reading } from "./_probe.ts";
import { percentile } from "./_stats.ts";
import {
  BENCH_CODECS,
  type BenchCodec,
  type DeviceWire,
  deviceWire,
} from "./_wire.ts";

/** What the load generator prints at the end, as one JSON line. */
export interface LoadResult {
  /** The mode it ran. */
  mode: string;
  /** Connections opened. */
  connections: number;
  /** Records written. */
  sent: number;
  /** ACKs received. */
  acks: number;
  /** Seconds from the first record to the last one handled. */
  seconds: number;
  /** Server CPU seconds over that time (from the server). */
  serverCpuSeconds: number;
  /** Frames the server decoded over that time (from the server). */
  serverFrames: number;
  /** Server resident memory at the end, in bytes. */
  serverRssBytes: number;
  /** Where the server figures came from. */
  source: Reading["source"];
  /**
   * Records the `trickle` schedule could not write (`trickle` mode only): due
   * while their connection's last write had not finished (the server reads
   * slower than the schedule), or not written 10 s after the run's end.
   * Not counted in `sent`; anything above 0 means the server got less load
   * than the schedule says.
   */
  skipped?: number;
  /** ACK times in ms (`latency` mode): sorted samples' p50, p99, max, count. */
  rtt?: { p50: number; p99: number; max: number; n: number };
}

interface Link {
  conn: Deno.Conn;
  acks: number;
  /** When the read that brought the last ACK returned (`performance.now()`). */
  ackedAt: number;
  wake?: () => void;
}

async function connectAll(
  hostname: string,
  port: number,
  count: number,
  wire: DeviceWire,
  readBytes: number,
): Promise<Link[]> {
  const links: Link[] = [];
  // Open in batches: ten thousand at once would overflow the accept queue.
  for (let start = 0; start < count; start += 200) {
    const batch = await Promise.all(
      Array.from(
        { length: Math.min(200, count - start) },
        () => Deno.connect({ hostname, port }),
      ),
    );
    await Promise.all(batch.map(async (conn) => {
      const link: Link = { conn, acks: 0, ackedAt: 0 };
      links.push(link);
      const counter = wire.counter();
      let helloed!: () => void;
      const ready = new Promise<void>((resolve) => helloed = resolve);
      void (async () => {
        const buffer = new Uint8Array(readBytes);
        let skip = wire.hello ? wire.helloReplyBytes : 0;
        try {
          while (true) {
            const n = await conn.read(buffer);
            const at = performance.now();
            if (n === null) break;
            let chunk = buffer.subarray(0, n);
            if (skip > 0) {
              const skipped = Math.min(skip, chunk.length);
              skip -= skipped;
              chunk = chunk.subarray(skipped);
              if (skip === 0) helloed();
            }
            const acks = counter(chunk);
            if (acks > 0) {
              link.ackedAt = at;
              link.acks += acks;
              link.wake?.();
            }
          }
        } catch {
          // Closed.
        }
        helloed();
      })();
      if (wire.hello) {
        await write(conn, wire.hello);
        await ready;
      }
    }));
  }
  return links;
}

async function write(
  conn: Pick<Deno.Conn, "write">,
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

function waitAck(link: Link, target: number): Promise<void> {
  if (link.acks >= target) return Promise.resolve();
  return new Promise((resolve) => {
    link.wake = () => {
      if (link.acks >= target) {
        link.wake = undefined;
        resolve();
      }
    };
  });
}

/** What {@linkcode trickle} wrote, and what it could not. */
export interface TrickleResult {
  /** Records written. */
  sent: number;
  /** Records of the schedule not written (see {@linkcode trickle}). */
  skipped: number;
}

/** Options of {@linkcode trickle}. */
export interface TrickleOptions {
  /**
   * How long to wait after the deadline for writes still in flight (default
   * 10 s); their records are counted skipped if they have not finished.
   */
  drainMs?: number;
}

/**
 * The `trickle` load: connection c sends its n-th record at `began + (c /
 * N + n) * period`, until `deadline`. The phases are spread evenly and the
 * schedule is fixed: one timer walks it in order for every connection (ten
 * thousand timers of their own cost this process more than the server's
 * work, and each drifts by its own lateness), and records that fall due
 * while this process is late go at once, in order (a connection's records
 * due together in one write). A connection has at most one write in flight:
 * a record that falls due while its connection's last write has not
 * finished (a server that reads slower than the schedule, or not at all) is
 * skipped and counted, not queued, so this process holds at most one write's
 * records per connection however long the run. So are records whose write
 * has not finished `drainMs` after the deadline (the run ends then).
 */
export async function trickle(
  conns: readonly Pick<Deno.Conn, "write">[],
  wire: Pick<DeviceWire, "record">,
  period: number,
  began: number,
  deadline: number,
  options: TrickleOptions = {},
): Promise<TrickleResult> {
  const { drainMs = 10_000 } = options;
  const count = conns.length;
  // Records in each connection's write in flight (0: none in flight).
  const held = new Array<number>(count).fill(0);
  const writes = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let sent = 0;
  let skipped = 0;
  let next = 0; // The next send, counted over all connections in order.
  const due = (k: number) => began + (k / count) * period;
  // A failed write ends the run: it is thrown below.
  while (due(next) < deadline && !failure) {
    const now = performance.now();
    const batch = new Map<number, Uint8Array[]>();
    for (; due(next) <= now && due(next) < deadline; next++) {
      const c = next % count;
      if (held[c] > 0) {
        skipped++;
        continue;
      }
      const records = batch.get(c) ?? [];
      records.push(wire.record(c, Math.floor(next / count)));
      batch.set(c, records);
    }
    for (const [c, records] of batch) {
      held[c] = records.length;
      const bytes = records.length === 1 ? records[0] : Buffer.concat(records);
      const done: Promise<void> = write(conns[c], bytes).then(() => {
        sent += held[c];
        held[c] = 0;
      }, (error) => {
        failure ??= { error };
      }).finally(() => writes.delete(done));
      writes.add(done);
    }
    const wait = Math.min(due(next), deadline) - performance.now();
    await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  // Bounded: a server that stopped reading never takes the last writes.
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(writes),
    new Promise((resolve) => timer = setTimeout(resolve, drainMs)),
  ]);
  clearTimeout(timer);
  if (failure) throw failure.error;
  return { sent, skipped: skipped + held.reduce((sum, n) => sum + n, 0) };
}

/** Waits until the server has decoded `frames` more than at `start`. */
async function drained(
  target: { admin: string; pid: number },
  start: Reading,
  frames: number,
): Promise<Reading> {
  const deadline = performance.now() + 60_000;
  while (true) {
    const now = await probe(target);
    if (now.framesIn - start.framesIn >= frames) return now;
    if (performance.now() > deadline) {
      throw new Error(
        `Cannot finish the run: the server decoded ${
          now.framesIn - start.framesIn
        } of ${frames} records in 60 s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs the load the flags ask for and returns what it saw. */
export async function runLoad(args: string[]): Promise<LoadResult> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      admin: { type: "string" },
      pid: { type: "string", default: "0" },
      codec: { type: "string", default: "line-json" },
      mode: { type: "string", default: "closed" },
      connections: { type: "string", default: "50" },
      seconds: { type: "string", default: "3" },
      "period-ms": { type: "string", default: "1000" },
    },
  });
  const codec = values.codec as BenchCodec;
  if (!BENCH_CODECS.includes(codec)) {
    throw new RangeError(`Invalid --codec "${codec}"`);
  }
  const target = { admin: values.admin!, pid: Number(values.pid) };
  const wire = deviceWire(codec);
  const count = Number(values.connections);
  const seconds = Number(values.seconds);
  const period = Number(values["period-ms"]);
  const mode = values.mode!;
  const links = await connectAll(
    values.host!,
    Number(values.port),
    count,
    wire,
    // A record a second brings an ACK or two: ten thousand 64 KiB buffers
    // would be 640 MB of this process's memory for nothing.
    mode === "trickle" || mode === "latency" ? 4096 : 64 * 1024,
  );
  const start = await probe(target);
  const began = performance.now();
  const deadline = began + seconds * 1000;
  let sent = 0;
  let skipped = 0;
  const rtts: number[] = [];
  if (mode === "closed") {
    await Promise.all(links.map(async (link, c) => {
      for (let n = 0; performance.now() < deadline; n++) {
        await write(link.conn, wire.record(c, n));
        sent++;
        await waitAck(link, link.acks + 1);
      }
    }));
  } else if (mode === "pipelined") {
    const BATCH = 64;
    await Promise.all(links.map(async (link, c) => {
      for (let n = 0; performance.now() < deadline; n += BATCH) {
        const bytes = Buffer.concat(
          Array.from({ length: BATCH }, (_, i) => wire.record(c, n + i)),
        );
        await write(link.conn, bytes);
        sent += BATCH;
      }
    }));
  } else if (mode === "trickle") {
    console.log("ready");
    ({ sent, skipped } = await trickle(
      links.map((link) => link.conn),
      wire,
      period,
      began,
      deadline,
    ));
  } else if (mode === "latency") {
    await Promise.all(links.map(async (link, c) => {
      // Connection c sends at c/count of a period in, then every period, on
      // a fixed schedule (a late send does not move the next ones).
      const first = began + (period * c) / links.length;
      for (let n = 0;; n++) {
        const slot = first + n * period;
        if (slot >= deadline) break;
        const wait = slot - performance.now();
        // Timers count whole ms and cut a fraction off: rounded up.
        if (wait > 0) {
          await new Promise((r) => setTimeout(r, Math.ceil(wait)));
        }
        const record = wire.record(c, n);
        const target = link.acks + 1;
        const at = performance.now();
        await write(link.conn, record);
        sent++;
        await waitAck(link, target);
        rtts.push(link.ackedAt - at);
      }
    }));
  } else {
    throw new RangeError(
      `Invalid --mode "${mode}": expected closed, pipelined, trickle or latency`,
    );
  }
  const end = await drained(target, start, sent);
  const seconds_ = (performance.now() - began) / 1000;
  const acks = links.reduce((n, link) => n + link.acks, 0);
  for (const link of links) {
    try {
      link.conn.close();
    } catch {
      // Closed already.
    }
  }
  rtts.sort((a, b) => a - b);
  return {
    mode,
    connections: links.length,
    sent,
    acks,
    seconds: seconds_,
    serverCpuSeconds: end.cpuSeconds - start.cpuSeconds,
    serverFrames: end.framesIn - start.framesIn,
    serverRssBytes: end.rssBytes,
    source: end.source,
    ...(mode === "trickle" ? { skipped } : {}),
    ...(rtts.length > 0
      ? {
        rtt: {
          p50: percentile(rtts, 0.5),
          p99: percentile(rtts, 0.99),
          max: rtts[rtts.length - 1],
          n: rtts.length,
        },
      }
      : {}),
  };
}

if (import.meta.main) {
  try {
    console.log(JSON.stringify(await runLoad(Deno.args)));
    Deno.exit(0);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
