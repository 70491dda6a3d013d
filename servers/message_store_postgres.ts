/**
 * The shared message store on PostgreSQL: front servers in several processes
 * (on several hosts) pointed at one database share it. The driver is
 * Postgres.js (`postgres` on npm); the schema comes from the versioned
 * migrations in `migrations/`, applied on first start.
 *
 * - New messages are announced with `NOTIFY` on one channel, in the same
 *   statement that stores them; every store instance `LISTEN`s and tells its
 *   server, which pushes to the agent if it is connected to its primary there.
 * - The agent's newest `hello` (on any front of any process) makes its
 *   connection the agent's holder (one upserted row per agent, so two hellos
 *   at once serialize on that row's lock); `sync` on any other connection
 *   delivers nothing, so two fronts never deliver the same message to an
 *   agent at once.
 * - An ACK marks the message acknowledged with one `UPDATE ... WHERE acked_at
 *   IS NULL`: of two ACKs at once, through two fronts, the row lock lets one
 *   win and the other finds nothing (`ack_unknown`).
 * - A query that fails for want of the database marks the store unavailable
 *   (every front then answers `store_unavailable`); a probe (`SELECT 1`)
 *   every `retryMs` brings it back on its own, listening again first.
 *
 * @example Open one
 * ```ts ignore
 * import { PostgresMessageStore } from "./message_store_postgres.ts";
 * await using store = await PostgresMessageStore.connect("postgres://ft@127.0.0.1:5432/ft");
 * await store.put({ id: "m1", to: "bob", from: "alice", storedAt: Date.now() });
 * ```
 *
 * @module
 */
import postgres from "postgres";
import { migrate } from "./_message_store_migrations.ts";
import type {
  DeliverableOptions,
  MessageStore,
  MessageStoreWatcher,
  StoredMessage,
} from "./message_store_interface.ts";

/** The `NOTIFY` channel of new messages; the payload is `{"to":..,"origin":..}`. */
export const MESSAGE_STORED_CHANNEL = "ft_message_stored";

/** Options for {@linkcode PostgresMessageStore.connect}. */
export interface PostgresMessageStoreOptions {
  /** How long to wait for the database at start and per reconnect, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Connections in the pool (default 8), plus one that listens. */
  maxConnections?: number;
  /** How often to check on the database while it is up, ms (default 1000). */
  heartbeatMs?: number;
  /** How often to try it again while it is down, ms (default 250). */
  retryMs?: number;
  /** Called once the store has closed (to drop a scratch database, say). */
  onClose?: () => Promise<void>;
}

type Sql = postgres.Sql;

/** The most rows one grouped statement writes. */
const MAX_BATCH = 500;

function keyOf(agent: string, id: string): string {
  return JSON.stringify([agent, id]);
}

/**
 * Group commit: items that come while a statement is being written go
 * together in the next one. `write` resolves with the keys of the items it
 * changed; each item resolves true if its key is among them (the first of
 * two items with one key in a batch takes it).
 *
 * The queue has no bound of its own: its caller, the message-store server,
 * keeps at most `MAX_WRITES_IN_FLIGHT` (256) writes on their way per
 * connection, so it holds at most that many per open connection (bounded in
 * turn by the fronts' `maxConnections`, when set).
 */
class GroupWriter<T> {
  #queued: {
    item: T;
    resolve(done: boolean): void;
    reject(e: unknown): void;
  }[] = [];
  #writing = false;
  #key: (item: T) => string;
  #write: (batch: T[]) => Promise<Set<string>>;

  constructor(
    key: (item: T) => string,
    write: (batch: T[]) => Promise<Set<string>>,
  ) {
    this.#key = key;
    this.#write = write;
  }

  add(item: T): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ item, resolve, reject });
      if (!this.#writing) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#queued.length > 0) {
      const batch = this.#queued.splice(0, MAX_BATCH);
      try {
        const done = await this.#write(batch.map((queued) => queued.item));
        for (const queued of batch) {
          queued.resolve(done.delete(this.#key(queued.item)));
        }
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
    this.#writing = false;
  }
}
type Row = Record<string, unknown>;

/**
 * Where a database URL points, for messages: the URL with its password
 * replaced by `***`. Not a URL: said so, without echoing what could be a
 * password.
 */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return "(not a URL)";
  }
}

