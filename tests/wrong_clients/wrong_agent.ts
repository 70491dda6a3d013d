/**
 * A deliberately wrong messaging agent, for proving that the agent (QA)
 * checks can fail: the reference agent (`clients/failover_agent.ts`) with
 * exactly one behaviour broken, chosen by `--break ID`. It speaks the
 * client-under-test contract like the reference command line and takes the
 * same flags.
 *
 * The reference agent is not changed: each break is made around it, by an
 * option (`-fr`, `-fd`), by the server list it is given (reordered, an entry
 * repeated, a hidden silent server added), or by a small line-JSON proxy put
 * between the agent and one server that alters what goes over that link
 * (the runner sees only the servers' side, so to it this is the agent's
 * behaviour).
 *
 * ```sh
 * npx -y deno@2.9.6 run -A tests/wrong_clients/wrong_agent.ts --break QA-3 \
 *   --servers ml1=127.0.0.1:7050,ml2=127.0.0.1:7052 --agent alice -fr 2 -fd 500ms
 * ```
 *
 * Test-only: not part of the toolkit's API.
 *
 * @module
 */
import { createServer, type Server, type Socket } from "node:net";
import { parseArgs } from "node:util";
import {
  expandShortFlags,
  FailoverAgent,
  failoverAgentContractEvent,
  type FailoverAgentOptions,
} from "../../clients/failover_agent.ts";
import {
  type NamedAddress,
  parseDuration,
  parseNamedAddressList,
} from "../../core/units/units.ts";
import type { Frame } from "../../core/codecs/frame.ts";
import { FrameProxy, type ProxyHooks, type ProxyLink } from "./_proxy.ts";
import type { ContractEvent } from "../../clients/contract.ts";
import { runWrongClient, type WithBreak, type WrongClient } from "./_wrong.ts";

/** Each break, by name: what the wrong agent does instead. */
export const BREAKS: Readonly<Record<string, string>> = {
  "QA-1":
    "sorts its servers by name: the alphabetically first one is its primary",
  "QA-1/agent-name":
    'names itself "agent" in its hello, a default, not the {agent} it was given',
  "QA-1/no-primary":
    "leaves its primary out of its hello (as QA-6/no-primary breaks it)",
  "QA-2": "retries the primary once even with -fr 0 (the default)",
  "QA-2/never-alternate":
    "never goes to an alternate: retries its primary for ever, whatever -fr says",
  "QA-2/wait":
    "waits about the connect timeout before the first alternate (a hidden try of a silent server in between)",
  "QA-3": "ignores -fr: goes to an alternate after the primary's first failure",
  "QA-3/no-delay": "ignores -fd: retries the primary without waiting",
  "QA-3/alternates":
    "applies -fr to the alternates too: tries each of them -fr + 1 times",
  "QA-4": "tries the alternates in reverse order",
  "QA-5":
    "drops the messages an alternate delivers: takes messages from its primary only",
  "QA-6":
    "names the server it connects to as its primary in hello, so an alternate pushes to it",
  "QA-6/no-primary":
    "leaves its primary out of its hello, so no server pushes to it",
  "QA-6/push-on-welcome":
    "prints a push event each time it connects, taking the welcome for a push",
  "QA-7":
    "takes a store_unavailable answer to a send as its ACK: counts the message delivered and forgets it",
  "QA-7/forget":
    "takes a store_unavailable answer to a send as final: drops the message, reporting an error",
  "QA-8":
    "fire and forget: a message leaves the client store as soon as it is written, without waiting for the ACK",
  "QA-8/early-delete":
    'prints {"event":"deleted"} for a message as soon as it is handed one, before any ACK (it still resends it)',
  "QA-8/ack-unstored":
    "ACKs every second message delivered to it without storing it",
  "QA-8/ack-then-lose":
    "ACKs each message as it arrives and stores what came in only once the server ACKs its next upload: a connection lost before that loses messages it already ACKed",
  "QA-9":
    "reconnects to the server it was last on: once it has used an alternate, its primary's address leads there",
  "QA-9/restart":
    "starts again from its first alternate after a restart: its primary's address leads there from then on",
};

/** A server that accepts connections and never answers. */
function startSilentServer(): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.resume();
  });
  server.on("close", () => {
    for (const socket of sockets) socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve(server));
  });
}

/**
 * Starts the reference agent with one behaviour broken; `emit` gets the
 * contract events it prints. The break must be one of
 * {@linkcode BREAKS} (`runWrongClient` checks it).
 */
