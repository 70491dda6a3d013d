/**
 * The fault proxy: many named TCP proxies (listen -> upstream) in one
 * process, for any protocol, driven by an HTTP API compatible with Toxiproxy
 * 2.x (so its clients and the Testcontainers modules drive it unchanged),
 * with this toolkit's connect-time faults, seeded toxicity and journal beside
 * it. See `docs/proxy.md`.
 *
 * @example A proxy in front of a server, with 100 ms of latency
 * ```ts ignore
 * import { startProxyServer } from "./proxy.ts";
 * await using proxies = await startProxyServer({ seed: 7 });
 * const redis = await proxies.createProxy({
 *   name: "redis",
 *   listen: "127.0.0.1:0",
 *   upstream: "127.0.0.1:6379",
 * });
 * proxies.addToxic("redis", { type: "latency", attributes: { latency: 100 } });
 * console.log(redis.addr.port, proxies.url);
 * ```
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import {
  addJournalRoutes,
  addStatusRoutes,
  createAdminApp,
  createApiApp,
} from "../core/admin/admin_app.ts";
import { type AdminServer, serveAdmin } from "../core/admin/admin_server.ts";
import {
  METRICS_CONTENT_TYPE,
  renderMetrics,
  watchFaults,
} from "../core/admin/metrics.ts";
import {
  CliError,
  FAULT_FLAGS,
  faultsFromFlags,
  type FlagTable,
  parseInteger,
  parsePort,
  runCli,
  runCommand,
} from "../core/cli/cli.ts";
import { type Faults, FaultsSchema } from "../core/faults/mod.ts";
import {
  optionFlags,
  optionsFromFlags,
  type OptionsSchema,
  withFlag,
} from "../core/cli/option_flags.ts";
import { faultDefinition, type FaultKind } from "../core/faults/registry.ts";
import { TOXICS } from "../core/faults/toxics.ts";
import type { Journal } from "../core/journal/journal.ts";
import { ServerEnd } from "../core/server/server_end.ts";
import { LINK_STREAMS } from "../core/net/proxy_link.ts";
import { randomSeed, SeededRandom } from "../core/faults/random.ts";
import type { Addr } from "../core/server/tcp_server.ts";
import { PortSchema } from "../core/cli/option_values.ts";
import {
  checkUpstream,
  NamedProxy,
  objectBody,
  ProxyApiError,
  proxyFields,
  type ProxyJson,
  type ToxicJson,
} from "./_named_proxy.ts";
import { toxiproxyRoutes } from "./_toxiproxy_api.ts";

export { NamedProxy, ProxyApiError } from "./_named_proxy.ts";
export type {
  NamedProxyOptions,
  ProxyCounters,
  ProxyHost,
  ProxyJson,
  ToxicJson,
  ToxicWindow,
} from "./_named_proxy.ts";
import type { ToolkitServer } from "../core/server/toolkit_server.ts";
export { TOXIPROXY_VERSION } from "./_toxiproxy_api.ts";

/** The proxy server's default API port: Toxiproxy's. */
export const PROXY_API_PORT = 8474;

/** One proxy to create, in Toxiproxy's config format. */
export interface ProxyConfig {
  /** Its name. */
  name: string;
  /** Where to listen, `host:port` (port 0 picks one; default `127.0.0.1:0`). */
  listen?: string;
  /** Where to connect, `host:port`. */
  upstream: string;
  /** Whether it starts enabled (default true). */
  enabled?: boolean;
  /** Our connect-time faults in force from the start (refuse, down, reset, blackHole). */
  faults?: Faults;
  /** Toxics in force from the start, as Toxiproxy API bodies. */
  toxics?: Partial<ToxicJson>[];
}

/**
 * One proxy's own options, described once: the command line's
 * `--name --listen --upstream` (its fault flags give `faults`) and the lab's
 * `proxy` entry are derived from it, and {@linkcode ProxyConfig} is checked
 * against it.
 */
export const ProxyOptionsSchema: OptionsSchema<
  Pick<ProxyConfig, "name" | "listen" | "upstream" | "faults">
