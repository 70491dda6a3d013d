/**
 * What the agent (QA) scenarios share: one message-store server with named
 * fronts on port 0 over one shared store, the `{servers}` and `{agent}`
 * placeholders, and journal queries per front.
 *
 * The server is registered once, as `store`; its events carry `front`, which
 * is the lane of the timeline (store-wide events, `store_down` and
 * `store_up`, are on the `store` lane) and the source of their evidence.
 *
 * The fronts share an in-memory store, unless the run's `store` (`ctx.store`,
 * the runner's `--store`) names a PostgreSQL server (`postgres://USER@HOST:PORT/DB`, a user with CREATEDB):
 * then each scenario's store is a database of its own on it, made before
 * the scenario and dropped after it.
 *
 * @module
 */
import type { Faults } from "../../core/faults/mod.ts";
import type { JournalEvent } from "../../core/journal/journal.ts";
import { startMessageStoreServer } from "../../servers/message_store.ts";
import type { MessageStore } from "../../servers/message_store_interface.ts";
import type { Evidence, ScenarioContext, Timing } from "../scenario.ts";
import type { Check } from "./_checks.ts";
import { joinHostPort } from "../../core/net/host_port.ts";
import { inProcessFronts, type MessageFronts } from "../message_fronts.ts";

/** The agent's name, the `{agent}` placeholder. */
export const AGENT = "qa-agent";
/** Who the agent's messages are for (no agent of that name connects). */
export const PEER = "qa-peer";
/** The label the store server is registered under. */
export const STORE = "store";
/**
 * "At once": the most time between one server failing and the next attempt
 * that still counts as immediate.
 */
export const AT_ONCE_MS = 250;

/**
 * Extra time allowed for the agent's first connection: a process may take
 * a while to start on a busy machine (waits end as soon as it connects).
 */
export const STARTUP_MS = 10_000;

/** Options for {@linkcode startMessaging}. */
export interface MessagingSetup {
  /** The fronts to start, in this order (default `ml1`, `ml2`). */
  fronts?: string[];
  /** The agent's list, primary first (default: the fronts, in order). */
  order?: string[];
  /** Each front's faults from the start. */
  faults?: Record<string, Faults>;
  /** Messages waiting for the agent before it starts. */
  waiting?: string[];
}

/** A started message store and the placeholders for the agent. */
export interface Messaging {
  /** The fronts, in the runner's process or in processes of their own. */
  fronts: MessageFronts;
  /** `{servers}` and `{agent}`. */
  endpoints: Record<string, string>;
  /** The agent's list, primary first. */
  order: string[];
}

/** The front an event is about, if any. */
export function frontOf(event: JournalEvent): string | undefined {
  return typeof event.front === "string" ? event.front : undefined;
}

/**
 * The store the run asks for (`ctx.store`), or undefined for memory. The
 * PostgreSQL driver is loaded only when a URL asks for it.
 */
async function scenarioStore(
  spec: string,
): Promise<MessageStore | undefined> {
  if (spec === "memory") return undefined;
  const [{ createScratchDatabase }, { PostgresMessageStore }] = await Promise
    .all([
      import("../../servers/postgres_scratch_database.ts"),
      import("../../servers/message_store_postgres.ts"),
    ]);
  const db = await createScratchDatabase(spec, "ft_conformance");
  try {
    return await PostgresMessageStore.connect(db.url, { onClose: db.drop });
  } catch (error) {
    await db.drop();
    throw error;
  }
}

/**
 * Starts the message store for a scenario: its fronts on port 0 with their
 * faults, messages already waiting for the agent, and the placeholders
 * (`{servers}` lists the fronts in `order`). With `ctx.frontsIn` set to
 * `processes`, each front is a process of its own over a scratch database
 * on the PostgreSQL server `ctx.store` names.
 */
export async function startMessaging(
  ctx: ScenarioContext,
  setup: MessagingSetup = {},
): Promise<Messaging> {
  const names = setup.fronts ?? ["ml1", "ml2"];
  const order = setup.order ?? names;
  const fronts = ctx.use(
    STORE,
    ctx.frontsIn === "processes"
      ? await startProcesses(ctx, names, setup)
      : await startInProcess(ctx, names, setup),
    { lane: frontOf },
  );
  for (const id of setup.waiting ?? []) {
    await fronts.inject({ to: AGENT, from: PEER, id, body: { n: id } });
  }
  const servers = order.map((name) => {
    const { hostname, port } = fronts.addr(name);
    return `${name}=${joinHostPort(hostname, port)}`;
  }).join(",");
  return { fronts, endpoints: { servers, agent: AGENT }, order };
}

