/**
 * The lab as a library: {@linkcode startLab} starts every server of a
 * topology with its faults in force before the first connection, serves one
 * admin API for all of them (each server's own routes under
 * `/servers/<name>`), the merged live events, and the dashboard; runs the
 * reference clients of the topology as traffic and its chaos plan.
 *
 * @example From a test
 * ```ts ignore
 * import { startLab } from "./start_lab.ts";
 * import { parseTopology } from "./topology.ts";
 * await using lab = await startLab(
 *   parseTopology({ servers: { primary: { kind: "primary" } } }),
 *   { anyPort: true, traffic: false },
 * );
 * console.log(lab.url);
 * ```
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { type AdminServer, serveAdmin } from "../core/admin/admin_server.ts";
import { Journal } from "../core/journal/journal.ts";
import { randomSeed } from "../core/faults/random.ts";
import type { Addr } from "../core/server/tcp_server.ts";
import { CLIENT_KINDS, type LabClient, SERVER_KINDS } from "./_kinds.ts";
import {
  analyseFailovers,
  type FailoverAnalysis,
  type FailoverOptions,
} from "./figures.ts";
import { createLabApp } from "./lab_app.ts";
import { type ResolvedStep, resolvePlan } from "./plan.ts";
import { type PlanRun, startPlan } from "./plan_runner.ts";
import { LAB_PORT, type Topology } from "./topology.ts";
import type {
  LabCounter,
  LabServer,
  LabServerSummary,
  LabTraffic,
} from "./types.ts";

/** How often each client sends, when the topology does not say. */
export const DEFAULT_EVERY_MS = 1000;

/** Options for {@linkcode startLab}. */
export interface LabOptions {
  /** Host of the dashboard and admin API (default: the topology's, else 127.0.0.1). */
  hostname?: string;
  /** Port of the dashboard and admin API (default: the topology's, else 7100). */
  port?: number;
  /** The run seed (default: the topology's, else a random one). */
  seed?: number;
  /** Start the traffic clients with the lab (default: the topology's `traffic.autostart`, else true). */
  traffic?: boolean;
  /** Bind every server and the admin API on a free port (port 0), for tests. */
  anyPort?: boolean;
  /** Run the topology's chaos plan once the lab has started (default true). */
  plan?: boolean;
  /** Where the topology came from, shown in `/lab`. */
  source?: string;
  /** Closes the lab when aborted. */
  signal?: AbortSignal;
}

interface ServerSlot {
  server: LabServer;
  summary: string;
  counters: LabCounter[];
  unsubscribes: (() => void)[];
}

function withAnyPort(topology: Topology): Topology {
  const copy = structuredClone(topology);
  for (const [name, entry] of Object.entries(copy.servers)) {
    const kind = SERVER_KINDS[entry.kind];
    copy.servers[name] = kind.withAnyPort
      ? kind.withAnyPort(entry) as typeof entry
      : { ...entry, port: 0 };
  }
  copy.admin = { ...copy.admin, port: 0 };
  return copy;
}

function startOrder(topology: Topology): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name) || visiting.has(name)) return;
    visiting.add(name);
    const entry = topology.servers[name];
    for (
      const reference of SERVER_KINDS[entry.kind].references?.(entry) ?? []
    ) {
      for (const other of reference.names) {
        if (topology.servers[other]) visit(other);
      }
    }
    order.push(name);
  };
  for (const name of Object.keys(topology.servers)) visit(name);
  return order;
}

/**
 * A running lab: its servers, the admin API and dashboard, the traffic
 * clients. Start one with {@linkcode startLab}.
 */
export class Lab implements AsyncDisposable {
  /** The topology it runs (with `anyPort` applied). */
  readonly topology: Topology;
  /** The run seed every server derives its streams from. */
  readonly seed: number;
  /** Where the topology came from. */
  readonly source?: string;
  /** The lab's own journal (`server: "lab"`): lab started, traffic started and stopped, client errors. */
  readonly journal: Journal;
  /** Resolves once the lab is closed. */
  readonly finished: Promise<void>;
  /** The chaos plan with its times drawn from the seed, in time order. */
  readonly plan: readonly ResolvedStep[];
  #startedAt = performance.now();
  #options: LabOptions;
  #planRun?: PlanRun;
  #slots = new Map<string, ServerSlot>();
  #clients = new Map<string, LabClient>();
  #clientJournals = new Map<string, Journal>();
  #clientIds = new Map<string, number>();
  #traffic = false;
  #trafficChange: Promise<void> = Promise.resolve();
  #admin?: AdminServer;
  #app?: OpenAPIHono;
  #abort = new AbortController();
  #closing?: Promise<void>;
  #resolveFinished!: () => void;

