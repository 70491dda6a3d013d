/**
 * ACK throughput: the primary ACKing pipelined records from 50 connections,
 * next to a bare Deno TCP server that answers each line with a fixed ACK (the
 * baseline). Run with `deno task bench`; read the figures as ratios.
 *
 * @module
 */
import { startPrimaryServer } from "../../servers/primary.ts";

const CONNECTIONS = 50;
const PER_CONNECTION = 100;
const RECORDS = CONNECTIONS * PER_CONNECTION;
const encoder = new TextEncoder();
const ACK = encoder.encode('{"type":"ack","id":"x"}\n');

/** A bare server: counts newlines and answers each with a fixed ACK. */
function startBaseline(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        const buffer = new Uint8Array(64 * 1024);
        try {
          while (true) {
            const n = await conn.read(buffer);
            if (n === null) break;
            let lines = 0;
            for (let i = 0; i < n; i++) if (buffer[i] === 10) lines++;
            if (lines === 0) continue;
            const out = new Uint8Array(ACK.length * lines);
            for (let i = 0; i < lines; i++) out.set(ACK, i * ACK.length);
            let written = 0;
            while (written < out.length) {
              written += await conn.write(out.subarray(written));
            }
          }
        } catch {
          // closed
        }
        conns.delete(conn);
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      listener.close();
      for (const conn of conns) conn.close();
    },
  };
}

/** 50 load connections; `round()` sends 100 records on each, pipelined. */
async function loadClients(port: number) {
  const conns = await Promise.all(
    Array.from(
      { length: CONNECTIONS },
      () => Deno.connect({ hostname: "127.0.0.1", port }),
    ),
  );
  let round = 0;
  let acks = 0;
  let wake: (() => void) | undefined;
  for (const conn of conns) {
    (async () => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        while (true) {
          const n = await conn.read(buffer);
          if (n === null) break;
          for (let i = 0; i < n; i++) if (buffer[i] === 10) acks++;
          wake?.();
        }
      } catch {
        // closed
      }
    })();
  }
  return {
    /** Sends a round of records; resolves once `done(acksSoFar)` says so. */
    async round(done: (acks: number) => boolean): Promise<void> {
      round++;
      const lines = Array.from(
        { length: PER_CONNECTION },
        (_, i) => `{"type":"record","id":"${round}-${i}","data":{"n":${i}}}\n`,
      );
      await Promise.all(conns.map(async (conn, c) => {
        const bytes = encoder.encode(
          lines.join("").replaceAll('"id":"', `"id":"c${c}-`),
        );
        let written = 0;
        while (written < bytes.length) {
          written += await conn.write(bytes.subarray(written));
        }
      }));
      while (!done(acks)) await new Promise<void>((resolve) => wake = resolve);
    },
    get acks() {
      return acks;
    },
    /** Re-checks `done` (for rounds whose last event is a dropped ACK). */
    wake() {
      wake?.();
    },
    close() {
      for (const conn of conns) conn.close();
    },
  };
}

const timings = new Map<string, { ms: number; records: number }>();
function timed(name: string, fn: () => Promise<void>) {
  return async (b: Deno.BenchContext) => {
    b.start();
    const start = performance.now();
    await fn();
    const ms = performance.now() - start;
    b.end();
    const t = timings.get(name) ?? { ms: 0, records: 0 };
    t.ms += ms;
    t.records += RECORDS;
    timings.set(name, t);
  };
}

const baseline = startBaseline();
const baselineLoad = await loadClients(baseline.port);
const primary = await startPrimaryServer({ port: 0, seed: 1 });
const primaryLoad = await loadClients(primary.addr.port);
const faulted = await startPrimaryServer({
  port: 0,
  seed: 1,
  faults: { dropAck: { probability: 0.3 }, delayAck: { ms: 1 } },
});
const faultedLoad = await loadClients(faulted.addr.port);
faulted.journal.subscribe((event) => {
  if (event.type === "ack_dropped") faultedLoad.wake();
});

function untilAcks(load: { acks: number }) {
  const target = load.acks + RECORDS;
  return (acks: number) => acks >= target;
}

Deno.bench(
  "bare Deno TCP server, fixed ACK per line",
  { group: "ack", baseline: true },
  timed("baseline", () => baselineLoad.round(untilAcks(baselineLoad))),
);
Deno.bench(
  "primary, no faults",
  { group: "ack" },
  timed("primary", () => primaryLoad.round(untilAcks(primaryLoad))),
);
Deno.bench(
  "primary, --drop-ack 30% --delay-ack 1ms",
  { group: "ack" },
  timed("faulted", () => {
    const start = faulted.journal.counts();
    const sentStart = start.ack_sent ?? 0;
    const droppedStart = start.ack_dropped ?? 0;
    const acksStart = faultedLoad.acks;
    return faultedLoad.round((acks) => {
      const now = faulted.journal.counts();
      const sent = (now.ack_sent ?? 0) - sentStart;
      const dropped = (now.ack_dropped ?? 0) - droppedStart;
      return sent + dropped >= RECORDS && acks - acksStart >= sent;
    });
  }),
);

globalThis.addEventListener("unload", () => {
  const rate = (name: string) => {
    const t = timings.get(name);
    return t ? t.records / (t.ms / 1000) : NaN;
  };
  const base = rate("baseline");
  console.log("\nrecords per second (50 connections x 100 pipelined records):");
  for (
    const [name, label] of [
      ["baseline", "bare Deno TCP server"],
      ["primary", "primary, no faults"],
      ["faulted", "primary, drop 30% + delay 1ms"],
    ]
  ) {
    const r = rate(name);
    console.log(
      `  ${label.padEnd(32)} ${Math.round(r).toString().padStart(9)}/s  ratio ${
        (r / base).toFixed(2)
      }`,
    );
  }
  baselineLoad.close();
  primaryLoad.close();
  faultedLoad.close();
  baseline.close();
  void primary.close();
  void faulted.close();
});
