/**
 * The reference clients as in-process clients under test, one per suite.
 *
 * @module
 */
import {
  DualChannelClient,
  dualChannelContractEvent,
} from "../clients/dual_channel.ts";
import {
  FailoverAgent,
  failoverAgentContractEvent,
} from "../clients/failover_agent.ts";
import {
  type ItemKind,
  TwoServersClient,
  twoServersContractEvent,
} from "../clients/two_servers.ts";
import type { ContractEventMapper, SendCommand } from "../clients/contract.ts";
import type { Journal } from "../core/journal/journal.ts";
import type { SuiteName } from "./catalogue.ts";
import {
  type ClientUnderTest,
  type Endpoints,
  inProcessClient,
} from "./client.ts";

/** What {@linkcode referenceClient} needs to drive one reference client. */
interface ReferenceDriver<C> {
  /** The contract event a journal event becomes, if any. */
  contractEvent: ContractEventMapper;
  /** Starts it, once its events are emitted. */
  start(client: C): Promise<unknown> | void;
  /** Handles a `send` command (not awaited by the command). */
  send(client: C, command: SendCommand): void;
  /** Handles a `restart` command. */
  restart(client: C): Promise<unknown>;
}

/**
 * A reference client in this process: made by `create` from the
 * placeholders, its journal emitted as contract events, started, and driven
 * by `send` and `restart` commands until closed.
 */
function referenceClient<
  C extends { journal: Journal; close(): Promise<void> },
>(
  name: string,
  create: (endpoints: Endpoints, signal: AbortSignal) => C,
  driver: ReferenceDriver<C>,
): ClientUnderTest {
  return inProcessClient(name, async (endpoints, emit, signal) => {
    const client = create(endpoints, signal);
    const unsubscribe = client.journal.subscribe((event) => {
      const printed = driver.contractEvent(event);
      if (printed) emit(printed);
    });
    await driver.start(client);
    return {
      async command(command) {
        if (command.cmd === "send") driver.send(client, command);
        else if (command.cmd === "restart") await driver.restart(client);
      },
      async close() {
        await client.close();
        unsubscribe();
      },
    };
  });
}

/**
 * The reference tracker (`clients/two_servers.ts`) in this process: mirror
 * mode ("Two servers" ticked) for the two-servers suite, failover mode for
 * the failover suite. Its timing comes from the scenario's timing, its codec
 * from `{codec}`, and it logs in (`hello`) as the scenario's `{imei}`.
 */
export function referenceTracker(mirror: boolean): ClientUnderTest {
  return referenceClient(
    `reference TwoServersClient (${mirror ? "mirror" : "failover"} mode)`,
    (endpoints, signal) =>
      new TwoServersClient({
        ip1: endpoints.ip1,
        port1: Number(endpoints.port1),
        ip2: endpoints.ip2,
        port2: Number(endpoints.port2),
        twoServers: mirror,
        ackTimeoutMs: Number(endpoints.ackTimeoutMs),
        resends: Number(endpoints.resends),
        reconnectDelayMs: Number(endpoints.reconnectDelayMs),
        connectTimeoutMs: Number(endpoints.connectTimeoutMs),
        codec: endpoints.codec,
        device: endpoints.imei,
        signal,
      }),
    {
      contractEvent: twoServersContractEvent,
      start: (client) => client.start(),
      send(client, command) {
        client.send({
          id: command.id,
          kind: (command.kind ?? "record") as ItemKind,
          data: command.data,
        });
      },
      restart: (client) => client.restart(),
    },
  );
}

/**
 * The reference messaging agent (`clients/failover_agent.ts`) in this
 * process, for the agent suite, as its command line runs it: it connects at
 * start and syncs every second. Its `-fr`, `-fd`, connect and ACK timeouts
 * come from the scenario's timing.
 */
export function referenceAgent(): ClientUnderTest {
  return referenceClient(
    "reference FailoverAgent",
    (endpoints, signal) =>
      new FailoverAgent({
        agent: endpoints.agent,
        servers: endpoints.servers,
        failoverRetries: Number(endpoints.failoverRetries),
        failoverDelayMs: Number(endpoints.failoverDelayMs),
        connectTimeoutMs: Number(endpoints.connectTimeoutMs),
        ackTimeoutMs: Number(endpoints.ackTimeoutMs),
        syncIntervalMs: 1000,
        signal,
      }),
    {
      contractEvent: failoverAgentContractEvent,
      start(agent) {
        agent.connect().catch(() => {}); // A failure is an error event.
      },
      send(agent, command) {
        if (command.to === undefined) {
          throw new Error(
            `Cannot send "${command.id}": a message needs "to", the agent it is for`,
          );
        }
        agent.send(command.to, command.body, command.id);
      },
      restart: (agent) => agent.restart().catch(() => {}),
    },
  );
}

/** A placeholder's value, or undefined when it is empty (unset). */
function optional(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

/**
 * The reference SCADA client (`clients/dual_channel.ts`) in this process,
 * for the dual-channel suite: both channels from the placeholders (binding
 * `{localA}` and `{localB}`), the preference from `{preferredNetAddr}` and
 * `{preferredNetNr}` (empty: unset), and the watchdog period, watchdog
 * timeout, retry period and connect timeout from the scenario's timing.
 */
export function referenceScada(): ClientUnderTest {
  return referenceClient(
    "reference DualChannelClient",
    (endpoints, signal) => {
      const netNr = optional(endpoints.preferredNetNr);
      return new DualChannelClient({
        channels: {
          A: {
            hostname: endpoints.hostA,
            port: Number(endpoints.portA),
            localAddress: optional(endpoints.localA),
          },
          B: {
            hostname: endpoints.hostB,
            port: Number(endpoints.portB),
            localAddress: optional(endpoints.localB),
          },
        },
        watchdogPeriodMs: Number(endpoints.watchdogPeriodMs),
        watchdogTimeoutMs: Number(endpoints.watchdogTimeoutMs),
        retryMs: Number(endpoints.retryMs),
        connectTimeoutMs: Number(endpoints.connectTimeoutMs),
        preferredNetAddr: optional(endpoints.preferredNetAddr),
        preferredNetNr: netNr === undefined ? undefined : Number(netNr),
        signal,
      });
    },
    {
      contractEvent: dualChannelContractEvent,
      start: (client) => client.start(),
      send(client, command) {
        // Not awaited: the next command must not wait for this ACK.
        void client.send(command.id, command.data);
      },
      restart: (client) => client.restart(),
    },
  );
}

/** The reference client of each suite, run in this process. */
export function referenceClients(): Partial<
  Record<SuiteName, ClientUnderTest>
> {
  return {
    "two-servers": referenceTracker(true),
    failover: referenceTracker(false),
    "dual-channel": referenceScada(),
    agent: referenceAgent(),
  };
}