  /** Makes a lab; {@linkcode Lab.start} starts it (or use {@linkcode startLab}). */
  constructor(topology: Topology, options: LabOptions = {}) {
    this.topology = options.anyPort ? withAnyPort(topology) : topology;
    this.#options = options;
    this.seed = options.seed ?? topology.seed ?? randomSeed();
    this.source = options.source;
    this.journal = new Journal({ server: "lab" });
    this.plan = resolvePlan(this.topology.plan ?? [], this.seed);
    for (const name of Object.keys(this.topology.clients ?? {})) {
      this.#clientJournals.set(name, new Journal({ server: name }));
    }
    this.finished = new Promise((resolve) => this.#resolveFinished = resolve);
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** The dashboard's and admin API's address. */
  get addr(): Addr {
    if (!this.#admin) {
      throw new Error("Cannot get addr: the lab is not started");
    }
    return this.#admin.addr;
  }

  /** The dashboard's URL, such as `http://127.0.0.1:7100`. */
  get url(): string {
    if (!this.#admin) throw new Error("Cannot get url: the lab is not started");
    return this.#admin.url;
  }

  /** Aborted once the lab closes: event streams end on it. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * The admin app (a Hono `OpenAPIHono`): dashboard, `/servers`, `/lab`,
   * `/events`. Call it in process with `app.request()`.
   *
   * @ignore
   */
  get app(): OpenAPIHono {
    return this.#app ??= createLabApp(this);
  }

  /** The running servers, by name, in start order. */
  get servers(): ReadonlyMap<string, LabServer> {
    return new Map([...this.#slots].map(([name, slot]) => [name, slot.server]));
  }

  /** When the lab started (`performance.now()`): 0 ms of its figures until a plan starts. */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** The chaos plan under way, once started. */
  get planRun(): PlanRun | undefined {
    return this.#planRun;
  }

  /**
   * Starts the chaos plan now (no-op when it runs or there is none); its
   * times count from this call.
   */
  startPlan(): PlanRun | undefined {
    if (this.#planRun || this.plan.length === 0 || this.#closing) {
      return this.#planRun;
    }
    return this.#planRun = startPlan(this, this.plan);
  }

  /**
   * The failover figures so far, from every journal of the lab (0 ms is the
   * start of the plan, else of the lab).
   */
  figures(options: FailoverOptions = {}): FailoverAnalysis {
    return analyseFailovers(this.journals(), {
      origin: this.#planRun?.startedAt ?? this.#startedAt,
      ...options,
    });
  }

  /** One server by name. */
  server(name: string): LabServer | undefined {
    return this.#slots.get(name)?.server;
  }

  /** Every journal of the lab: its own, each server's and each client's, once each. */
  journals(): Journal[] {
    const journals = new Set<Journal>([this.journal]);
    for (const slot of this.#slots.values()) {
      for (const journal of slot.server.journals) journals.add(journal);
    }
    for (const journal of this.#clientJournals.values()) journals.add(journal);
    return [...journals];
  }

  /** A traffic client's journal (kept across starts and stops of the traffic). */
  clientJournal(name: string): Journal | undefined {
    return this.#clientJournals.get(name);
  }

  /** What a server's card shows. */
  summary(name: string): LabServerSummary | undefined {
    const slot = this.#slots.get(name);
    if (!slot) return undefined;
    const { server } = slot;
    const addresses = server.addresses();
    return {
      name,
      kind: server.kind,
      summary: slot.summary,
      admin: `/servers/${name}`,
      addresses,
      listening: addresses.some((address) => address.listening),
      connections: server.connectionInfos(),
      counters: slot.counters.map((counter) => ({ ...counter })),
      faults: server.faultTargets(),
      switches: server.switches(),
      view: server.view(),
    };
  }

  /** What every server's card shows, in start order. */
  summaries(): LabServerSummary[] {
    return [...this.#slots.keys()].map((name) => this.summary(name)!);
  }

  /** The traffic clients' state. */
  traffic(): LabTraffic {
    return {
      running: this.#traffic,
      everyMs: this.topology.traffic?.everyMs ?? DEFAULT_EVERY_MS,
      clients: Object.entries(this.topology.clients ?? {}).map((
        [name, entry],
      ) => {
        const client = this.#clients.get(name);
        const { summary, ...state } = client?.state() ??
          { summary: "stopped" };
        return {
          name,
          kind: entry.kind,
          running: client !== undefined,
          summary,
          state,
        };
      }),
    };
  }

  /** Starts every server, then the admin API, then (unless told not to) the traffic. */
  async start(): Promise<this> {
    this.#startedAt = performance.now();
    try {
      for (const name of startOrder(this.topology)) {
        const entry = this.topology.servers[name];
        const kind = SERVER_KINDS[entry.kind];
        let server: LabServer;
        try {
          server = await kind.start(entry, {
            name,
            seed: this.seed,
            servers: this.servers,
          });
        } catch (error) {
          throw new Error(
            `Cannot start server "${name}" (${entry.kind}): ${
              (error as Error).message
            }`,
            { cause: error },
          );
        }
        const counters = kind.counters.map(({ key, label }) => ({
          key,
          label,
          value: 0,
        }));
        const unsubscribes = [...new Set(server.journals)].map((journal) =>
          journal.subscribe((event) => {
            kind.counters.forEach((counter, i) => {
              if (counter.match(event)) counters[i].value++;
            });
          })
        );
        this.#slots.set(name, {
          server,
          summary: kind.summary,
          counters,
          unsubscribes,
        });
      }
      this.#admin = await serveAdmin(this.app, {
        hostname: this.#options.hostname ?? this.topology.admin?.hostname,
        port: this.#options.port ?? this.topology.admin?.port ?? LAB_PORT,
      });
      this.journal.append("lab_started", {
        seed: this.seed,
        servers: [...this.#slots.keys()],
        url: this.#admin.url,
      });
      if (this.#options.traffic ?? this.topology.traffic?.autostart ?? true) {
        await this.startTraffic();
      }
      if (this.#options.plan ?? true) this.startPlan();
    } catch (error) {
      await this.close();
      throw error;
    }
    return this;
  }

  /** Starts the traffic clients (no-op when they run). */
  startTraffic(): Promise<void> {
    return this.#trafficChange = this.#trafficChange.then(async () => {
      if (this.#traffic || this.#closing) return;
      this.#traffic = true;
      const everyMs = this.topology.traffic?.everyMs ?? DEFAULT_EVERY_MS;
      for (const [name, entry] of Object.entries(this.topology.clients ?? {})) {
        try {
          const client = await CLIENT_KINDS[entry.kind].start(entry, {
            name,
            seed: this.seed,
            servers: this.servers,
            everyMs,
            journal: this.#clientJournals.get(name)!,
            nextId: () => {
              const n = (this.#clientIds.get(name) ?? 0) + 1;
              this.#clientIds.set(name, n);
              return `${name}-${n}`;
            },
          });
          this.#clients.set(name, client);
        } catch (error) {
          this.journal.append("error", {
            client: name,
            message: `Cannot start client "${name}": ${
              (error as Error).message
            }`,
          });
        }
      }
      this.journal.append("traffic_started", {
        clients: [...this.#clients.keys()],
      });
    });
  }

  /** Stops the traffic clients (no-op when they do not run). */
  stopTraffic(): Promise<void> {
    return this.#trafficChange = this.#trafficChange.then(async () => {
      if (!this.#traffic) return;
      this.#traffic = false;
      const clients = [...this.#clients.values()];
      this.#clients.clear();
      await Promise.all(clients.map((client) => client.close()));
      this.journal.append("traffic_stopped", {
        clients: clients.map((client) => client.name),
      });
    });
  }

  /** Stops the traffic, the servers and the admin API; resolves once all is released. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#planRun?.stop();
      await this.#trafficChange.catch(() => {});
      this.#traffic = true; // so stopTraffic runs even while closing
      await this.stopTraffic().catch(() => {});
      this.#abort.abort();
      const slots = [...this.#slots.values()].reverse();
      for (const slot of slots) {
        for (const unsubscribe of slot.unsubscribes) unsubscribe();
      }
      await Promise.all(slots.map((slot) => slot.server.close()));
      await this.#admin?.close();
      await this.journal.close();
      for (const journal of this.#clientJournals.values()) {
        await journal.close();
      }
      this.#resolveFinished();
    })();
  }

  /** Closes the lab: `await using lab = await startLab(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Starts a lab from a checked topology: every server (faults in force before
 * the first connection), the admin API and dashboard, and the traffic.
 *
 * @example Usage
 * ```ts ignore
 * import { startLab } from "./start_lab.ts";
 * import { loadTopology } from "./topology.ts";
 * await using lab = await startLab(await loadTopology("lab/demo.json"));
 * console.log(`dashboard: ${lab.url}`);
 * ```
 */
export function startLab(
  topology: Topology,
  options: LabOptions = {},
): Promise<Lab> {
  return new Lab(topology, options).start();
}
