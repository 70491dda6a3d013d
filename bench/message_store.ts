/**
 * Benchmark: messages stored and delivered per second through two fronts,
 * on the in-memory store and on PostgreSQL, in the same run. Senders send
 * through both fronts, receivers on both fronts ACK every message and sync
 * on push; the clock runs from the first send to the last message received.
 *
 * Run it: `deno run -A bench/message_store.ts [--messages N] [--store URL]`
 * (the URL defaults to `FT_POSTGRES_URL`; without one, memory only). On
 * PostgreSQL it works in a database of its own, made and dropped around the
 * run (the URL's user needs CREATEDB). Each front is its own server with its
 * own connection pool and `LISTEN`, as in separate processes.
 *
 * @module
 */
import {
  type MessageStoreServer,
  startMessageStoreServer,
} from "../servers/message_store.ts";
import { MemoryMessageStore } from "../servers/message_store_memory.ts";
import { PostgresMessageStore } from "../servers/message_store_postgres.ts";
import { createScratchDatabase } from "../servers/postgres_scratch_database.ts";
import {
  type FrontAddress,
  sendAll,
  TrafficAgent,
  TrafficPeer,
} from "./_message_traffic.ts";

/** Options for {@linkcode benchMessageStore}. */
export interface MessageStoreBenchOptions {
  /** Messages per store (default 5000). */
  messages?: number;
  /** Sending connections, spread over the two fronts (default 4). */
  senders?: number;
  /** Receiving agents, spread over the two fronts (default 10). */
  receivers?: number;
  /** A PostgreSQL URL; without one, only the in-memory store is measured. */
  postgresUrl?: string;
  /** Bounds the whole run, ms (default 120 000). */
  timeoutMs?: number;
}

/** One store's figures. */
export interface MessageStoreBenchFigure {
  /** `memory` or `postgres`. */
  store: string;
  /** Messages sent, stored, delivered and ACKed. */
  messages: number;
  /** From the first send to the last message received, ms. */
  ms: number;
  /** Messages stored and delivered per second, end to end. */
  perSecond: number;
  /** Deliveries beyond one per message (redelivered before their ACK landed). */
  redelivered: number;
}

async function drive(
  fronts: FrontAddress[],
  options: Required<Omit<MessageStoreBenchOptions, "postgresUrl">>,
): Promise<{ ms: number; redelivered: number }> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const names = ["ml1", "ml2"];
  const receivers = Array.from(
    { length: options.receivers },
    (_, i) => new TrafficAgent(`r${i}`),
  );
  const senders: TrafficPeer[] = [];
  try {
    for (const [i, agent] of receivers.entries()) {
      await agent.connect(fronts[i % 2], names[i % 2]);
      await agent.until(() => agent.welcomes === 1, signal);
    }
    for (let k = 0; k < options.senders; k++) {
      const peer = await TrafficPeer.connect(fronts[k % 2]);
      peer.send({ type: "hello", agent: `s${k}`, primary: names[k % 2] });
      await peer.next(signal);
      senders.push(peer);
    }
    const started = performance.now();
    await Promise.all(senders.map((peer, k) =>
      sendAll(peer, {
        ids: Array.from(
          { length: Math.ceil(options.messages / options.senders) },
          (_, i) => i * options.senders + k,
        ).filter((n) => n < options.messages),
        to: (n) => `r${n % options.receivers}`,
        signal,
      })
    ));
    const want = (i: number) =>
      Math.ceil((options.messages - i) / options.receivers);
    await Promise.all(
      receivers.map((agent, i) =>
        agent.until(() => new Set(agent.received).size >= want(i), signal)
      ),
    );
    const ms = performance.now() - started;
    const total = receivers.reduce((n, a) => n + a.received.length, 0);
    return { ms, redelivered: total - options.messages };
  } finally {
    for (const agent of receivers) await agent.close();
    for (const peer of senders) await peer.close();
  }
}

function figure(
  store: string,
  messages: number,
  run: { ms: number; redelivered: number },
): MessageStoreBenchFigure {
  return {
    store,
    messages,
    ms: Math.round(run.ms),
    perSecond: Math.round(messages / (run.ms / 1000)),
    redelivered: run.redelivered,
  };
}

async function closeAll(servers: MessageStoreServer[]): Promise<void> {
  for (const server of servers) await server.close();
}

/**
 * Measures both stores in one run: memory (one server, two fronts) and, with
 * a URL, PostgreSQL (two servers of one front each, over one database).
 */
export async function benchMessageStore(
  options: MessageStoreBenchOptions = {},
): Promise<MessageStoreBenchFigure[]> {
  const resolved = {
    messages: options.messages ?? 5000,
    senders: options.senders ?? 4,
    receivers: options.receivers ?? 10,
    timeoutMs: options.timeoutMs ?? 120_000,
  };
  const figures: MessageStoreBenchFigure[] = [];
  {
    const server = await startMessageStoreServer({
      fronts: [{ name: "ml1" }, { name: "ml2" }],
      store: new MemoryMessageStore(),
      seed: 1,
    });
    try {
      const run = await drive(server.fronts.map((f) => f.addr), resolved);
      figures.push(figure("memory", resolved.messages, run));
    } finally {
      await server.close();
    }
  }
  if (options.postgresUrl) {
    const db = await createScratchDatabase(options.postgresUrl, "ft_bench");
    const servers: MessageStoreServer[] = [];
    try {
      for (const front of ["ml1", "ml2"]) {
        servers.push(
          await startMessageStoreServer({
            name: `store-${front}`,
            fronts: [{ name: front }],
            store: await PostgresMessageStore.connect(db.url),
            closeStore: true,
            seed: 1,
          }),
        );
      }
      const run = await drive(servers.map((s) => s.fronts[0].addr), resolved);
      figures.push(figure("postgres", resolved.messages, run));
    } finally {
      await closeAll(servers);
      await db.drop();
    }
  }
  return figures;
}

if (import.meta.main) {
  const at = (flag: string) => {
    const i = Deno.args.indexOf(flag);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const figures = await benchMessageStore({
    messages: Number(at("--messages") ?? 5000),
    senders: Number(at("--senders") ?? 16),
    receivers: Number(at("--receivers") ?? 20),
    postgresUrl: at("--store") ?? Deno.env.get("FT_POSTGRES_URL"),
  });
  for (const f of figures) {
    console.log(
      `${
        f.store.padEnd(8)
      } ${f.messages} messages in ${f.ms} ms: ${f.perSecond} messages/s stored and delivered (${f.redelivered} redelivered)`,
    );
  }
}
