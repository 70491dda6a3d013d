/**
 * The lab: a whole topology in one command. Starts every server of a
 * topology file with its faults in force before the first connection, serves
 * one admin API for all of them (each server's own routes under
 * `/servers/<name>`), the merged live events, and the dashboard; runs the
 * reference clients of the topology as traffic.
 *
 * @example Start the demo lab
 * ```sh
 * deno run -A lab/lab.ts                 # lab/demo.json
 * deno run -A lab/lab.ts my-lab.json     # your own topology
 * ```
 *
 * @example From a test
 * ```ts ignore
 * import { startLab } from "./lab.ts";
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
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { parseArgs } from "node:util";
import {
  addJournalRoutes,
  createApiApp,
  ErrorSchema,
  jsonResponse,
} from "../core/admin_app.ts";
import { type AdminServer, serveAdmin } from "../core/admin_server.ts";
import {
  CliError,
  flag,
  parseInteger,
  parsePort,
  runCli,
  runCommand,
} from "../core/cli.ts";
import type { ConnectionInfo } from "../core/connection.ts";
import type { Faults } from "../core/faults.ts";
import { Journal } from "../core/journal.ts";
import { randomSeed } from "../core/random.ts";
import type { Addr } from "../core/tcp_server.ts";
import { CLIENT_KINDS, type LabClient, SERVER_KINDS } from "./_kinds.ts";
import {
  LAB_PORT,
  loadTopology,
  type Topology,
  TopologyError,
} from "./topology.ts";

/** One address a lab server listens on. */
export interface LabAddress {
  /** The listener's label, for servers with several (`A`, `ml1`). */
  label?: string;
  /** The host it is bound to. */
  hostname: string;
  /** The port it is bound to. */
  port: number;
  /** Whether it accepts connections now. */
  listening: boolean;
}

/** The faults of one listener of a server, for the dashboard's switches. */
export interface LabFaultTarget {
  /** The listener's label, or none for the whole server. */
  label?: string;
  /** The admin path of its faults, below the server's (`/faults`). */
  path: string;
  /** The faults in force. */
  faults: Faults;
}

/** A switch of a server's own (store down, schedule paused), for the dashboard. */
export interface LabSwitch {
  /** A stable key (`storeDown`). */
  key: string;
  /** What the card shows. */
  label: string;
  /** Whether it is on now. */
  on: boolean;
  /** The admin path POSTed to turn it on, below the server's. */
  onPath: string;
  /** The admin path POSTed to turn it off, below the server's. */
  offPath: string;
}

/** A running server of any kind, as the lab drives it. */
export interface LabServer {
  /** The server's name in the topology. */
  readonly name: string;
  /** Its kind (`primary`, `watchdog-echo`, ...). */
  readonly kind: string;
  /** The journals its events go to. */
  readonly journals: readonly Journal[];
  /**
   * Its admin app (a Hono `OpenAPIHono`), mounted under `/servers/<name>`.
   *
   * @ignore
   */
  adminApp(): OpenAPIHono;
  /** The addresses it listens on. */
  addresses(): LabAddress[];
  /** Its open connections. */
  connectionInfos(): ConnectionInfo[];
  /** Its faults, per listener when the server has several. */
  faultTargets(): LabFaultTarget[];
  /** Its own switches, if any. */
  switches(): LabSwitch[];
  /** Facts of its kind for its card (data channel, agents by front). */
  view(): Record<string, unknown>;
  /** Closes it. */
  close(): Promise<void>;
}

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
  /** Where the topology came from, shown in `/lab`. */
  source?: string;
  /** Closes the lab when aborted. */
  signal?: AbortSignal;
}

/** One counter on a server's card. */
export interface LabCounter {
  /** A stable key (`acksDropped`). */
  key: string;
  /** What the card shows (`ACKs dropped`). */
  label: string;
  /** Its value since the lab started. */
  value: number;
}

/** One server as `GET /servers` lists it: what its dashboard card shows. */
export interface LabServerSummary {
  /** Its name: the admin routes are under `/servers/<name>`. */
  name: string;
  /** Its kind. */
  kind: string;
  /** What that kind is. */
  summary: string;
  /** The path of its admin API. */
  admin: string;
  /** The addresses it listens on. */
  addresses: LabAddress[];
  /** Whether any of its addresses accepts connections now. */
  listening: boolean;
  /** Its open connections. */
  connections: ConnectionInfo[];
  /** Its counters. */
  counters: LabCounter[];
  /** Its faults, per listener when it has several. */
  faults: LabFaultTarget[];
  /** Its own switches (store down, schedule paused). */
  switches: LabSwitch[];
  /** Facts of its kind: active channel, agents by front. */
  view: Record<string, unknown>;
}

