/**
 * One named proxy of the proxy server: a listener, its links to the
 * upstream, its toxics (Toxiproxy's semantics) and its connect-time faults
 * (ours: refuse, down, reset, black hole).
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import type { ConnectionInfo } from "../core/server/connection.ts";
import {
  parseToxicAttributes,
  ToxicAttributeError,
  type ToxicAttributes,
  type ToxicDefinition,
} from "../core/faults/toxic.ts";
import { TOXICS } from "../core/faults/toxics.ts";
import { ZodError } from "zod";
import {
  FAULT_KINDS,
  faultDefinition,
  FaultEngine,
  type FaultKind,
  type FaultsPatch,
} from "../core/faults/mod.ts";
import type { Journal } from "../core/journal/journal.ts";
import {
  type LinkCloseHow,
  type LinkStream,
  ProxyLink,
} from "../core/net/proxy_link.ts";
import type { SeededRandom } from "../core/faults/random.ts";
import { acceptSubject, engineSteps, linkInfo } from "./_link_subject.ts";
import type { Addr, ServerState } from "../core/server/tcp_server.ts";

/** Where a proxy listens when its listen address is empty or not given. */
const DEFAULT_LISTEN = "127.0.0.1:0";

/** An error of the Toxiproxy API: a message and the HTTP status it answers. */
export class ProxyApiError extends Error {
  /** The HTTP status (400, 404, 409, 500). */
  readonly status: number;
  /** Makes the error. */
  constructor(message: string, status: number) {
    super(message);
    this.name = "ProxyApiError";
    this.status = status;
  }

  /**
   * An error as the API answers it: a ProxyApiError as it is, any other as
   * a 500 with its message.
   */
  static from(error: unknown): ProxyApiError {
    return error instanceof ProxyApiError
      ? error
      : new ProxyApiError(String((error as Error)?.message ?? error), 500);
  }
}

/** A toxic as the Toxiproxy API shows it. */
export interface ToxicJson {
  /** Its attributes, every one of its type, in Toxiproxy's order. */
  attributes: ToxicAttributes;
  /** Its name (default `<type>_<stream>`). */
  name: string;
  /** Its type (`latency`, ...). */
  type: string;
  /** `upstream` or `downstream`, as given. */
  stream: string;
  /** The share of connections it applies to, 0 to 1 (drawn per connection, seeded). */
  toxicity: number;
  /** Ours, beyond Toxiproxy: the first N connections, or for a time. */
  window?: ToxicWindow;
}

/** A proxy as the Toxiproxy API shows it. */
export interface ProxyJson {
  /** Its name. */
  name: string;
  /** Where it listens (`host:port`; the real port once listening). */
  listen: string;
  /** Where it connects (`host:port`). */
  upstream: string;
  /** Whether it accepts connections. */
  enabled: boolean;
  /** Its toxics, upstream ones first. */
  toxics: ToxicJson[];
}

/** What a named proxy needs from its server. */
export interface ProxyHost {
  /** The journal every event goes to. */
  readonly journal: Journal;
  /** The server's root random stream. */
  readonly random: SeededRandom;
  /** Gives connection ids, unique in the server. */
  nextConnectionId(): number;
}

/** Per-proxy counters, for `/metrics`. */
export interface ProxyCounters {
  /** Connections accepted. */
  connections: number;
  /** Bytes read, by direction. */
  received: Record<LinkStream, number>;
  /** Bytes written, by direction. */
  sent: Record<LinkStream, number>;
}

/**
 * Our extension of a toxic (beyond Toxiproxy): when it is in force, counted
 * in the connections it meets or in time.
 */
export interface ToxicWindow {
  /** Skip this many connections first. */
  after?: number;
  /** Then apply to this many connections, and stop. */
  first?: number;
  /** Remove the toxic this many milliseconds after it was added. */
  forMs?: number;
}

interface Toxic extends ToxicJson {
  definition: ToxicDefinition;
  direction: LinkStream;
  window?: ToxicWindow;
  timer?: ReturnType<typeof setTimeout>;
}