export async function startWrongAgent(
  options: WithBreak<FailoverAgentOptions>,
  emit: (event: ContractEvent) => void,
): Promise<WrongClient> {
  const broken = options.break;
  const servers = typeof options.servers === "string"
    ? parseNamedAddressList(options.servers)
    : [...options.servers];
  const [primary, ...alternates] = servers;
  const proxies: FrameProxy[] = [];
  const silent: Server[] = [];
  const via = async (
    server: NamedAddress,
    hooks: ProxyHooks,
    target: () => NamedAddress = () => server,
  ): Promise<NamedAddress> => {
    const proxy = await FrameProxy.start({ upstream: target, hooks });
    proxies.push(proxy);
    return { name: server.name, hostname: "127.0.0.1", port: proxy.port };
  };
  /** The primary as it is, each alternate through a proxy with its hooks. */
  const alternatesVia = async (
    hooks: (alternate: NamedAddress) => ProxyHooks,
  ) => [
    primary,
    ...await Promise.all(alternates.map((a) => via(a, hooks(a)))),
  ];
  let list = servers;
  let retries = options.failoverRetries ?? 0;
  let delayMs = options.failoverDelayMs;
  let onConnected = (_front: string) => {};
  let onRestart = () => {};
  /** QA-7/forget: the messages dropped on a store_unavailable answer. */
  const dropped = new Set<string>();
  switch (broken) {
    case "QA-1":
      list = servers.toSorted((a, b) => a.name.localeCompare(b.name));
      break;
    case "QA-1/agent-name":
      list = await Promise.all(servers.map((s) =>
        via(s, {
          toServer: (frame) =>
            frame.type === "hello" ? [{ ...frame, agent: "agent" }] : [frame],
        })
      ));
      break;
    case "QA-2":
      retries += 1;
      break;
    case "QA-2/never-alternate":
      retries = 1_000_000;
      break;
    case "QA-2/wait": {
      const server = await startSilentServer();
      silent.push(server);
      const port = (server.address() as { port: number }).port;
      list = [
        primary,
        { name: "hidden", hostname: "127.0.0.1", port },
        ...alternates,
      ];
      break;
    }
    case "QA-3":
      retries = 0;
      break;
    case "QA-3/no-delay":
      delayMs = 0;
      break;
    case "QA-3/alternates":
      list = [
        primary,
        ...alternates.flatMap((a) =>
          Array.from({ length: retries + 1 }, () => a)
        ),
      ];
      break;
    case "QA-4":
      list = [primary, ...alternates.toReversed()];
      break;
    case "QA-5":
      list = await alternatesVia(() => ({
        toClient: (frame) => frame.type === "message" ? [] : [frame],
      }));
      break;
    case "QA-6":
      list = await alternatesVia((a) => ({
        toServer: (frame) =>
          frame.type === "hello" ? [{ ...frame, primary: a.name }] : [frame],
      }));
      break;
    case "QA-1/no-primary":
    case "QA-6/no-primary":
      list = await Promise.all(servers.map((s) =>
        via(s, {
          toServer(frame) {
            if (frame.type !== "hello") return [frame];
            const { primary: _primary, ...hello } = frame;
            return [hello];
          },
        })
      ));
      break;
    case "QA-7":
    case "QA-7/forget":
      list = await Promise.all(servers.map((s) => {
        const pending = new Set<string>();
        return via(s, {
          toServer(frame) {
            if (frame.type === "send") pending.add(String(frame.id));
            return [frame];
          },
          toClient(frame) {
            if (frame.type === "ack") pending.delete(String(frame.id));
            if (
              frame.type === "error" && frame.code === "store_unavailable" &&
              pending.size > 0
            ) {
              const acks = [...pending].map((id) => ({ type: "ack", id }));
              for (const id of pending) dropped.add(id);
              pending.clear();
              return acks;
            }
            return [frame];
          },
        });
      }));
      break;
    case "QA-8":
      list = await Promise.all(servers.map((s) =>
        via(s, {
          toServer(frame, link) {
            if (frame.type === "send") {
              queueMicrotask(() =>
                link.toClient({ type: "ack", id: frame.id })
              );
            }
            return [frame];
          },
        })
      ));
      break;
    case "QA-8/ack-unstored": {
      const kept = new Map<string, boolean>();
      list = await Promise.all(servers.map((s) =>
        via(s, {
          toClient(frame, link) {
            if (frame.type !== "message") return [frame];
            const id = String(frame.id);
            if (!kept.has(id)) kept.set(id, kept.size % 2 === 0);
            if (kept.get(id)) return [frame];
            link.toServer({ type: "ack", id });
            return [];
          },
        })
      ));
      break;
    }
    case "QA-8/ack-then-lose": {
      // Per connection: what was ACKed on arrival and waits to be stored.
      const held = new WeakMap<ProxyLink, Frame[]>();
      const acked = new Set<string>();
      list = await Promise.all(servers.map((s) =>
        via(s, {
          toClient(frame, link) {
            if (frame.type === "message") {
              const id = String(frame.id);
              acked.add(id);
              link.toServer({ type: "ack", id });
              held.set(link, [...held.get(link) ?? [], frame]);
              return [];
            }
            if (frame.type === "ack") {
              // The upload went through: store what came in, then go on.
              const stored = held.get(link) ?? [];
              held.delete(link);
              return [...stored, frame];
            }
            return [frame];
          },
          toServer(frame) {
            // The agent's own ACK of a message already ACKed on arrival.
            if (frame.type === "ack" && acked.has(String(frame.id))) return [];
            return [frame];
          },
        })
      ));
      break;
    }
    case "QA-9": {
      let last: NamedAddress | undefined;
      list = [await via(primary, {}, () => last ?? primary), ...alternates];
      onConnected = (front) => {
        if (front !== primary.name) {
          last = servers.find((s) => s.name === front);
        }
      };
      break;
    }
    case "QA-9/restart": {
      // Decided when the restart command comes, not by what the agent saw
      // last: the runner may send it before the agent has read the welcome.
      let restarted = false;
      list = [
        await via(primary, {}, () => restarted ? alternates[0] : primary),
        ...alternates,
      ];
      onRestart = () => {
        restarted = true;
      };
      break;
    }
  }
  const agent = new FailoverAgent({
    ...options,
    servers: list,
    failoverRetries: retries,
    failoverDelayMs: delayMs,
  });
  const unsubscribe = agent.journal.subscribe((event) => {
    if (event.type === "connected") onConnected(String(event.front));
    if (broken === "QA-8/early-delete" && event.type === "stored") return;
    if (broken === "QA-6/push-on-welcome" && event.type === "connected") {
      emit({ event: "push" });
    }
    if (
      broken === "QA-7/forget" && event.type === "stored" &&
      dropped.has(String(event.id))
    ) {
      emit({
        event: "error",
        message: `dropped ${event.id}: the store is unavailable`,
      });
      return;
    }
    const printed = failoverAgentContractEvent(event);
    if (printed) emit(printed);
  });
  agent.connect().catch(() => {}); // A failure is an error event.
  return {
    async command(command) {
      if (command.cmd === "restart") {
        onRestart();
        await agent.restart().catch(() => {});
        return;
      }
      if (command.to === undefined) {
        throw new Error(
          `Cannot send "${command.id}": a message needs "to", the agent it is for`,
        );
      }
      agent.send(command.to, command.body, command.id);
      if (broken === "QA-8/early-delete") {
        emit({ event: "deleted", id: command.id });
      }
    },
    async close() {
      await agent.close();
      unsubscribe();
      for (const proxy of proxies) await proxy.close();
      for (const server of silent) {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

/** Runs the wrong agent by the contract until `{"cmd":"stop"}`. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args: expandShortFlags(args),
    options: {
      break: { type: "string" },
      servers: { type: "string", default: Deno.env.get("FT_SERVERS") },
      agent: { type: "string", default: Deno.env.get("FT_AGENT") },
      "failover-retries": { type: "string", default: "0" },
      "failover-delay": { type: "string", default: "1s" },
      "connect-timeout": { type: "string", default: "2s" },
      "ack-timeout": { type: "string", default: "5s" },
      "sync-interval": { type: "string", default: "1s" },
      quiet: { type: "boolean", default: false },
    },
  });
  await runWrongClient(
    "wrong agent",
    BREAKS,
    values,
    ["servers", "agent"],
    (broken, emit) =>
      startWrongAgent({
        break: broken,
        agent: values.agent!,
        servers: values.servers!,
        failoverRetries: Number(values["failover-retries"]),
        failoverDelayMs: parseDuration(values["failover-delay"]),
        connectTimeoutMs: parseDuration(values["connect-timeout"]),
        ackTimeoutMs: parseDuration(values["ack-timeout"]),
        syncIntervalMs: parseDuration(values["sync-interval"]),
      }, emit),
  );
}

if (import.meta.main) await main(Deno.args);