/** The fronts in this process, over one store, their faults in force. */
async function startInProcess(
  ctx: ScenarioContext,
  names: string[],
  setup: MessagingSetup,
): Promise<MessageFronts> {
  const server = await startMessageStoreServer({
    name: STORE,
    seed: ctx.seed,
    store: await scenarioStore(ctx.store),
    closeStore: true,
    fronts: names.map((name) => ({
      name,
      port: 0,
      faults: setup.faults?.[name],
    })),
  });
  await server.settled();
  return inProcessFronts(server);
}

/** The fronts as processes (loaded only when a run asks for them). */
async function startProcesses(
  ctx: ScenarioContext,
  names: string[],
  setup: MessagingSetup,
): Promise<MessageFronts> {
  const { startFrontProcesses } = await import("../front_processes.ts");
  return await startFrontProcesses({
    store: ctx.store,
    seed: ctx.seed,
    fronts: names.map((name) => ({ name, faults: setup.faults?.[name] })),
    signal: ctx.signal,
  });
}

/** Options for {@linkcode startAgent}. */
export interface AgentSetup extends MessagingSetup {
  /** What the runner notes once the store is up, before the agent starts. */
  note?: string;
  /** Placeholders for the agent besides `{servers}` and `{agent}`. */
  placeholders?: Record<string, string>;
}

/**
 * Starts the message store ({@linkcode startMessaging}), notes
 * `setup.note`, and starts the agent with the placeholders.
 */
export async function startAgent(
  ctx: ScenarioContext,
  setup: AgentSetup = {},
): Promise<Messaging> {
  const messaging = await startMessaging(ctx, setup);
  if (setup.note !== undefined) ctx.note("runner", setup.note);
  await ctx.startClient({ ...messaging.endpoints, ...setup.placeholders });
  return messaging;
}

/**
 * Brings a front up or down and notes `note`; the time the change counts
 * from: before the request for down (an agent with a send on its way
 * reconnects as soon as the front closes, which may be before fronts in
 * processes answer), after it for up (the front listens once it answers).
 */
export async function turnFront(
  ctx: ScenarioContext,
  fronts: MessageFronts,
  front: { name: string; up: boolean; note: string },
): Promise<number> {
  const requested = performance.now();
  if (front.up) await fronts.up(front.name);
  else await fronts.down(front.name);
  ctx.note("runner", front.note);
  return front.up ? performance.now() : requested;
}

/**
 * Waits (bounded by `ms`) until `seen(id)` has found something for every id
 * of `ids`; whether it has.
 */
export async function untilEach(
  ctx: ScenarioContext,
  ids: readonly string[],
  seen: (id: string) => readonly unknown[],
  ms: number,
): Promise<boolean> {
  return await ctx.until(() => ids.every((id) => seen(id).length > 0), ms);
}

/** The store's events of these types (and matching `pred`), oldest first. */
export function storeEvents(
  ctx: ScenarioContext,
  type: string | string[],
  pred: (event: JournalEvent) => boolean = () => true,
): JournalEvent[] {
  const types = Array.isArray(type) ? type : [type];
  return ctx.events(STORE, (e) => types.includes(e.type) && pred(e));
}

/** Connections accepted (by any front, or by `front`): the agent's attempts. */
export function attempts(ctx: ScenarioContext, front?: string): JournalEvent[] {
  return storeEvents(
    ctx,
    "connected",
    (e) => front === undefined || e.front === front,
  );
}

/** `welcome` frames sent (by `front`, or any): the agent is connected there. */
export function welcomes(ctx: ScenarioContext, front?: string): JournalEvent[] {
  return storeEvents(
    ctx,
    "frame_out",
    (e) =>
      (e.frame as { type?: string }).type === "welcome" &&
      (front === undefined || e.front === front),
  );
}

/** The `hello` frames the fronts received. */
export function hellos(ctx: ScenarioContext): JournalEvent[] {
  return storeEvents(
    ctx,
    "frame_in",
    (e) => (e.frame as { type?: string }).type === "hello",
  );
}

/** The ACKs (`ack_sent`) of the agent's message `id`, at any front. */
export function sendAcks(ctx: ScenarioContext, id?: string): JournalEvent[] {
  return storeEvents(ctx, "ack_sent", (e) => id === undefined || e.id === id);
}

/** The agent's ACKs of messages for it (`message_acked`), by id. */
export function agentAcks(ctx: ScenarioContext, id?: string): JournalEvent[] {
  return storeEvents(
    ctx,
    "message_acked",
    (e) => e.agent === AGENT && (id === undefined || e.id === id),
  );
}

/** The agent's message `id` entering the shared store (or arriving again). */
export function storedFromAgent(
  ctx: ScenarioContext,
  id: string,
): JournalEvent[] {
  return storeEvents(
    ctx,
    ["message_stored", "message_duplicate"],
    (e) => e.from === AGENT && e.id === id,
  );
}