function toxicWindow(value: unknown): ToxicWindow | undefined {
  if (value === undefined || value === null) return undefined;
  const body = objectBody(value);
  const read = (name: keyof ToxicWindow, min: number, integer: boolean) => {
    const given = body[name];
    if (given === undefined) return undefined;
    if (
      typeof given !== "number" || given < min ||
      (integer && !Number.isInteger(given)) || given > 2_147_483_647
    ) {
      throw new ProxyApiError(
        `bad request body: window.${name}: expected ${
          integer ? "an integer" : "a number"
        } from ${min}, got ${JSON.stringify(given)}`,
        400,
      );
    }
    return given;
  };
  const window: ToxicWindow = {};
  const after = read("after", 0, true);
  const first = read("first", 1, true);
  const forMs = read("forMs", 1, false);
  if (after !== undefined) window.after = after;
  if (first !== undefined) window.first = first;
  if (forMs !== undefined) window.forMs = forMs;
  return window;
}

interface LinkEntry {
  id: number;
  ordinal: number;
  link: ProxyLink;
  info: { peer: string; local: string; openedAt: number };
}

/** Parses `host:port` as Go's net package does: empty host, `[v6]:port`. */
export function splitHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new RangeError(
      `address ${text}: ${
        text.includes(":") ? "invalid port" : "missing port in address"
      }`,
    );
  }
  return { host: match[1] ?? match[2], port };
}

/** Resolves a host to one address (IPv4 first), bounded in time. */
export async function resolveHost(host: string): Promise<string> {
  if (host === "" || host === "localhost") return "127.0.0.1";
  if (isIP(host)) return host;
  const timeout = AbortSignal.timeout(2000);
  const found = await Promise.race([
    lookup(host, { order: "ipv4first" }),
    new Promise<never>((_, reject) =>
      timeout.addEventListener(
        "abort",
        () => reject(new Error(`lookup ${host}: timed out`)),
        { once: true },
      )
    ),
  ]);
  return found.address;
}

