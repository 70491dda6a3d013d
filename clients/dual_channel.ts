/**
 * The reference SCADA client with two channels, as a command line that
 * speaks the client-under-test contract (`docs/protocol.md`, part 2); the
 * client itself is {@linkcode DualChannelClient} (`dual_channel_client.ts`),
 * its preference rules {@linkcode preferredChannel}
 * (`preferred_channel.ts`). This file re-exports both, so imports of it keep
 * working.
 *
 * @example Run it against a watchdog-echo server
 * ```sh
 * deno run -A clients/dual_channel.ts --preferred-net-nr 1
 * ```
 *
 * @module
 */
import { CliError, flag, type FlagDef, parsePort } from "../core/cli/cli.ts";
import { parseNetworkMask } from "../core/net/ipv4.ts";
import { parseDuration } from "../core/units/units.ts";
import {
  type Channel,
  WATCHDOG_ECHO_HOSTS,
  WATCHDOG_ECHO_PORT,
} from "../servers/watchdog_echo.ts";
import { codecFlag, flagOrEnv, runContractCli } from "./_contract.ts";
import { type ContractEventMapper, contractEvents } from "./contract.ts";
import {
  type ActiveWatchdog,
  DualChannelClient,
  type DualChannelClientOptions,
} from "./dual_channel_client.ts";
import type { ChannelEndpoint } from "./preferred_channel.ts";

export * from "./dual_channel_client.ts";
export * from "./preferred_channel.ts";
export {
  type NetworkMask,
  onNetwork,
  parseNetworkMask,
} from "../core/net/ipv4.ts";

/** Which network and adapter each channel is, for `--help`. */
const ORDINALS: Record<Channel, string> = { A: "first", B: "second" };

/** `--host-a` (for A): the server's address on a channel. */
function hostFlag(channel: Channel): FlagDef {
  return {
    type: "string",
    value: "HOST",
    default: `$FT_HOST_${channel} or ${WATCHDOG_ECHO_HOSTS[channel]}`,
    description: `The server's address on channel ${channel} (the ${
      ORDINALS[channel]
    } network)`,
  };
}

/** `--port-a` (for A): the server's port on a channel. */
function portFlag(channel: Channel): FlagDef {
  return {
    type: "string",
    value: "PORT",
    default: `$FT_PORT_${channel} or ${WATCHDOG_ECHO_PORT}`,
    description: `The server's port on channel ${channel}`,
  };
}

/** `--local-a` (for A): the local address a channel binds. */
function localFlag(channel: Channel): FlagDef {
  return {
    type: "string",
    value: "ADDR",
    default: `$FT_LOCAL_${channel} or any`,
    description: `Local address to bind on channel ${channel} (the ${
      ORDINALS[channel]
    } adapter)`,
  };
}

/**
 * Maps a client journal event to the contract event the command line prints
 * on stdout (`connected` with the channel as `server`, `active`, `deleted`
 * on the first ACK of a data id, `down` when a channel failed), or
 * `undefined` for the rest.
 *
 * @example Usage
 * ```ts ignore
 * import { dualChannelContractEvent } from "./dual_channel.ts";
 * client.journal.subscribe((e) => {
 *   const printed = dualChannelContractEvent(e);
 *   if (printed) console.log(JSON.stringify(printed));
 * });
 * ```
 */
export const dualChannelContractEvent: ContractEventMapper = contractEvents({
  connected: (e) => ({ event: "connected", server: e.channel }),
  active: (e) => ({ event: "active", channel: e.channel }),
  delivered: (e) => ({ event: "deleted", id: e.id }),
  channel_failed: (e) => ({
    event: "down",
    channel: e.channel,
    reason: e.reason,
  }),
});

/**
 * Runs the command line: parses the flags, starts the client and drives it
 * by the client-under-test contract until `{"cmd":"stop"}`, the end of
 * standard input, SIGINT or SIGTERM. Its help text, flags and the options
 * they make are declared here, in the one spec it runs.
 */
