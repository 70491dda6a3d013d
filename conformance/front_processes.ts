/**
 * Message-store fronts in processes of their own, as a user deploys them on
 * several hosts: one `servers/message_store.ts` process per front
 * (`--store URL --fronts ml1=127.0.0.1:0 --admin-port 0`), all over one
 * PostgreSQL database made for the scenario and dropped after it. The
 * scenario drives them through their admin APIs (faults, `down`/`up`,
 * `POST /messages`, `POST /store/down|up`, closing connections) and watches
 * them through their `/events` streams, merged into one journal on this
 * process's clock (`merged_journal.ts`).
 *
 * A front learns of messages stored through another process by PostgreSQL
 * `LISTEN/NOTIFY`, as it does in a real deployment; the runner's admin
 * `store/down` reaches every process.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { EventTap } from "../core/admin/event_tap.ts";
import {
  type ServerProcess,
  startServerProcess,
} from "../core/cli/server_process.ts";
import type { Faults } from "../core/faults/mod.ts";
import { type HostPort, parseHostPort } from "../core/net/host_port.ts";
import type { MessageFronts } from "./message_fronts.ts";
import { MergedJournal } from "./merged_journal.ts";

/** How long a front process may take to start (it may compile on a busy machine). */
const FRONT_PROCESS_START_MS = 60_000;
/** How long one admin request to a front process may take. */
const ADMIN_REQUEST_MS = 30_000;

/** Options for {@linkcode startFrontProcesses}. */
export interface FrontProcessesOptions {
  /**
   * A PostgreSQL server's URL (`postgres://USER@HOST:PORT/DB`, a user with
   * CREATEDB): the fronts share a scratch database made on it.
   */
  store: string;
  /** The fronts, one process each, started in this order; each with its faults. */
  fronts: { name: string; faults?: Faults }[];
  /** Every process's `--seed`. */
  seed: number;
  /**
   * The message-store CLI each front's process runs (default this
   * repository's `servers/message_store.ts`); a test's stand-in.
   */
  script?: URL;
  /**
   * The scenario's signal. Aborted while the fronts start, it ends the
   * wait: the processes started and starting are stopped, the database is
   * dropped, and the start rejects. Aborted later, it stops the processes
   * as `close()` does.
   */
  signal?: AbortSignal;
}

/** One front's process. */
interface FrontProcess {
  name: string;
  process: ServerProcess;
  admin: string;
  addr: HostPort;
}

const SCRIPT = new URL("../servers/message_store.ts", import.meta.url);
/** The repository's folder: its deno.json maps the imports. */
const ROOT = new URL("..", import.meta.url);

/** Sends an admin request; the parsed answer, or an error saying what failed. */
async function request(
  admin: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(new URL(path, admin), {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ADMIN_REQUEST_MS),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(
      `${method} ${path} at ${admin} answered ${response.status}: ${
        text.slice(0, 300)
      }`,
    );
  }
  return text ? JSON.parse(text) : undefined;
}

/** Starts one front's process and reads where it listens. */
async function startFront(
  name: string,
  url: string,
  options: FrontProcessesOptions,
): Promise<FrontProcess> {
  const script = options.script ?? SCRIPT;
  const process = await startServerProcess(
    script.protocol === "file:" ? fileURLToPath(script) : script.href,
    [
      "--store",
      url,
      "--fronts",
      `${name}=127.0.0.1:0`,
      "--admin-port",
      "0",
      "--seed",
      String(options.seed),
    ],
    {
      timeoutMs: FRONT_PROCESS_START_MS,
      signal: options.signal,
      cwd: ROOT.protocol === "file:" ? fileURLToPath(ROOT) : undefined,
    },
  );
  // `tcp=ml1@127.0.0.1:40001`
  const tcp = process.fields.tcp?.split(",")
    .find((entry) => entry.startsWith(`${name}@`));
  const admin = process.fields.admin;
  if (!tcp || !admin) {
    await process.stop();
    throw new Error(
      `Cannot start front ${name}: servers/message_store.ts announced "${process.line}", without its address and admin URL`,
    );
  }
  return {
    name,
    process,
    admin,
    addr: parseHostPort(tcp.slice(name.length + 1)),
  };
}