/** One traffic client, as `GET /lab` lists it. */
export interface LabClientSummary {
  /** Its name in the topology. */
  name: string;
  /** Its kind. */
  kind: string;
  /** Whether it is running. */
  running: boolean;
  /** What it is doing, in one line. */
  summary: string;
  /** What it is doing (connected server, active channel, queue). */
  state: Record<string, unknown>;
}

/** The traffic clients' state, as `GET /lab` shows it. */
export interface LabTraffic {
  /** Whether the clients are running. */
  running: boolean;
  /** How often each client sends. */
  everyMs: number;
  /** Each client. */
  clients: LabClientSummary[];
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
  #options: LabOptions;
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
 * import { startLab } from "./lab.ts";
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

const DASHBOARD_FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

async function dashboardFile(name: string): Promise<Response> {
  const response = await fetch(new URL(`./dashboard/${name}`, import.meta.url));
  return new Response(response.body, {
    status: response.status,
    headers: {
      "content-type": DASHBOARD_FILES[name],
      "cache-control": "no-store",
    },
  });
}

const AnyObject = z.record(z.string(), z.unknown());
const NameParam = z.object({
  name: z.string().openapi({
    param: { name: "name", in: "path" },
    description: "The server's name in the topology",
  }),
});

/**
 * Makes the lab's admin app (a Hono `OpenAPIHono`): the dashboard at `/`,
 * `GET /servers`, `GET /servers/<name>` and each server's own routes under
 * it, `GET /lab`, `POST /lab/traffic/start|stop`, `GET|DELETE /journal`
 * and `GET /events` (every journal, merged; `?server=a,b` picks some),
 * `GET /openapi.json`.
 *
 * @ignore
 */
export function createLabApp(lab: Lab): OpenAPIHono {
  const app = createApiApp();

  app.get("/", () => dashboardFile("index.html"));
  for (const name of Object.keys(DASHBOARD_FILES)) {
    app.get(`/dashboard/${name}`, () => dashboardFile(name));
  }

  app.openapi(
    createRoute({
      method: "get",
      path: "/servers",
      responses: {
        200: jsonResponse(
          z.object({ servers: z.array(AnyObject) }),
          "Every server: kind, addresses, connections, counters, faults",
        ),
      },
    }),
    (c) =>
      c.json(
        {
          servers: lab.summaries() as unknown as Record<string, unknown>[],
        },
        200,
      ),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/servers/{name}",
      request: { params: NameParam },
      responses: {
        200: jsonResponse(AnyObject, "One server"),
        404: jsonResponse(ErrorSchema, "No such server"),
      },
    }),
    (c) => {
      const { name } = c.req.valid("param");
      const summary = lab.summary(name);
      if (!summary) {
        return c.json({
          error: "not_found",
          message: `No server named "${name}"`,
        }, 404);
      }
      return c.json(summary as unknown as Record<string, unknown>, 200);
    },
  );
  for (const [name, server] of lab.servers) {
    app.route(`/servers/${name}`, server.adminApp());
  }

  const labBody = () => ({
    name: lab.topology.name ?? null,
    description: lab.topology.description ?? null,
    seed: lab.seed,
    source: lab.source ?? null,
    topology: lab.topology as unknown as Record<string, unknown>,
    servers: [...lab.servers.keys()],
    traffic: lab.traffic() as unknown as Record<string, unknown>,
  });
  const LabSchema = z.object({
    name: z.string().nullable(),
    description: z.string().nullable(),
    seed: z.number(),
    source: z.string().nullable(),
    topology: AnyObject,
    servers: z.array(z.string()),
    traffic: AnyObject,
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/lab",
      responses: {
        200: jsonResponse(
          LabSchema,
          "The topology, the seed, the traffic clients",
        ),
      },
    }),
    (c) => c.json(labBody(), 200),
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/lab/traffic/start",
      responses: {
        200: jsonResponse(AnyObject, "The traffic clients, running"),
      },
    }),
    async (c) => {
      await lab.startTraffic();
      return c.json(lab.traffic() as unknown as Record<string, unknown>, 200);
    },
  );
  app.openapi(
    createRoute({
      method: "post",
      path: "/lab/traffic/stop",
      responses: {
        200: jsonResponse(AnyObject, "The traffic clients, stopped"),
      },
    }),
    async (c) => {
      await lab.stopTraffic();
      return c.json(lab.traffic() as unknown as Record<string, unknown>, 200);
    },
  );

  // `?server=` takes a comma-separated list; an unknown name matches nothing.
  addJournalRoutes(app, {
    journals: (servers) => {
      if (servers === undefined) return lab.journals();
      const names = servers.split(",");
      return lab.journals().filter((journal) => names.includes(journal.server));
    },
    scope: {
      name: "server",
      values: () => lab.journals().map((journal) => journal.server),
    },
    signal: lab.signal,
  });

  app.doc("/openapi.json", {
    openapi: "3.0.0",
    info: {
      title: "failover-toolkit lab API",
      version: "1",
      description:
        "Every server of a lab (each server's own admin API under /servers/{name}), the traffic clients and the merged live events",
    },
  });
  return app;
}

