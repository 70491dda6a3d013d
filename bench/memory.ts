/**
 * `deno run -A bench/memory.ts`: what a connection costs a server in memory.
 * Starts the server as its own process with the V8 inspector on, opens idle
 * connections to it from this process in steps, and at each step collects
 * garbage (through the inspector, so garbage not yet collected is left out)
 * and reads the server's memory: resident (`rss`), its anonymous part
 * (`anon`: the heaps, not the mapped binary), the V8 heap in use and
 * external memory. Then every connection sends one record and waits for its
 * ACK, and the server is read again. `--snapshot` adds the heap's objects
 * per connection at the last step, by constructor (a heap snapshot against
 * one taken with no connection); the snapshots cost the server memory of
 * their own, so its resident memory means little in that run.
 *
 * ```sh
 * deno run -A bench/memory.ts                              # the primary, 1 000 and 10 000 connections
 * deno run -A bench/memory.ts --root ../base --snapshot    # another checkout's, with a heap snapshot
 * deno run -A bench/memory.ts --script bench/minimal_server.ts -- --read-buffer 4096
 * ```
 *
 * Arguments after `--` go to the server instead of `--port 0 --admin-port 0`;
 * it must print its admin address and serve `GET /metrics`.
 *
 * @module
 */
import { type Inspector, parseToolArgs, startInspected } from "./_inspector.ts";
import { parseMetrics } from "./_probe.ts";
import { deviceWire } from "./_wire.ts";

/** A server's memory at one step, in bytes. */
interface Memory {
  rss: number;
  anon: number;
  heapUsed: number;
  external: number;
}

/** Bytes per node type and constructor name in a V8 heap snapshot. */
type HeapCensus = Map<string, { count: number; bytes: number }>;

async function memoryOf(inspector: Inspector, pid: number): Promise<Memory> {
  // Twice: the first may leave what finalizers freed.
  await inspector.call("HeapProfiler.collectGarbage");
  await inspector.call("HeapProfiler.collectGarbage");
  const { result } = await inspector.call("Runtime.evaluate", {
    expression: "JSON.stringify(Deno.memoryUsage())",
    returnByValue: true,
  }) as { result: { value: string } };
  const usage = JSON.parse(result.value) as Deno.MemoryUsage;
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (key: string) =>
    Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? NaN) * 1024;
  return {
    rss: kb("VmRSS"),
    anon: kb("RssAnon"),
    heapUsed: usage.heapUsed,
    external: usage.external,
  };
}

async function census(inspector: Inspector): Promise<HeapCensus> {
  const chunks: string[] = [];
  inspector.on(
    "HeapProfiler.addHeapSnapshotChunk",
    (params) => chunks.push((params as { chunk: string }).chunk),
  );
  await inspector.call("HeapProfiler.takeHeapSnapshot", {
    reportProgress: false,
  });
  const snapshot = JSON.parse(chunks.join(""));
  const fields: string[] = snapshot.snapshot.meta.node_fields;
  const types: string[] = snapshot.snapshot.meta.node_types[0];
  const nodes: number[] = snapshot.nodes;
  const strings: string[] = snapshot.strings;
  const [type, name, size] = ["type", "name", "self_size"].map((field) =>
    fields.indexOf(field)
  );
  const found: HeapCensus = new Map();
  for (let i = 0; i < nodes.length; i += fields.length) {
    const kind = types[nodes[i + type]];
    // Objects and closures by constructor or function name; strings,
    // numbers and arrays by kind alone.
    const named = kind === "object" || kind === "closure" ||
      kind === "native";
    const key = named ? `${kind} ${strings[nodes[i + name]]}` : kind;
    const entry = found.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + size];
    found.set(key, entry);
  }
  return found;
}

function printCensus(
  before: HeapCensus,
  after: HeapCensus,
  connections: number,
  top: number,
): void {
  const rows = [...after].map(([key, { count, bytes }]) => ({
    key,
    count: (count - (before.get(key)?.count ?? 0)) / connections,
    bytes: (bytes - (before.get(key)?.bytes ?? 0)) / connections,
  })).sort((a, b) => b.bytes - a.bytes);
  const total = rows.reduce((sum, row) => sum + row.bytes, 0);
  console.log(
    `\nheap objects per connection (${connections} connections): ${
      total.toFixed(0)
    } bytes`,
  );
  for (const row of rows.slice(0, top)) {
    console.log(
      `${row.bytes.toFixed(0).padStart(7)} B ${
        row.count.toFixed(2).padStart(6)
      } x  ${row.key}`,
    );
  }
}

if (import.meta.main) {
  const { values, positionals } = parseToolArgs({
    script: { type: "string", default: "servers/primary.ts" },
    connections: { type: "string", default: "1000,10000" },
    snapshot: { type: "boolean", default: false },
  });
  const steps = values.connections!.split(",").map(Number);
  const { server, inspector } = await startInspected(
    values.script!,
    positionals.length > 0 ? positionals : ["--port", "0", "--admin-port", "0"],
    values.root!,
  );
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1).padStart(6);
  const kib = (bytes: number) => (bytes / 1024).toFixed(2).padStart(6);
  const print = (label: string, now: Memory, from?: Memory, per = 0) => {
    const each = from && per > 0
      ? `   per connection: rss ${kib((now.rss - from.rss) / per)} KiB, heap ${
        kib((now.heapUsed - from.heapUsed) / per)
      } KiB`
      : "";
    console.log(
      `${label.padEnd(24)} rss ${mb(now.rss)} MB (anon ${
        mb(now.anon)
      }), heap used ${mb(now.heapUsed)} MB, external ${
        mb(now.external)
      } MB${each}`,
    );
  };
  const empty = await memoryOf(inspector, server.pid);
  print("no connection", empty);
  const emptyCensus = values.snapshot ? await census(inspector) : undefined;
  const conns: Deno.Conn[] = [];
  let idle = empty;
  try {
    for (const step of steps) {
      while (conns.length < step) {
        // In batches: ten thousand at once would overflow the accept queue.
        conns.push(
          ...await Promise.all(
            Array.from(
              { length: Math.min(200, step - conns.length) },
              () => Deno.connect({ hostname: "127.0.0.1", port: server.port }),
            ),
          ),
        );
      }
      // Accepted once the server counts them (up to 30 s).
      const deadline = Date.now() + 30_000;
      let open: number | undefined;
      while (Date.now() < deadline) {
        const metrics = await (await fetch(`${server.admin}/metrics`)).text();
        open = parseMetrics(metrics).get("failover_open_connections");
        if (open === undefined || open >= step) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A figure per connection over connections not open would be wrong.
      if (open !== undefined && open < step) {
        throw new Error(
          `Cannot measure ${step} connections: the server counted ${open} open after 30 s`,
        );
      }
      idle = await memoryOf(inspector, server.pid);
      print(`${step} idle`, idle, empty, step);
    }
    const wire = deviceWire("line-json");
    const buffer = new Uint8Array(256);
    await Promise.all(conns.map(async (conn, c) => {
      await conn.write(wire.record(c, 0));
      await conn.read(buffer);
    }));
    const used = await memoryOf(inspector, server.pid);
    print("one record each", used, idle, conns.length);
    print("  against none", used, empty, conns.length);
    if (emptyCensus) {
      printCensus(
        emptyCensus,
        await census(inspector),
        conns.length,
        Number(values.top),
      );
    }
  } finally {
    for (const conn of conns) conn.close();
    // The server first: its end closes the inspector's socket, so the close
    // does not wait on a peer that never answers it.
    await server.stop();
    await inspector.close();
  }
}