/**
 * Makes a scratch database on `options.store`, starts one message-store
 * process per front over it, sets each front's faults, and taps every
 * process's events. Everything started is stopped again if a step fails or
 * `options.signal` is aborted (the start then rejects, saying why);
 * `close()` stops the processes and drops the database.
 */
export async function startFrontProcesses(
  options: FrontProcessesOptions,
): Promise<MessageFronts> {
  const { signal } = options;
  /** Why the start gave up, once `signal` is aborted. */
  const aborted = () => {
    const reason = signal?.reason;
    return new Error(
      `Cannot start the front processes ${
        options.fronts.map((front) => front.name).join(", ")
      }: ${reason instanceof Error ? reason.message : String(reason)}`,
      { cause: reason },
    );
  };
  if (signal?.aborted) throw aborted();
  const { createScratchDatabase } = await import(
    "../servers/postgres_scratch_database.ts"
  );
  const db = await createScratchDatabase(options.store, "ft_conformance");
  const journal = new MergedJournal();
  const started: FrontProcess[] = [];
  const taps: EventTap[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      signal?.removeEventListener("abort", onAbort);
      // The processes first: their event streams end with them.
      await Promise.all(started.map((front) => front.process.stop()));
      await Promise.all(taps.map((tap) => tap.close()));
      await db.drop();
    })();
  // Not awaited: whoever awaits `close()` gets its error.
  const onAbort = () => void close().catch(() => {});
  try {
    // Each start gets the signal: an abort kills the processes starting.
    const results = await Promise.allSettled(
      options.fronts.map((front) => startFront(front.name, db.url, options)),
    );
    for (const result of results) {
      if (result.status === "fulfilled") started.push(result.value);
    }
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    signal?.throwIfAborted();
    // From here an abort stops the processes, and what waits on them fails.
    signal?.addEventListener("abort", onAbort, { once: true });
    for (const front of started) {
      const source = journal.source();
      taps.push(new EventTap(front.admin, { onEvent: source.add }));
    }
    await Promise.all(taps.map((tap) => tap.ready));
    for (const { name, faults } of options.fronts) {
      if (faults) {
        await request(of(name).admin, "PUT", `/fronts/${name}/faults`, faults);
      }
    }
  } catch (error) {
    await close();
    throw signal?.aborted ? aborted() : error;
  }

  function of(name: string): FrontProcess {
    const front = started.find((f) => f.name === name);
    if (!front) {
      throw new RangeError(
        `Cannot find front "${name}": the fronts are ${
          started.map((f) => f.name).join(", ")
        }`,
      );
    }
    return front;
  }
  const everywhere = async (path: string) => {
    await Promise.all(
      started.map((front) => request(front.admin, "POST", path)),
    );
  };

  return {
    journal,
    addr: (name) => of(name).addr,
    async inject(message) {
      // Through the first front's process; the others hear of it by NOTIFY.
      await request(started[0].admin, "POST", "/messages", message);
    },
    async down(name) {
      await request(of(name).admin, "POST", `/fronts/${name}/down`);
    },
    async up(name) {
      await request(of(name).admin, "POST", `/fronts/${name}/up`);
    },
    storeDown: () => everywhere("/store/down"),
    storeUp: () => everywhere("/store/up"),
    async closeAgent(name, agent) {
      const { admin } = of(name);
      const { connections } = await request(
        admin,
        "GET",
        `/fronts/${name}/connections`,
      ) as { connections: { id: number; tags?: Record<string, string> }[] };
      const open = connections.filter((c) => c.tags?.agent === agent);
      for (const connection of open) {
        await request(
          admin,
          "POST",
          `/fronts/${name}/connections/${connection.id}/close?how=fin`,
        );
      }
      return open.length;
    },
    close,
  };
}