const LAB_FLAGS = {
  host: {
    type: "string" as const,
    value: "HOST",
    default: "the file's admin.hostname, else 127.0.0.1",
    description: "Host of the dashboard and admin API",
  },
  port: {
    type: "string" as const,
    value: "PORT",
    default: "the file's admin.port, else 7100",
    description: "Port of the dashboard and admin API; 0 picks a free one",
  },
  seed: {
    type: "string" as const,
    value: "N",
    default: "the file's seed, else random, printed",
    description: "Run seed (0..4294967295)",
  },
  "no-traffic": {
    type: "boolean" as const,
    description: "Do not start the traffic clients (start them from /lab)",
  },
  "any-port": {
    type: "boolean" as const,
    description: "Bind every server on a free port instead of the file's",
  },
  help: { type: "boolean" as const, description: "Show this help and exit" },
};

/** Splits the topology file (the one positional argument) from the flags. */
function splitFile(args: string[]): { file?: string; flags: string[] } {
  const { tokens } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.entries(LAB_FLAGS).map((
        [name, def],
      ) => [name, { type: def.type }]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals = tokens.filter((token) => token.kind === "positional");
  if (positionals.length > 1) {
    throw new CliError(
      `Unexpected argument "${positionals[1].value}": give one topology file`,
    );
  }
  const at = positionals[0]?.index;
  return {
    file: positionals[0]?.value,
    flags: args.filter((_, i) => i !== at),
  };
}

/**
 * Runs the lab's command line: `deno run -A lab/lab.ts [file.json] [flags]`.
 * Prints `lab dashboard=http://127.0.0.1:7100 seed=N topology=FILE
 * servers=a,b clients=c,d`, then one line per server.
 */
export async function main(args: string[]): Promise<void> {
  let split: { file?: string; flags: string[] };
  try {
    split = splitFile(args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const file = split.file;
  await runCli(split.flags, {
    usage: `${runCommand("lab/lab.ts")} [TOPOLOGY.json] [flags]`,
    summary:
      "Starts a lab from a topology file (default: lab/demo.json): every server with its faults, the reference clients as traffic, one admin API and the dashboard.",
    sections: [["Flags", LAB_FLAGS]],
    async start(values) {
      const source = file ??
        new URL("./demo.json", import.meta.url).pathname;
      const shown = file ?? "lab/demo.json";
      let topology: Topology;
      try {
        topology = await loadTopology(source);
      } catch (error) {
        if (error instanceof TopologyError) throw new CliError(error.message);
        throw error;
      }
      const lab = await startLab(topology, {
        hostname: values.host as string | undefined,
        port: flag(values, "port", parsePort),
        seed: flag(values, "seed", parseInteger(0, 0xffffffff)),
        traffic: values["no-traffic"] ? false : undefined,
        anyPort: values["any-port"] === true,
        source: shown,
      });
      const lines = [
        `lab dashboard=${lab.url} seed=${lab.seed} topology=${shown} servers=${
          [...lab.servers.keys()].join(",")
        } clients=${Object.keys(topology.clients ?? {}).join(",") || "-"}`,
        ...lab.summaries().map((server) =>
          `  ${server.name} ${server.kind} ${
            server.addresses.map((a) =>
              `${a.label ? `${a.label}@` : ""}${a.hostname}:${a.port}`
            ).join(",")
          } admin=${lab.url}${server.admin}`
        ),
      ];
      return {
        line: lines.join("\n"),
        finished: lab.finished,
        close: () => lab.close(),
      };
    },
  });
}

if (import.meta.main) await main(Deno.args);