> = z.object({
  name: withFlag(z.string().min(1).describe("The proxy's name"), {
    name: "name",
    value: "NAME",
    description: "Create one proxy of this name (with --listen, --upstream)",
    needs: { option: "upstream" },
  }),
  listen: withFlag(
    z.string().min(1).optional().describe(
      "Where it listens, host:port (port 0 picks one; default 127.0.0.1:0)",
    ),
    {
      name: "listen",
      value: "HOST:PORT",
      default: "127.0.0.1:0",
      description: "With --name: where it listens",
      needs: { option: "name" },
    },
  ),
  upstream: withFlag(
    z.string().min(1).describe(
      "The server behind it: host:port (in a lab, a server of the lab by name too)",
    ),
    {
      name: "upstream",
      value: "HOST:PORT",
      description: "With --name: where it connects",
      needs: { option: "name" },
    },
  ),
  faults: FaultsSchema.optional().describe(
    "Connect-time faults from the start (refuse, down, reset, blackHole)",
  ),
});

/**
 * The proxy server's own options besides its proxies, described once: the
 * command line's `--host --port --seed --journal-file` are derived from it
 * (the lab's `proxy` entry takes `journalFile`), and
 * {@linkcode ProxyServerOptions} is checked against it.
 */
export const ProxyServerOptionsSchema: OptionsSchema<
  Pick<ProxyServerOptions, "hostname" | "port" | "seed" | "journalFile">
> = z.object({
  hostname: withFlag(
    z.string().min(1).optional().describe(
      "Host of the HTTP API (default 127.0.0.1)",
    ),
    {
      name: "host",
      value: "HOST",
      default: "127.0.0.1",
      description: "Host of the HTTP API (Toxiproxy's -host)",
    },
  ),
  port: withFlag(
    PortSchema.optional().describe("Port of the HTTP API; 0 picks one"),
    {
      name: "port",
      value: "PORT",
      default: String(PROXY_API_PORT),
      description: "Port of the HTTP API (Toxiproxy's -port); 0 picks one",
      parse: parsePort,
    },
  ),
  seed: withFlag(
    z.number().int().min(0).max(0xffffffff).optional().describe(
      "Run seed (0..4294967295): the same seed hits the same connections",
    ),
    {
      name: "seed",
      value: "N",
      default: "random, printed",
      parse: parseInteger(0, 0xffffffff),
    },
  ),
  journalFile: withFlag(
    z.string().min(1).optional().describe(
      "Also append every journal event to this JSON-lines file",
    ),
    { name: "journal-file", value: "PATH" },
  ),
});

/** Options for {@linkcode startProxyServer}. */
export interface ProxyServerOptions {
  /** Host of the HTTP API (default `127.0.0.1`). */
  hostname?: string;
  /**
   * Port of the HTTP API; 0 picks one (default 0; the CLI's is 8474).
   * `null` serves no HTTP API (mount {@linkcode ProxyServer.adminApp} yourself).
   */
  port?: number | null;
  /** Proxies created at start, in order (Toxiproxy's `--config`). */
  proxies?: ProxyConfig[];
  /** The run seed (default: a random one, reported in `seed`). */
  seed?: number;
  /** A journal to write to (default: a new one). */
  journal?: Journal;
  /** A JSON-lines file for the new journal. */
  journalFile?: string;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
}