function formatAddr(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Checks an upstream address: `host:port` with a host that resolves. */
export async function checkUpstream(upstream: string): Promise<void> {
  let parts;
  try {
    parts = splitHostPort(upstream);
  } catch (error) {
    throw new ProxyApiError(
      `bad request body: upstream: ${(error as Error).message}`,
      400,
    );
  }
  if (parts.host === "") {
    throw new ProxyApiError(
      `bad request body: upstream: address ${upstream}: missing host`,
      400,
    );
  }
  try {
    await resolveHost(parts.host);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ProxyApiError(
      `bad request body: upstream: cannot resolve host "${parts.host}": ${
        code ?? (error as Error).message
      }`,
      400,
    );
  }
}

/** Reads a toxic's stream name, as Toxiproxy does (any case). */
function direction(stream: string): LinkStream {
  const lower = stream.toLowerCase();
  if (lower === "upstream" || lower === "downstream") return lower;
  throw new ProxyApiError(
    "stream was invalid, can be either upstream or downstream",
    400,
  );
}

/** A body field that must be of one JSON type when present. */
function field<T>(
  body: Record<string, unknown>,
  name: string,
  type: "string" | "number" | "boolean",
  fallback: T,
): T {
  const value = body[name];
  if (value === undefined || value === null) return fallback;
  const actual: string = typeof value;
  if (actual !== type) {
    throw new ProxyApiError(
      `bad request body: ${name}: expected a ${type}, got ${
        Array.isArray(value) ? "array" : typeof value
      }`,
      400,
    );
  }
  return value as T;
}

/** A JSON body that must be an object. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ProxyApiError(
      `bad request body: expected a JSON object, got ${
        Array.isArray(body) ? "an array" : body === null ? "null" : typeof body
      }`,
      400,
    );
  }
  return body as Record<string, unknown>;
}

/** Reads the fields of a proxy from a body, over defaults. */
export function proxyFields(
  body: Record<string, unknown>,
  defaults: {
    name: string;
    listen: string;
    upstream: string;
    enabled: boolean;
  },
): { name: string; listen: string; upstream: string; enabled: boolean } {
  return {
    name: field(body, "name", "string", defaults.name),
    listen: field(body, "listen", "string", defaults.listen),
    upstream: field(body, "upstream", "string", defaults.upstream),
    enabled: field(body, "enabled", "boolean", defaults.enabled),
  };
}

/** Options for {@linkcode NamedProxy}. */
export interface NamedProxyOptions {
  /** The proxy's name. */
  name: string;
  /**
   * Where to listen (`host:port`; port 0 picks one; empty host: 127.0.0.1;
   * empty or none: `127.0.0.1:0`).
   */
  listen?: string;
  /** Where to connect (`host:port`). */
  upstream: string;
}

/**
 * One named proxy: listen, upstream, toxics, connect-time faults, links.
 * Made and driven by the proxy server.
 */
export class NamedProxy {
  /** The proxy's name. */
  readonly name: string;
  /** What kind of thing it is, for the admin app. */
  readonly kind = "proxy";
  /**
   * The fault engine of this proxy (ours, beside the toxics): listen-stage
   * faults (refuse, down), accept-stage ones (reset, resetAfter), byte ones
   * on both directions (blackHole, resetAfter bytes, trickle, noRead), with
   * windows and schedules.
   */
  readonly faults: FaultEngine;
  /** Counters for `/metrics`. */
  readonly counters: ProxyCounters = {
    connections: 0,
    received: { upstream: 0, downstream: 0 },
    sent: { upstream: 0, downstream: 0 },
  };
  #host: ProxyHost;
  #random: SeededRandom;
  /** The address asked for (port 0: any); once bound, `#addr` is the real one. */
  #listen: string;
  #upstream: string;
  #enabled = false;
  #server?: Server;
  #addr?: Addr;
  #links = new Map<number, LinkEntry>();
  #toxics: Record<LinkStream, Toxic[]> = { upstream: [], downstream: [] };
  /** Faults of the engine set through the Toxiproxy API, as toxics, by name. */
  #faultToxics = new Map<string, ToxicJson & { kind: FaultKind }>();
  #ordinal = 0;
  #abort = new AbortController();
  #reconciling: Promise<void> = Promise.resolve();

  /** Makes a proxy; it listens once started. */
  constructor(host: ProxyHost, options: NamedProxyOptions) {
    this.name = options.name;
    this.#host = host;
    this.#listen = options.listen || DEFAULT_LISTEN;
    this.#upstream = options.upstream;
    this.#random = host.random.derive(`proxy/${options.name}`);
    this.faults = new FaultEngine({
      random: this.#random.derive("faults"),
      journal: host.journal,
      // A toxic's stream per link: its toxicity, then its own draws.
      instanceRandom: (name, subject) =>
        this.#random.derive(
          `toxic/${name}/conn-${
            this.#links.get(subject.conn)?.ordinal ?? subject.conn
          }`,
        ),
    });
    this.faults.onChange(() => this.#reconcile());
  }

  /** The server's journal. */
  get journal(): Journal {
    return this.#host.journal;
  }

  /** Where it listens, as the API shows it. */
  get listen(): string {
    const addr = this.#addr;
    return addr ? formatAddr(addr.hostname, addr.port) : this.#listen;
  }

  /** Where it connects. */
  get upstream(): string {
    return this.#upstream;
  }

  /** Whether it is enabled. */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** The address it listens on (once started). */
  get addr(): Addr {
    if (this.#addr) return { ...this.#addr };
    const { host, port } = splitHostPort(this.#listen);
    return { hostname: host || "127.0.0.1", port };
  }

  /** Aborted once the proxy is deleted: its event streams end. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Whether it accepts connections now. */
  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** The proxy as the Toxiproxy API shows it. */
  json(): ProxyJson {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.#upstream,
      enabled: this.#enabled,
      toxics: this.toxics(),
    };
  }

  /** Its toxics, upstream ones first, each in the order added. */
  toxics(): ToxicJson[] {
    return [
      ...[...this.#toxics.upstream, ...this.#toxics.downstream].map(toxicJson),
      ...[...this.#faultToxics.values()].map(({ kind: _, ...json }) => ({
        ...json,
        attributes: { ...json.attributes },
      })),
    ];
  }

  /** One toxic by name. */
  toxic(name: string): ToxicJson | undefined {
    const found = this.#find(name);
    if (found) return toxicJson(found);
    return this.toxics().find((toxic) => toxic.name === name);
  }

  /**
   * Starts listening (Toxiproxy's start). Throws a 500
   * {@linkcode ProxyApiError} when it cannot (address in use, bad address).
   */
  async start(): Promise<void> {
    if (this.#enabled) return;
    this.#enabled = true;
    try {
      await this.#serialized(() => this.#listenNow());
    } catch (error) {
      this.#enabled = false;
      throw error;
    }
  }

  /** Stops listening and closes every link (Toxiproxy's stop). */
  async stop(how: LinkCloseHow = "fin", reason = "proxy:disabled"): Promise<
    void
  > {
    if (!this.#enabled) return;
    this.#enabled = false;
    await this.#serialized(() => this.#unlisten(reason));
    await this.#closeLinks(how, reason);
  }

  /**
   * Whether a listen or upstream address differs from this proxy's
   * (Toxiproxy resolves the listen address to compare). Throws a 500
   * {@linkcode ProxyApiError} when the listen address cannot be resolved; an
   * empty or no listen address is `127.0.0.1:0`.
   */
  async differs(
    listen: string | undefined,
    upstream: string,
  ): Promise<boolean> {
    let resolved: string;
    try {
      const { host, port } = splitHostPort(listen || DEFAULT_LISTEN);
      resolved = formatAddr(await resolveHost(host), port);
    } catch (error) {
      throw new ProxyApiError((error as Error).message, 500);
    }
    return resolved !== this.listen || upstream !== this.#upstream;
  }

  /** Changes listen, upstream and enabled as Toxiproxy's update does. */
  async update(
    input: { listen: string; upstream: string; enabled: boolean },
  ): Promise<void> {
    if (await this.differs(input.listen, input.upstream)) {
      await this.stop("fin", "proxy:updated");
      this.#listen = input.listen || DEFAULT_LISTEN;
      this.#upstream = input.upstream;
      this.#addr = undefined;
    }
    if (input.enabled !== this.#enabled) {
      if (input.enabled) await this.start();
      else await this.stop();
    }
  }

  /**
   * Adds a toxic from a Toxiproxy API body (defaults: stream `downstream`,
   * toxicity 1, name `<type>_<stream>`); it acts on open links too.
   */
  addToxic(input: unknown): ToxicJson {
    const body = objectBody(input);
    const type = field(body, "type", "string", "");
    const stream = field(body, "stream", "string", "downstream");
    const toxicity = field(body, "toxicity", "number", 1);
    let name = field(body, "name", "string", "");
    const dir = direction(stream);
    if (name === "") name = `${type}_${stream}`;
    const definition = TOXICS.get(type);
    const kind = (FAULT_KINDS as readonly string[]).includes(type)
      ? type as FaultKind
      : undefined;
    if (!definition && !kind) {
      throw new ProxyApiError("invalid toxic type", 400);
    }
    if (this.#find(name) || this.#faultToxics.has(name)) {
      throw new ProxyApiError("toxic already exists", 409);
    }
    if (!definition) {
      return this.#addFaultToxic(kind!, name, stream, toxicity, body);
    }
    checkToxicity(toxicity);
    const attributes = attributesOf(definition, body.attributes);
    const window = toxicWindow(body.window);
    const toxic: Toxic = {
      attributes,
      name,
      type,
      stream,
      toxicity,
      definition,
      direction: dir,
      ...(window ? { window } : {}),
    };
    this.#toxics[dir].push(toxic);
    if (window?.forMs !== undefined) {
      toxic.timer = setTimeout(() => {
        toxic.timer = undefined;
        if (this.#find(name) !== toxic) return;
        this.journal.append("toxic_expired", { proxy: this.name, toxic: name });
        this.removeToxic(name);
      }, window.forMs);
    }
    this.journal.append("toxic_added", toxicEvent(this.name, toxicJson(toxic)));
    this.faults.addInstance({
      name,
      definition,
      direction: dir === "upstream" ? "in" : "out",
      toxicity,
      rule: { ...attributes },
      ...(window ? { window } : {}),
      fields: { toxic: name, stream: dir, proxy: this.name },
    });
    return toxicJson(toxic);
  }

  /**
   * Updates a toxic's attributes (merged over the ones in force) and
   * toxicity, as Toxiproxy does; a new toxicity is drawn again per link.
   */
  updateToxic(name: string, input: unknown): ToxicJson {
    const toxic = this.#find(name);
    const fault = this.#faultToxics.get(name);
    if (fault) {
      const body = objectBody(input);
      const merged = {
        ...fault.attributes,
        ...(body.attributes as Record<string, unknown> ?? {}),
      };
      this.#setFault(fault.kind, merged);
      fault.attributes = merged as ToxicAttributes;
      return this.toxic(name)!;
    }
    if (!toxic) throw new ProxyApiError("toxic not found", 404);
    const body = objectBody(input);
    const toxicity = field(body, "toxicity", "number", toxic.toxicity);
    checkToxicity(toxicity);
    const attributes = attributesOf(
      toxic.definition,
      body.attributes,
      toxic.attributes,
    );
    toxic.attributes = attributes;
    toxic.toxicity = toxicity;
    this.journal.append(
      "toxic_updated",
      toxicEvent(this.name, toxicJson(toxic)),
    );
    this.faults.updateInstance(name, { rule: { ...attributes }, toxicity });
    return toxicJson(toxic);
  }

  /** Removes a toxic; what it holds is handed on. */
  removeToxic(name: string): void {
    const toxic = this.#find(name);
    const fault = this.#faultToxics.get(name);
    if (fault) {
      this.#faultToxics.delete(name);
      this.faults.patch({ [fault.kind]: null } as FaultsPatch);
      this.journal.append("toxic_removed", { proxy: this.name, toxic: name });
      return;
    }
    if (!toxic) throw new ProxyApiError("toxic not found", 404);
    const list = this.#toxics[toxic.direction];
    list.splice(list.indexOf(toxic), 1);
    if (toxic.timer !== undefined) clearTimeout(toxic.timer);
    this.faults.removeInstance(name);
    this.journal.append("toxic_removed", { proxy: this.name, toxic: name });
  }

  /** Removes every toxic and every connect-time fault. */
  resetToxics(): void {
    for (
      const toxic of [...this.#toxics.upstream, ...this.#toxics.downstream]
    ) {
      this.removeToxic(toxic.name);
    }
    if (Object.keys(this.faults.get()).length > 0) this.faults.clear();
  }

  /** Open links, for the admin API. */
  connectionInfos(): ConnectionInfo[] {
    return [...this.#links.values()].map((entry) =>
      linkInfo(entry.id, entry.link, {
        peer: entry.info.peer,
        local: entry.info.local,
        listener: this.name,
        tags: {
          upstream: this.#upstream,
          toxics: [
            ...entry.link.stages("upstream"),
            ...entry.link.stages("downstream"),
          ].join(","),
        },
      })
    );
  }

  /** A link by connection id, to close it. */
  connection(
    id: number,
  ): { close(how?: "fin" | "rst" | "half-close"): void } | undefined {
    const entry = this.#links.get(id);
    if (!entry) return undefined;
    return {
      close: (how = "fin") =>
        entry.link.close(how === "rst" ? "rst" : "fin", "admin", "proxy"),
    };
  }

  /** The links open now. */
  links(): ProxyLink[] {
    return [...this.#links.values()].map((entry) => entry.link);
  }

  /** The proxy's state, for the admin API. */
  state(): ServerState & { upstream: string; toxics: ToxicJson[] } {
    return {
      name: this.name,
      kind: this.kind,
      listening: this.listening,
      addr: this.addr,
      codec: "raw",
      seed: this.#random.seed,
      faults: this.faults.get(),
      connections: this.#links.size,
      counts: this.journal.counts(),
      upstream: this.#upstream,
      toxics: this.toxics(),
    };
  }

  /** Goes down (our `down` fault: listener closed, links closed). */
  down(how: "fin" | "rst" = "fin"): void {
    this.faults.patch({ down: how === "rst" ? { how } : {} });
  }

  /** Comes back up. */
  up(): void {
    this.faults.patch({ down: null, refuse: null });
  }

  /** Waits until the listener matches the faults after a change. */
  settled(): Promise<void> {
    return this.#reconciling;
  }

  /** Stops it for good (deleted): listener, links, fault timers, streams. */
  async dispose(): Promise<void> {
    for (
      const toxic of [...this.#toxics.upstream, ...this.#toxics.downstream]
    ) {
      if (toxic.timer !== undefined) clearTimeout(toxic.timer);
    }
    await this.stop("fin", "proxy:deleted");
    this.faults.dispose();
    this.#abort.abort();
  }

  /**
   * A fault of the engine set through the Toxiproxy API: `type` is its kind,
   * `attributes` its rule (checked by its schema), one per kind.
   */
  #addFaultToxic(
    kind: FaultKind,
    name: string,
    stream: string,
    toxicity: number,
    body: Record<string, unknown>,
  ): ToxicJson {
    if (toxicity !== 1) {
      throw new ProxyApiError(
        `bad request body: toxicity: the ${kind} fault takes its chance as attributes.probability`,
        400,
      );
    }
    if ([...this.#faultToxics.values()].some((t) => t.kind === kind)) {
      throw new ProxyApiError(
        `toxic already exists: a ${kind} fault is set on this proxy`,
        409,
      );
    }
    const attributes = (body.attributes ?? {}) as Record<string, unknown>;
    this.#setFault(kind, attributes);
    const json = {
      attributes: attributes as ToxicAttributes,
      name,
      type: kind,
      stream,
      toxicity,
      kind,
    };
    this.#faultToxics.set(name, json);
    this.journal.append("toxic_added", {
      proxy: this.name,
      name,
      toxicType: kind,
      stream,
      attributes,
    });
    return this.toxic(name)!;
  }

  #setFault(kind: FaultKind, rule: unknown): void {
    try {
      faultDefinition(kind).schema.parse(rule);
      this.faults.patch({ [kind]: rule } as FaultsPatch);
    } catch (error) {
      if (error instanceof ZodError) {
        const issue = error.issues[0];
        const path = ["attributes", ...issue.path].join(".");
        throw new ProxyApiError(
          `bad request body: ${path}: ${issue.message}`,
          400,
        );
      }
      throw error;
    }
  }

  #find(name: string): Toxic | undefined {
    return this.#toxics.upstream.find((t) => t.name === name) ??
      this.#toxics.downstream.find((t) => t.name === name);
  }

  /**
   * Whether the listener should accept now. The listen stage's `no-accept`
   * (a listener never asked to accept) is taken as closed: node:net has no
   * listener that does not accept.
   */
  #shouldListen(): boolean {
    return this.#enabled && this.faults.listenPlan().mode === "accept";
  }

  /** Runs listener changes one at a time, in order. */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#reconciling.then(work);
    this.#reconciling = run.then(() => {}, () => {});
    return run;
  }

  #reconcile(): void {
    void this.#serialized(async () => {
      const plan = this.faults.listenPlan();
      if (plan.closeOpen) {
        await this.#closeLinks(plan.closeOpen, `fault:${plan.reason}`);
      }
      if (this.#shouldListen()) {
        if (!this.#server) await this.#listenNow();
      } else if (this.#server) {
        await this.#unlisten(`fault:${plan.reason}`);
      }
    }).catch((error) => {
      this.journal.append("error", {
        proxy: this.name,
        message: `Cannot change listener: ${error.message}`,
      });
    });
  }

  async #listenNow(): Promise<void> {
    if (this.#server || (!this.#shouldListen() && this.#addr)) return;
    let host: string;
    let port: number;
    try {
      const parts = splitHostPort(this.listen);
      host = await resolveHost(parts.host);
      port = parts.port;
    } catch (error) {
      throw new ProxyApiError(
        `listen tcp ${this.listen}: ${(error as Error).message}`,
        500,
      );
    }
    const server = createServer(
      { allowHalfOpen: true, noDelay: true },
      (socket) => this.#accept(socket),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: Error & { code?: string }) => {
        const why = error.code === "EADDRINUSE"
          ? "bind: address already in use"
          : error.code === "EADDRNOTAVAIL"
          ? "bind: cannot assign requested address"
          : error.message;
        reject(
          new ProxyApiError(
            `listen tcp ${formatAddr(host, port)}: ${why}`,
            500,
          ),
        );
      });
      server.listen({ host, port }, () => resolve());
    });
    server.on("error", (error) =>
      this.journal.append("error", {
        proxy: this.name,
        message: `Listener failed: ${error.message}`,
      }));
    const bound = server.address();
    const boundPort = bound && typeof bound === "object" ? bound.port : port;
    this.#addr = { hostname: host, port: boundPort };
    this.#server = server;
    if (!this.#shouldListen()) {
      // Bound to learn and own the port; a refuse or down fault holds it shut.
      await this.#unlisten(
        this.faults.active("down") ? "fault:down" : "fault:refuse",
      );
      return;
    }
    this.journal.append("listening", {
      proxy: this.name,
      addr: this.listen,
      upstream: this.#upstream,
    });
  }

  #unlisten(reason: string): Promise<void> {
    const server = this.#server;
    if (!server) return Promise.resolve();
    this.#server = undefined;
    this.journal.append("stopped_listening", { proxy: this.name, reason });
    return new Promise((resolve) => {
      server.close(() => resolve());
      // close() waits for open connections; the listener itself is gone now.
      queueMicrotask(resolve);
    });
  }

  async #closeLinks(how: LinkCloseHow, reason: string): Promise<void> {
    const open = [...this.#links.values()];
    for (const entry of open) entry.link.close(how, reason, "proxy");
    await Promise.all(open.map((entry) => entry.link.finished));
  }

  #accept(socket: Socket): void {
    if (!this.#server) {
      socket.destroy();
      return;
    }
    const id = this.#host.nextConnectionId();
    const ordinal = ++this.#ordinal;
    this.counters.connections++;
    const peer = formatAddr(
      socket.remoteAddress ?? "?",
      socket.remotePort ?? 0,
    );
    const local = formatAddr(socket.localAddress ?? "?", socket.localPort ?? 0);
    const journal = this.journal;
    journal.append("connected", { conn: id, proxy: this.name, peer, local });
    const conn = acceptSubject(this.faults, journal, socket, {
      conn: id,
      peer,
    }, { by: "proxy", fields: { proxy: this.name } });
    if (!conn) return;
    const blackHole = this.faults.active("blackHole", conn);
    if (blackHole) {
      journal.append("fault", {
        fault: "blackHole",
        fired: true,
        conn: id,
        proxy: this.name,
        upstream: "not opened",
      });
    }
    const { host, port } = splitHostPort(this.#upstream);
    const counters = this.counters;
    const link = new ProxyLink({
      client: socket,
      upstream: { hostname: host, port },
      blackHole,
      wrap: engineSteps(this.faults, conn),
      events: {
        upstreamConnected: (localAddr) =>
          journal.append("upstream_connected", {
            conn: id,
            proxy: this.name,
            upstream: this.#upstream,
            local: localAddr,
          }),
        upstreamFailed: (code, message) =>
          journal.append("upstream_failed", {
            conn: id,
            proxy: this.name,
            upstream: this.#upstream,
            code,
            message,
          }),
        halfClosed: (stream) =>
          journal.append("half_closed", { conn: id, proxy: this.name, stream }),
        heldBack: (stream, held) =>
          journal.append("held_back", {
            conn: id,
            proxy: this.name,
            stream,
            held,
          }),
        read: (stream, bytes) => counters.received[stream] += bytes,
        wrote: (stream, bytes) => counters.sent[stream] += bytes,
        closed: (info) => {
          this.#links.delete(id);
          conn.dispose();
          journal.append("closed", {
            conn: id,
            proxy: this.name,
            how: info.how,
            by: info.by,
            reason: info.reason,
            bytesUp: info.bytes.upstreamOut,
            bytesDown: info.bytes.downstreamOut,
            bytesIn: info.bytes.upstreamIn,
            bytesOut: info.bytes.downstreamOut,
            ms: info.ms,
          });
        },
      },
    });
    const entry: LinkEntry = {
      id,
      ordinal,
      link,
      info: { peer, local, openedAt: link.openedAt },
    };
    this.#links.set(id, entry);
    conn.link = link;
  }
}

function toxicJson(toxic: Toxic): ToxicJson {
  return {
    attributes: { ...toxic.attributes },
    name: toxic.name,
    type: toxic.type,
    stream: toxic.stream,
    toxicity: toxic.toxicity,
    ...(toxic.window ? { window: { ...toxic.window } } : {}),
  };
}

/**
 * A toxic's journal fields: its type as `toxicType`, since the journal's own
 * `type` (the event's) would overwrite a `type` field.
 */
function toxicEvent(proxy: string, json: ToxicJson): Record<string, unknown> {
  const { type, ...rest } = json;
  return { proxy, ...rest, toxicType: type };
}

function checkToxicity(toxicity: number): void {
  if (!(toxicity >= 0 && toxicity <= 1)) {
    throw new ProxyApiError(
      `bad request body: toxicity: expected 0 to 1, got ${toxicity}`,
      400,
    );
  }
}

function attributesOf(
  definition: ToxicDefinition,
  value: unknown,
  base?: ToxicAttributes,
): ToxicAttributes {
  try {
    return parseToxicAttributes(definition, value, base);
  } catch (error) {
    if (error instanceof ToxicAttributeError) {
      throw new ProxyApiError(`bad request body: ${error.message}`, 400);
    }
    throw error;
  }
}