/** The host, port, database and user a `postgres://` URL names. */
function targetOf(url: URL): string {
  const port = url.port || "5432";
  const database = decodeURIComponent(url.pathname.slice(1)) ||
    "(the user's)";
  const user = decodeURIComponent(url.username) || "(the OS user)";
  return `${
    url.hostname || "localhost"
  }:${port}, database ${database}, user ${user}`;
}

/** SQLSTATE classes that are the request's fault, not the database's absence. */
const REQUEST_ERRORS = new Set(["22", "23"]);

function isOutage(error: unknown): boolean {
  if (error instanceof postgres.PostgresError) {
    return !REQUEST_ERRORS.has(error.code.slice(0, 2));
  }
  return true;
}

function messageOf(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return e?.message ?? String(error);
}

function toMessage(row: Row): StoredMessage {
  return {
    id: row.id as string,
    to: row.recipient as string,
    from: row.sender as string,
    ...(row.body !== null ? { body: JSON.parse(row.body as string) } : {}),
    storedAt: Number(row.stored_at),
  };
}

/**
 * A {@linkcode MessageStore} on PostgreSQL, shared by every process pointed
 * at the same database. Open it with {@linkcode PostgresMessageStore.connect}.
 */
export class PostgresMessageStore implements MessageStore, AsyncDisposable {
  /** The database URL, password hidden. */
  readonly url: string;
  /** Writes are grouped and answered in order: the server pipelines them. */
  readonly pipelined = true;
  #sql: Sql;
  #options: Required<Omit<PostgresMessageStoreOptions, "onClose">>;
  #onClose?: () => Promise<void>;
  #origin = crypto.randomUUID();
  #available = true;
  #watchers = new Set<MessageStoreWatcher>();
  #listening?: { unlisten(): Promise<void> };
  #timer?: ReturnType<typeof setTimeout>;
  #puts = new GroupWriter<StoredMessage>(
    (m) => keyOf(m.to, m.id),
    (batch) => this.#insert(batch),
  );
  #acks = new GroupWriter<{ agent: string; id: string }>(
    (a) => keyOf(a.agent, a.id),
    (batch) => this.#acknowledge(batch),
  );
  #probing = false;
  #closed = false;

  private constructor(
    sql: Sql,
    url: string,
    options: Required<Omit<PostgresMessageStoreOptions, "onClose">>,
    onClose?: () => Promise<void>,
  ) {
    this.#sql = sql;
    this.url = url;
    this.#options = options;
    this.#onClose = onClose;
  }

  /**
   * Connects to the database, applies the migrations it lacks and starts
   * listening for new messages. Throws, naming the URL (password hidden)
   * and what was tried, when the URL is wrong or the database cannot be
   * reached.
   */
  static async connect(
    url: string,
    options: PostgresMessageStoreOptions = {},
  ): Promise<PostgresMessageStore> {
    const shown = redactDatabaseUrl(url);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(
        `Cannot use the message store ${shown}: expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
      );
    }
    if (!["postgres:", "postgresql:"].includes(parsed.protocol)) {
      throw new TypeError(
        `Cannot use the message store ${shown}: expected a postgres:// or postgresql:// URL, got ${parsed.protocol}`,
      );
    }
    const resolved: Required<Omit<PostgresMessageStoreOptions, "onClose">> = {
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      maxConnections: options.maxConnections ?? 8,
      heartbeatMs: options.heartbeatMs ?? 1000,
      retryMs: options.retryMs ?? 250,
    };
    const sql = postgres(url, {
      max: resolved.maxConnections,
      connect_timeout: Math.max(1, Math.ceil(resolved.connectTimeoutMs / 1000)),
      onnotice: () => {},
      // Reconnect at most retryMs after a failure (the driver's own backoff
      // grows to 20 s over an outage, which would delay the recovery).
      backoff: () => resolved.retryMs / 1000,
      connection: { application_name: "failover-toolkit" },
      // No array-type lookup on connect: Postgres.js runs it unawaited on each
      // new connection, so a connection cut during it (an outage, a
      // pg_terminate_backend) rejected a promise nothing handles and took
      // the process down. Without the lookup the driver cannot send arrays,
      // so batches go as one JSON parameter.
      fetch_types: false,
    });
    const store = new PostgresMessageStore(
      sql,
      shown,
      resolved,
      options.onClose,
    );
    try {
      await migrate(sql);
      await store.#listen();
    } catch (error) {
      await sql.end({ timeout: 0 });
      throw new Error(
        `Cannot open the message store ${shown}: tried ${
          targetOf(parsed)
        } (connect timeout ${resolved.connectTimeoutMs} ms): ${
          messageOf(error)
        }`,
        { cause: error },
      );
    }
    store.#schedule();
    return store;
  }

  /** False from a query that failed for want of the database until a probe succeeds. */
  get available(): boolean {
    return this.#available;
  }

  /**
   * Stores a message. Puts that come while another is being written go
   * together in the next statement (a group commit: one INSERT of many rows
   * and one NOTIFY per recipient), which is what lets several fronts store
   * thousands of messages a second.
   */
  put(message: StoredMessage): Promise<boolean> {
    return this.#puts.add(message);
  }

  /** Inserts messages in one statement; resolves with the keys stored. */
  async #insert(messages: StoredMessage[]): Promise<Set<string>> {
    // The batch goes as one JSON parameter (not arrays: see fetch_types).
    // Well-formed text, as the driver sent it before: jsonb refuses a lone
    // surrogate, which would fail every message of the batch.
    const batch = messages.map((m) => ({
      to: m.to.toWellFormed(),
      id: m.id.toWellFormed(),
      from: m.from.toWellFormed(),
      body: m.body === undefined ? null : JSON.stringify(m.body),
      storedAt: m.storedAt,
    }));
    // One statement: the NOTIFYs go out when (and only if) the rows commit.
    const rows = await this.#run((sql) =>
      sql`WITH stored AS (
        INSERT INTO ft_messages (recipient, id, sender, body, stored_at)
        SELECT e.m->>'to', e.m->>'id', e.m->>'from', e.m->>'body',
          (e.m->>'storedAt')::bigint
        FROM jsonb_array_elements(${sql.json(batch)}) WITH ORDINALITY AS e(m, n)
        ORDER BY e.n
        ON CONFLICT (recipient, id) DO NOTHING
        RETURNING recipient, id
      ),
      notified AS (
        SELECT pg_notify(${MESSAGE_STORED_CHANNEL},
          json_build_object('to', recipient, 'origin', ${this.#origin}::text)::text)
        FROM (SELECT DISTINCT recipient FROM stored) AS recipients
      )
      SELECT recipient, id, (SELECT count(*) FROM notified) AS notices
      FROM stored`
    );
    return new Set(rows.map((row) => keyOf(row.recipient, row.id)));
  }

  /** Marks messages acknowledged in one statement; resolves with the keys marked. */
  async #acknowledge(
    acks: { agent: string; id: string }[],
  ): Promise<Set<string>> {
    // The row lock makes two ACKs of one message (two fronts at once) take
    // turns; the second finds acked_at set and changes nothing.
    const rows = await this.#run((sql) =>
      sql`UPDATE ft_messages AS m SET acked_at = ${Date.now()}
        FROM jsonb_to_recordset(${
        sql.json(acks.map((a) => ({
          agent: a.agent.toWellFormed(),
          id: a.id.toWellFormed(),
        })))
      })
          AS t(agent text, id text)
        WHERE m.recipient = t.agent AND m.id = t.id AND m.acked_at IS NULL
        RETURNING m.recipient, m.id`
    );
    return new Set(rows.map((row) => keyOf(row.recipient, row.id)));
  }

  async pending(agent: string): Promise<StoredMessage[]> {
    const rows = await this.#run((sql) =>
      sql`SELECT id, recipient, sender, body, stored_at FROM ft_messages
        WHERE recipient = ${agent} AND acked_at IS NULL ORDER BY seq`
    );
    return rows.map(toMessage);
  }

  async deliverable(
    agent: string,
    holder: string,
    options: DeliverableOptions,
  ): Promise<StoredMessage[]> {
    const now = Date.now();
    const rows = await this.#run((sql) =>
      options.attach
        // The upsert locks the agent's row: hellos at once take turns, the last wins.
        ? sql`WITH attached AS (
            INSERT INTO ft_agents (agent, holder, since)
            VALUES (${agent}, ${holder}, ${now})
            ON CONFLICT (agent) DO UPDATE
              SET holder = EXCLUDED.holder, since = EXCLUDED.since
            RETURNING holder
          )
          SELECT id, recipient, sender, body, stored_at FROM ft_messages
          WHERE recipient = ${agent} AND acked_at IS NULL
            AND EXISTS (SELECT 1 FROM attached)
          ORDER BY seq`
        : sql`SELECT id, recipient, sender, body, stored_at FROM ft_messages
          WHERE recipient = ${agent} AND acked_at IS NULL
            AND EXISTS (
              SELECT 1 FROM ft_agents WHERE agent = ${agent} AND holder = ${holder}
            )
          ORDER BY seq`
    );
    return rows.map(toMessage);
  }

  ack(agent: string, id: string): Promise<boolean> {
    return this.#acks.add({ agent, id });
  }

  async list(): Promise<StoredMessage[]> {
    const rows = await this.#run((sql) =>
      sql`SELECT id, recipient, sender, body, stored_at FROM ft_messages
        WHERE acked_at IS NULL ORDER BY seq`
    );
    return rows.map(toMessage);
  }

  watch(watcher: MessageStoreWatcher): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /** Stops probing and closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#sql.end({ timeout: 1 });
    await this.#onClose?.();
  }

  /** Closes the store (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #run<T>(query: (sql: Sql) => Promise<T>): Promise<T> {
    try {
      return await query(this.#sql);
    } catch (error) {
      if (isOutage(error)) this.#lost(messageOf(error));
      throw error;
    }
  }

  async #listen(): Promise<void> {
    const previous = this.#listening;
    this.#listening = undefined;
    await previous?.unlisten().catch(() => {});
    let first = true;
    this.#listening = await this.#sql.listen(
      MESSAGE_STORED_CHANNEL,
      (payload) => this.#heard(payload),
      () => {
        // Called again each time the driver listens anew after a cut.
        if (first) first = false;
        else for (const watcher of this.#watchers) watcher.missed?.();
      },
    );
  }

  #heard(payload: string): void {
    let notice: { to?: unknown; origin?: unknown };
    try {
      notice = JSON.parse(payload);
    } catch {
      return;
    }
    if (notice.origin === this.#origin || typeof notice.to !== "string") {
      return;
    }
    for (const watcher of this.#watchers) watcher.stored?.(notice.to);
  }

  #lost(reason: string): void {
    if (!this.#available || this.#closed) return;
    this.#available = false;
    for (const watcher of this.#watchers) {
      watcher.availability?.(false, reason);
    }
    this.#schedule();
  }

  /** The next probe: soon while down, at the heartbeat while up. */
  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => void this.#probe(),
      this.#available ? this.#options.heartbeatMs : this.#options.retryMs,
    );
  }

  async #probe(): Promise<void> {
    if (this.#probing || this.#closed) return;
    this.#probing = true;
    try {
      await this.#sql`SELECT 1`;
      if (!this.#available) {
        // Listen again before saying so: what was stored meanwhile is
        // found by the server's pass over waiting agents.
        await this.#listen();
        this.#available = true;
        for (const watcher of this.#watchers) {
          watcher.availability?.(true, "the database answers again");
        }
      }
    } catch (error) {
      if (!this.#closed) this.#lost(messageOf(error));
    } finally {
      this.#probing = false;
      this.#schedule();
    }
  }
}