/** Per-proxy counters in Prometheus text format. */
function metricsText(proxies: NamedProxy[]): string {
  const escape = (value: string) =>
    value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const lines: string[] = [];
  const family = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    rows: [Record<string, string>, number][],
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of rows) {
      const text = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`)
        .join(",");
      lines.push(`${name}{${text}} ${value}`);
    }
  };
  const labels = (proxy: NamedProxy) => ({
    proxy: proxy.name,
    listener: proxy.listen,
    upstream: proxy.upstream,
  });
  const perDirection = (pick: (p: NamedProxy) => Record<string, number>) =>
    proxies.flatMap((proxy) =>
      LINK_STREAMS.map((direction) =>
        [{ direction, ...labels(proxy) }, pick(proxy)[direction]] as [
          Record<string, string>,
          number,
        ]
      )
    );
  family(
    "toxiproxy_proxy_received_bytes_total",
    "counter",
    "Bytes read by a proxy, per direction (upstream: from clients)",
    perDirection((p) => p.counters.received),
  );
  family(
    "toxiproxy_proxy_sent_bytes_total",
    "counter",
    "Bytes written by a proxy, per direction (upstream: to the server)",
    perDirection((p) => p.counters.sent),
  );
  family(
    "failover_proxy_connections_total",
    "counter",
    "Client connections a proxy accepted",
    proxies.map((p) => [labels(p), p.counters.connections]),
  );
  family(
    "failover_proxy_connections_open",
    "gauge",
    "Proxied links open now",
    proxies.map((p) => [labels(p), p.links().length]),
  );
  return lines.join("\n") + "\n";
}

/**
 * A fault proxy server: named proxies, their toxics and faults, one journal,
 * and the Toxiproxy-compatible HTTP API.
 */
export class ProxyServer implements AsyncDisposable, ToolkitServer {
  /** The server's name, in the journal. */
  readonly name = "proxy";
  /** What kind of server this is. */
  readonly kind = "proxy";
  /** The run seed. */
  readonly seed: number;
  /** The root random stream (each proxy derives its own by name). */
  readonly random: SeededRandom;
  /** The journal every proxy writes to (events carry `proxy`). */
  readonly journal: Journal;
  /** A codec name, for the CLI line: bytes pass undecoded. */
  readonly codec = { name: "raw" };
  /** Resolves once the server is closed. */
  readonly finished: Promise<void>;
  #proxies = new Map<string, NamedProxy>();
  #end: ServerEnd;
  #lastId = 0;
  #lock: Promise<unknown> = Promise.resolve();
  #api?: AdminServer;
  #app?: OpenAPIHono;
  /** Each proxy's admin sub-app, made on first use; gone with its proxy. */
  #apps = new WeakMap<NamedProxy, OpenAPIHono>();
  #abort = new AbortController();
  #closing?: Promise<void>;

  /** Makes a server; {@linkcode startProxyServer} makes and starts one. */
  constructor(options: ProxyServerOptions = {}) {
    this.random = new SeededRandom(options.seed ?? randomSeed());
    this.seed = this.random.seed;
    this.#end = new ServerEnd(this.name, options);
    this.journal = this.#end.journal;
    this.finished = this.#end.finished;
    options.signal?.addEventListener("abort", () => void this.close(), {
      once: true,
    });
  }

  /** The HTTP API's address (port 0 when it serves none). */
  get addr(): Addr {
    return this.#api?.addr ?? { hostname: "127.0.0.1", port: 0 };
  }

  /** The HTTP API's base URL (`""` when it serves none). */
  get url(): string {
    return this.#api?.url ?? "";
  }

  /** Aborted once the server closes. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Creates the configured proxies and serves the API. */
  async start(options: ProxyServerOptions = {}): Promise<this> {
    try {
      for (const config of options.proxies ?? []) {
        await this.createProxy(config);
      }
      if (options.port !== null) {
        this.#api = await serveAdmin(this.adminApp(), {
          hostname: options.hostname,
          port: options.port ?? 0,
        });
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    return this;
  }

  /** The proxies, in the order created. */
  proxies(): NamedProxy[] {
    return [...this.#proxies.values()];
  }

  /** A proxy by name. */
  proxy(name: string): NamedProxy | undefined {
    return this.#proxies.get(name);
  }

  /**
   * Creates a proxy (Toxiproxy's `POST /proxies`): enabled unless told, its
   * faults and toxics in force before its first connection. Throws
   * {@linkcode ProxyApiError}: 400 for a missing or bad field, 409 for a
   * name taken, 500 when it cannot listen.
   */
  createProxy(config: ProxyConfig): Promise<NamedProxy> {
    return this.#locked(() => this.#create(config));
  }

  /**
   * Creates or replaces proxies (Toxiproxy's `POST /populate`): a proxy of
   * the same name is kept when its listen and upstream are the same, else
   * replaced. Stops at the first error, returning what was done before it.
   */
  populate(
    configs: ProxyConfig[],
  ): Promise<{ proxies: NamedProxy[]; error?: ProxyApiError }> {
    return this.#locked(async () => {
      configs.forEach((config, i) => {
        if (!config.name) {
          throw new ProxyApiError(
            `missing required field: name at proxy ${i + 1}`,
            400,
          );
        }
        if (!config.upstream) {
          throw new ProxyApiError(
            `missing required field: upstream at proxy ${i + 1}`,
            400,
          );
        }
      });
      const done: NamedProxy[] = [];
      for (const config of configs) {
        try {
          const existing = this.#proxies.get(config.name);
          if (existing) {
            if (!(await existing.differs(config.listen, config.upstream))) {
              done.push(existing);
              continue;
            }
            await checkUpstream(config.upstream);
            await existing.dispose();
            this.#proxies.delete(config.name);
          }
          done.push(await this.#create(config));
        } catch (error) {
          return { proxies: done, error: ProxyApiError.from(error) };
        }
      }
      return { proxies: done };
    });
  }

  /**
   * Changes a proxy's listen, upstream or enabled (Toxiproxy's `POST|PATCH
   * /proxies/{name}`): a new address restarts it and drops its links.
   */
  updateProxy(
    name: string,
    change: { listen?: string; upstream?: string; enabled?: boolean },
  ): Promise<NamedProxy> {
    return this.#locked(async () => {
      const proxy = this.#get(name);
      const input = {
        listen: change.listen ?? proxy.listen,
        upstream: change.upstream ?? proxy.upstream,
        enabled: change.enabled ?? proxy.enabled,
      };
      if (input.upstream !== proxy.upstream) {
        await checkUpstream(input.upstream);
      }
      await proxy.update(input);
      return proxy;
    });
  }

  /** Deletes a proxy: its listener and links are closed. */
  removeProxy(name: string): Promise<void> {
    return this.#locked(async () => {
      const proxy = this.#get(name);
      this.#proxies.delete(name);
      this.#apps.delete(proxy);
      await proxy.dispose();
      this.journal.append("proxy_removed", { proxy: name });
    });
  }

  /** Adds a toxic to a proxy (a Toxiproxy API body); it acts on open links too. */
  addToxic(proxy: string, toxic: Partial<ToxicJson>): Promise<ToxicJson> {
    return this.#locked(() => this.#get(proxy).addToxic(toxic));
  }

  /** Updates a toxic's attributes (merged) and toxicity. */
  updateToxic(
    proxy: string,
    toxic: string,
    change: { attributes?: Record<string, number>; toxicity?: number },
  ): Promise<ToxicJson> {
    return this.#locked(() => this.#get(proxy).updateToxic(toxic, change));
  }

  /** Removes a toxic. */
  removeToxic(proxy: string, toxic: string): Promise<void> {
    return this.#locked(() => this.#get(proxy).removeToxic(toxic));
  }

  /** Enables every proxy and removes every toxic and fault (`POST /reset`). */
  reset(): Promise<void> {
    return this.#locked(async () => {
      for (const proxy of this.#proxies.values()) {
        await proxy.start();
        proxy.resetToxics();
        await proxy.settled();
      }
      this.journal.append("reset", {});
    });
  }

  /**
   * `/metrics` in Prometheus text format: every server's figures (process,
   * journal, faults fired; open connections are the proxied links), then
   * per-proxy connections and bytes.
   */
  metrics(): string {
    const proxies = this.proxies();
    return renderMetrics({
      name: this.name,
      kind: this.kind,
      journal: this.journal,
      connectionInfos: () => proxies.flatMap((proxy) => proxy.links()),
    }) + metricsText(proxies);
  }

  /**
   * The HTTP API as a Hono app: Toxiproxy's routes, `/metrics`, and ours
   * (`/health`, `/state`, `/journal`, `/events`, `/openapi.json`, and per
   * proxy `/proxies/{name}/faults`, `/connections`, `/down`, `/up`).
   *
   * @ignore
   */
  adminApp(): OpenAPIHono {
    if (this.#app) return this.#app;
    const app = createApiApp();
    app.route("/", toxiproxyRoutes(this.#toxiproxyTarget()));
    watchFaults(this.journal);
    app.get(
      "/metrics",
      (c) =>
        c.text(this.metrics(), 200, { "content-type": METRICS_CONTENT_TYPE }),
    );
    addStatusRoutes(app, this);
    addJournalRoutes(app, {
      journals: () => [this.journal],
      signal: this.signal,
    });
    // Our per-proxy routes: the shared admin routes of one proxy.
    app.all("/proxies/:proxy/:rest{.+}", (c) => {
      const proxy = this.#proxies.get(c.req.param("proxy"));
      if (!proxy) {
        return c.json({
          error: "not_found",
          message: `No proxy "${c.req.param("proxy")}"`,
        }, 404);
      }
      let sub = this.#apps.get(proxy);
      if (!sub) {
        sub = createAdminApp(proxy, { openapi: false });
        this.#apps.set(proxy, sub);
      }
      const url = new URL(c.req.url);
      url.pathname = `/${c.req.param("rest")}`;
      return sub.fetch(new Request(url, c.req.raw));
    });
    app.doc("/openapi.json", {
      openapi: "3.0.0",
      info: {
        title: "proxy admin API",
        version: "1",
        description:
          "The fault proxy's own routes. The Toxiproxy routes (/proxies, /populate, /reset, /version) follow Toxiproxy 2.x; per proxy, /proxies/{name}/faults, /connections, /down, /up, /state take the shared admin routes of every server.",
      },
    });
    return this.#app = app;
  }

  /** Seed, toxic types and every proxy's state. */
  state(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      seed: this.seed,
      toxicTypes: [...TOXICS.keys()],
      proxies: this.proxies().map((proxy) => proxy.state()),
      counts: this.journal.counts(),
    };
  }

  /** Closes every proxy and the HTTP API. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      await this.#lock.catch(() => {});
      this.#abort.abort();
      await this.#api?.close();
      await Promise.all(this.proxies().map((proxy) => proxy.dispose()));
      this.#proxies.clear();
      await this.#end.end();
    })();
  }

  /** Closes the server at the end of an `await using` scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #get(name: string): NamedProxy {
    const proxy = this.#proxies.get(name);
    if (!proxy) throw new ProxyApiError("proxy not found", 404);
    return proxy;
  }

  /** Runs changes one at a time, as Toxiproxy's locks do. */
  #locked<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.#lock.then(work);
    this.#lock = run.catch(() => {});
    return run;
  }

  async #create(config: ProxyConfig): Promise<NamedProxy> {
    if (!config.name) {
      throw new ProxyApiError("missing required field: name", 400);
    }
    if (!config.upstream) {
      throw new ProxyApiError("missing required field: upstream", 400);
    }
    if (this.#proxies.has(config.name)) {
      throw new ProxyApiError("proxy already exists", 409);
    }
    await checkUpstream(config.upstream);
    const proxy = new NamedProxy({
      journal: this.journal,
      random: this.random,
      nextConnectionId: () => ++this.#lastId,
    }, {
      name: config.name,
      listen: config.listen,
      upstream: config.upstream,
    });
    try {
      if (config.faults) proxy.faults.set(config.faults);
      for (const toxic of config.toxics ?? []) proxy.addToxic(toxic);
      if (config.enabled ?? true) await proxy.start();
    } catch (error) {
      await proxy.dispose();
      throw error;
    }
    this.#proxies.set(config.name, proxy);
    this.journal.append("proxy_created", {
      proxy: proxy.name,
      listen: proxy.listen,
      upstream: proxy.upstream,
      enabled: proxy.enabled,
    });
    return proxy;
  }

  #toxiproxyTarget() {
    const sorted = () =>
      [...this.#proxies.values()].sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0
      );
    return {
      proxiesJson: () =>
        Object.fromEntries(sorted().map((p) => [p.name, p.json()])),
      proxyJson: (name: string): ProxyJson => this.#get(name).json(),
      createProxyJson: async (body: unknown) =>
        (await this.createProxy(configOf(objectBody(body)))).json(),
      populateJson: async (body: unknown) => {
        if (!Array.isArray(body)) {
          throw new ProxyApiError(
            "bad request body: expected a JSON array of proxies",
            400,
          );
        }
        const configs = body.map((item) => configOf(objectBody(item)));
        const result = await this.populate(configs);
        return {
          proxies: result.proxies.map((p) => p.json()),
          error: result.error,
        };
      },
      updateProxyJson: async (name: string, body: unknown) => {
        const proxy = this.#get(name);
        const input = proxyFields(objectBody(body), {
          name: proxy.name,
          listen: proxy.listen,
          upstream: proxy.upstream,
          enabled: proxy.enabled,
        });
        return (await this.updateProxy(name, input)).json();
      },
      removeProxy: (name: string) => this.removeProxy(name),
      toxicsJson: (proxy: string) => this.#get(proxy).toxics(),
      toxicJson: (proxy: string, toxic: string) => {
        const found = this.#get(proxy).toxic(toxic);
        if (!found) throw new ProxyApiError("toxic not found", 404);
        return found;
      },
      addToxicJson: (proxy: string, body: unknown) =>
        this.addToxic(proxy, body as Partial<ToxicJson>),
      updateToxicJson: (proxy: string, toxic: string, body: unknown) =>
        this.updateToxic(proxy, toxic, body as Record<string, never>),
      removeToxic: (proxy: string, toxic: string) =>
        this.removeToxic(proxy, toxic),
      reset: () => this.reset(),
    };
  }
}

function configOf(body: Record<string, unknown>): ProxyConfig {
  return proxyFields(body, {
    name: "",
    listen: "",
    upstream: "",
    enabled: true,
  });
}

/**
 * Starts a proxy server: its proxies listen and its API serves once the
 * promise resolves.
 *
 * @example Usage
 * ```ts ignore
 * import { startProxyServer } from "./proxy.ts";
 * await using server = await startProxyServer({
 *   proxies: [{ name: "db", listen: "127.0.0.1:0", upstream: "127.0.0.1:5432" }],
 * });
 * server.proxy("db")!.addr.port; // where clients connect
 * ```
 */
export function startProxyServer(
  options: ProxyServerOptions = {},
): Promise<ProxyServer> {
  return new ProxyServer(options).start(options);
}

/** The proxy CLI's own flags. */
const PROXY_FLAGS: FlagTable = {
  ...optionFlags(ProxyServerOptionsSchema),
  config: {
    type: "string",
    value: "FILE",
    description:
      "Create the proxies of this JSON file (Toxiproxy's format: [{name, listen, upstream, enabled}])",
  },
  ...optionFlags(ProxyOptionsSchema),
  help: { type: "boolean", description: "Show this help and exit" },
};

/** The connect-time faults the --name proxy takes as flags. */
const PROXY_FAULT_KINDS: readonly FaultKind[] = [
  "refuse",
  "reset",
  "blackHole",
  "down",
];

/** Fault flags for the --name proxy: those faults' own, from the registry. */
const PROXY_FAULT_FLAGS: FlagTable = {
  ...Object.fromEntries(
    PROXY_FAULT_KINDS.flatMap((kind) =>
      (faultDefinition(kind).flags ?? []).map(({ name }) => [
        name,
        FAULT_FLAGS[name],
      ])
    ),
  ),
  faults: {
    type: "string",
    value: "JSON",
    description: `Faults as JSON, the body of PUT /proxies/NAME/faults (${
      PROXY_FAULT_KINDS.join(", ")
    })`,
  },
};

async function readConfig(path: string): Promise<ProxyConfig[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new CliError(
      `Invalid --config "${path}": cannot read it as JSON: ${
        (error as Error).message
      }`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new CliError(
      `Invalid --config "${path}": expected a JSON array of {name, listen, upstream, enabled}`,
    );
  }
  try {
    return parsed.map((item) => configOf(objectBody(item)));
  } catch (error) {
    throw new CliError(
      `Invalid --config "${path}": ${(error as Error).message}`,
    );
  }
}

/** Runs the proxy server's command line. */
export function main(args: string[]): Promise<void> {
  return runCli(args, {
    usage: `${runCommand("servers/proxy.ts")} [flags]`,
    summary:
      "The fault proxy: named TCP proxies for any protocol, driven by a Toxiproxy-compatible HTTP API (toxics: " +
      [...TOXICS.keys()].join(", ") +
      "), with seeded toxicity, connect-time faults and a journal.",
    sections: [
      ["Proxy flags", PROXY_FLAGS],
      ["Fault flags (for the --name proxy)", PROXY_FAULT_FLAGS],
    ],
    async start(values) {
      const configs = typeof values.config === "string"
        ? await readConfig(values.config)
        : [];
      const own = optionsFromFlags(ProxyOptionsSchema, values);
      const faults = faultsFromFlags(values);
      if (own.name === undefined) {
        if (Object.keys(faults).length > 0) {
          throw new CliError("Invalid fault flags: they need --name");
        }
      } else {
        configs.push({
          name: own.name,
          listen: own.listen,
          upstream: own.upstream!,
          faults,
        });
      }
      let server: ProxyServer;
      try {
        server = await startProxyServer({
          hostname: "127.0.0.1",
          port: PROXY_API_PORT,
          ...optionsFromFlags(ProxyServerOptionsSchema, values),
          proxies: configs,
        });
      } catch (error) {
        if (error instanceof ProxyApiError && error.status < 500) {
          throw new CliError(`Cannot create proxy: ${error.message}`);
        }
        throw error;
      }
      const list = server.proxies().map((p) =>
        `${p.name}=${p.listen}>${p.upstream}`
      ).join(",");
      const first = server.proxies()[0];
      return {
        line: `proxy tcp=${
          first?.listen ?? "-"
        } admin=${server.url} seed=${server.seed} codec=raw proxies=${
          list || "-"
        }`,
        finished: server.finished,
        close: () => server.close(),
      };
    },
  });
}

if (import.meta.main) await main(Deno.args);