export async function main(args: string[]): Promise<void> {
  await runContractCli(args, {
    script: "clients/dual_channel.ts",
    summary:
      `The reference SCADA client with two channels (DC behaviours). It speaks the client-under-test contract: commands on standard input ({"cmd":"send","id":"m1","data":{}}, {"cmd":"restart"}, {"cmd":"stop"}), events on standard output ({"event":"connected","server":"A"}, {"event":"active","channel":"A"}, {"event":"deleted","id":"m1"}, {"event":"down","channel":"A","reason":"..."}, {"event":"error","message":"..."}).`,
    flags: {
      "host-a": hostFlag("A"),
      "port-a": portFlag("A"),
      "host-b": hostFlag("B"),
      "port-b": portFlag("B"),
      "local-a": localFlag("A"),
      "local-b": localFlag("B"),
      "watchdog-period": {
        type: "string",
        value: "DURATION",
        default: "1s",
        description: "Send a watchdog this often",
      },
      "watchdog-timeout": {
        type: "string",
        value: "DURATION",
        default: "3s",
        description: "A channel fails when nothing answers within this long",
      },
      retry: {
        type: "string",
        value: "DURATION",
        default: "2s",
        description: "Connect a broken channel again this often",
      },
      "connect-timeout": {
        type: "string",
        value: "DURATION",
        default: "--watchdog-timeout",
        description: "Give up a connection attempt after this long",
      },
      "preferred-net-addr": {
        type: "string",
        value: "ADDR",
        description:
          "PreferredNetAddr: the preferred network, such as 127.0.2.0 (trailing zero octets are wildcards) or 127.0.2.0/24",
      },
      "preferred-net-nr": {
        type: "string",
        value: "N",
        description:
          "PreferredNetNr: the preferred adapter, 1 (channel A) or 2 (channel B)",
      },
      "active-watchdog": {
        type: "string",
        value: "WHEN",
        default: "idle",
        description:
          "Watchdogs on the active channel too: idle (when no data went), always, never",
      },
      client: {
        type: "string",
        value: "ID",
        default: "dual-channel",
        description:
          'Send {"type":"hello","client":ID,"channel":...} on connect',
      },
    },
    options(values): DualChannelClientOptions {
      const duration = (name: string) => flag(values, name, parseDuration);
      const endpoint = (channel: Channel): ChannelEndpoint => {
        const lower = channel.toLowerCase();
        const hostname =
          flagOrEnv(values, `host-${lower}`, `FT_HOST_${channel}`) ??
            WATCHDOG_ECHO_HOSTS[channel];
        flagOrEnv(values, `port-${lower}`, `FT_PORT_${channel}`);
        const localAddress = flagOrEnv(
          values,
          `local-${lower}`,
          `FT_LOCAL_${channel}`,
        );
        return {
          hostname,
          port: flag(values, `port-${lower}`, parsePort) ?? WATCHDOG_ECHO_PORT,
          ...(localAddress ? { localAddress } : {}),
        };
      };
      const codec = codecFlag(values);
      const activeWatchdog =
        (values["active-watchdog"] as string | undefined) ??
          "idle";
      if (!["idle", "always", "never"].includes(activeWatchdog)) {
        throw new CliError(
          `Invalid --active-watchdog "${activeWatchdog}": expected idle, always or never`,
        );
      }
      return {
        channels: { A: endpoint("A"), B: endpoint("B") },
        watchdogPeriodMs: duration("watchdog-period"),
        watchdogTimeoutMs: duration("watchdog-timeout"),
        retryMs: duration("retry"),
        connectTimeoutMs: duration("connect-timeout"),
        // An empty value is unset: the conformance runner fills an unset
        // preference as an empty placeholder (`--preferred-net-nr=`).
        preferredNetAddr: flag(values, "preferred-net-addr", (text) => {
          if (text === "") return undefined;
          parseNetworkMask(text);
          return text;
        }),
        preferredNetNr: flag(values, "preferred-net-nr", (text) => {
          if (text === "") return undefined;
          if (text !== "1" && text !== "2") {
            throw new RangeError("expected 1 (channel A) or 2 (channel B)");
          }
          return Number(text);
        }),
        activeWatchdog: activeWatchdog as ActiveWatchdog,
        client: values.client as string | undefined,
        codec,
      };
    },
    create: (options) => new DualChannelClient(options),
    contractEvent: dualChannelContractEvent,
    start: (client) => client.start(),
    commands: (client) => ({
      send: (command) => {
        // Not awaited: the next command must not wait for this ACK.
        void client.send(command.id, command.data);
      },
      restart: () => client.restart(),
    }),
  });
}

if (import.meta.main) await main(Deno.args);