/** The client's events of a kind (and id). */
export function clientEventsOf(
  ctx: ScenarioContext,
  event: string,
  id?: string,
): ReturnType<ScenarioContext["clientEvents"]> {
  return ctx.clientEvents((e) =>
    e.event === event && (id === undefined || e.id === id)
  );
}

/**
 * Waits (bounded by {@linkcode soon} with factor 1) until the agent has
 * printed every id of `ids` deleted; whether it has.
 */
export async function untilDeleted(
  ctx: ScenarioContext,
  ids: readonly string[],
): Promise<boolean> {
  return await untilEach(
    ctx,
    ids,
    (id) => clientEventsOf(ctx, "deleted", id),
    soon(ctx, 1),
  );
}

/** Evidence lines for store events, each under its front (or `store`). */
export function storeEvidence(
  ctx: ScenarioContext,
  events: JournalEvent[],
  limit = 16,
): Evidence[] {
  return events.slice(0, limit).flatMap((event) =>
    ctx.evidence(frontOf(event) ?? STORE, [event])
  );
}

/** Evidence of the agent's traffic: connections, hello/welcome, messages. */
export function trafficEvidence(
  ctx: ScenarioContext,
  limit = 24,
): Evidence[] {
  const types = [
    "connected",
    "closed",
    "message_stored",
    "message_duplicate",
    "message_delivered",
    "message_acked",
    "ack_sent",
    "ack_dropped",
    "push_sent",
    "push_withheld",
    "store_unavailable",
    "store_down",
    "store_up",
  ];
  const events = ctx.events(
    STORE,
    (e) =>
      types.includes(e.type) ||
      (e.type === "frame_in" &&
        ["hello", "send"].includes((e.frame as { type?: string }).type ?? "")),
  );
  return storeEvidence(ctx, events, limit);
}

/** Sends messages from the agent to {@linkcode PEER}. */
export async function sendMessages(
  ctx: ScenarioContext,
  ids: string[],
): Promise<void> {
  for (const id of ids) {
    await ctx.send({ cmd: "send", id, to: PEER, body: { n: id } });
  }
}

/** Closes the agent's connections at a front, from the server side. */
export async function dropAgent(
  ctx: ScenarioContext,
  fronts: MessageFronts,
  front: string,
): Promise<number> {
  const open = await fronts.closeAgent(front, AGENT);
  ctx.note(
    "runner",
    `${front} closes the agent's connection (${open} open)`,
  );
  return open;
}

/**
 * How long a scenario waits for something that should come soon: a whole
 * walk of the list (the primary with its retries, then the alternates) and
 * an ACK timeout, times `factor`, plus a second. `timing` overrides the
 * scenario's (a check that starts the agent with its own `-fr`).
 */
export function soon(
  ctx: ScenarioContext,
  factor = 4,
  timing: Partial<Timing> = {},
): number {
  const t = { ...ctx.timing, ...timing };
  return (t.connectTimeoutMs * (t.failoverRetries + 3) +
        t.failoverDelayMs * (t.failoverRetries + 1) + t.ackTimeoutMs) *
      factor + 1000;
}

/**
 * Waits (bounded by `ms`, by default {@linkcode soon} plus
 * {@linkcode STARTUP_MS}) until the agent is connected at `front` (or
 * anywhere) after `since`.
 */
export async function untilWelcome(
  ctx: ScenarioContext,
  front?: string,
  since = -Infinity,
  ms = soon(ctx) + STARTUP_MS,
): Promise<JournalEvent | undefined> {
  const found = () => welcomes(ctx, front).find((e) => e.time > since);
  await ctx.until(() => found() !== undefined, ms);
  const welcome = found();
  ctx.note(
    "runner",
    welcome
      ? `the agent is connected to ${welcome.front}`
      : `the agent did not connect${
        front ? ` to ${front}` : ""
      } in time; going on`,
  );
  return welcome;
}

/**
 * The check, for `verdictOf`, that the agent connected to `front`:
 * `welcome` is what {@linkcode untilWelcome} found there.
 */
export function welcomedAt(
  welcome: JournalEvent | undefined,
  front: string,
  expected: string,
): Check {
  return {
    failed: !welcome,
    expected,
    observed: `it never connected to ${front}`,
  };
}

/** `ml1 x3 -> ml2 x1`: the fronts of these events, in runs. */
export function runsText(events: JournalEvent[]): string {
  const runs: { front: string; count: number }[] = [];
  for (const event of events) {
    const front = frontOf(event) ?? "?";
    const last = runs.at(-1);
    if (last?.front === front) last.count++;
    else runs.push({ front, count: 1 });
  }
  return runs.map((r) => `${r.front} x${r.count}`).join(" -> ") || "nowhere";
}
