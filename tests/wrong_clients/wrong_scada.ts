/**
 * A deliberately wrong SCADA client, for proving that the dual-channel
 * checks can fail: the reference client (`clients/dual_channel.ts`) with
 * exactly one behaviour broken, chosen by `--break ID`. It speaks the
 * client-under-test contract like the reference command line and takes the
 * same flags.
 *
 * The reference client is not changed: each break is made around it, by an
 * option, by what this wrapper prints, or by a small line-JSON proxy per
 * channel between the client and the server that alters what goes over
 * that channel (the runner only sees the server's side, so to it this is
 * the client's behaviour). A proxy listens on the channel's server host and
 * connects to the server from the channel's local address, so the server
 * sees the same peers as without it.
 *
 * ```sh
 * npx -y deno@2.9.6 run -A tests/wrong_clients/wrong_scada.ts --break DC-4 \
 *   --host-a 127.0.1.1 --port-a 7040 --host-b 127.0.2.1 --port-b 7040
 * ```
 *
 * Test-only: not part of the toolkit's API.
 *
 * @module
 */
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import {
  type Channel,
  type ChannelEndpoint,
  DualChannelClient,
  type DualChannelClientOptions,
  dualChannelContractEvent,
  onNetwork,
  parseNetworkMask,
} from "../../clients/dual_channel.ts";
import type { JournalEvent } from "../../core/journal/journal.ts";
import { parseDuration } from "../../core/units/units.ts";
import { FrameProxy, type ProxyHooks } from "./_proxy.ts";
import type { ContractEvent } from "../../clients/contract.ts";
import {
  NEVER_MS,
  runWrongClient,
  type WithBreak,
  type WrongClient,
} from "./_wrong.ts";

/** Each break, by name: what the wrong client does instead. */
export const BREAKS: Readonly<Record<string, string>> = {
  "DC-1": "connects channel A only: channel B dials a closed port",
  "DC-2":
    "makes channel A the active one whenever it works (a preference nobody set)",
  "DC-2/active-on-connect":
    'prints {"event":"active"} for each channel as it connects, the alternate too',
  "DC-3": "sends every data frame over both channels",
  "DC-4":
    "sends no watchdogs: each one is answered inside the client instead of going out",
  "DC-4/recycle":
    "closes the alternate channel after every fifth watchdog and connects it again",
  "DC-5":
    "takes data as delivered once it is sent (fire and forget): what is in flight on a failed channel is lost",
  "DC-5/duplicate":
    "tells the application the in-flight data of a failed channel was delivered, then again when it is",
  "DC-5/unreported":
    "never reports as delivered what it sent again after a channel failed",
  "DC-6": "never connects a broken channel again",
  "DC-6/give-up":
    "gives a channel up after it failed three times: never connects it again",
  "DC-6/switch-back":
    "moves traffic back to channel A when it comes back (a preference nobody set)",
  "DC-7": "ignores the preferred channel",
  "DC-8": "ignores PreferredNetAddr: only PreferredNetNr counts",
  "DC-8/number": "ignores PreferredNetNr: only PreferredNetAddr counts",
  "DC-9": "PreferredNetNr wins over PreferredNetAddr when both are set",
  "DC-9/both":
    "when PreferredNetAddr matches both channels, prefers the first (A) instead of asking PreferredNetNr",
  "DC-10/fire-and-forget":
    "takes data as delivered once it is sent (as DC-5 breaks it): what was in flight on a silent channel is lost",
  "DC-10/late":
    "fails a silent channel only after four times its watchdog timeout",
  "DC-10":
    "never fails a channel that stays open: waits for echoes and ACKs forever",
};

/** A port on `hostname` that refuses connections (bound, then closed). */
async function closedPort(hostname: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: hostname, port: 0 }, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a channel is on the network of `text` (its local or server address). */
function onPreferredNetwork(text: string, endpoint: ChannelEndpoint): boolean {
  const mask = parseNetworkMask(text);
  return onNetwork(mask, endpoint.hostname) ||
    (endpoint.localAddress !== undefined &&
      onNetwork(mask, endpoint.localAddress));
}

/**
 * Starts the reference SCADA client with one behaviour broken; `emit` gets
 * the contract events it prints. The break must be one of
 * {@linkcode BREAKS} (`runWrongClient` checks it).
 */
export async function startWrongScada(
  options: WithBreak<DualChannelClientOptions>,
  emit: (event: ContractEvent) => void,
): Promise<WrongClient> {
  const broken = options.break;
  const channels = { ...options.channels };
  const proxies: Partial<Record<Channel, FrameProxy>> = {};
  const proxyBoth = async (
    hooks: (channel: Channel) => ProxyHooks,
  ): Promise<void> => {
    for (const channel of ["A", "B"] as const) {
      const upstream = options.channels[channel];
      const proxy = await FrameProxy.start({
        upstream,
        hooks: hooks(channel),
        hostname: upstream.hostname,
      });
      proxies[channel] = proxy;
      channels[channel] = { ...upstream, port: proxy.port };
    }
  };
  const settings: Partial<DualChannelClientOptions> = {};
  const { preferredNetAddr: addr, preferredNetNr: nr } = options;
  switch (broken) {
    case "DC-1":
      channels.B = {
        ...options.channels.B,
        port: await closedPort(options.channels.B.hostname),
      };
      break;
    case "DC-2":
    case "DC-6/switch-back":
      settings.preferredNetAddr = undefined;
      settings.preferredNetNr = 1;
      break;
    case "DC-3":
      await proxyBoth((channel) => ({
        toServer(frame) {
          if (frame.type === "data") {
            proxies[channel === "A" ? "B" : "A"]?.inject(frame);
          }
          return [frame];
        },
      }));
      break;
    case "DC-4":
      await proxyBoth(() => ({
        toServer(frame, link) {
          if (frame.type !== "watchdog") return [frame];
          queueMicrotask(() => link.toClient(frame));
          return [];
        },
      }));
      break;
    case "DC-4/recycle": {
      const watchdogs = { A: 0, B: 0 };
      await proxyBoth((channel) => ({
        toServer(frame) {
          if (frame.type === "watchdog" && client.active !== channel) {
            if (++watchdogs[channel] % 5 === 0) {
              queueMicrotask(() => proxies[channel]?.drop());
            }
          }
          return [frame];
        },
      }));
      break;
    }
    case "DC-5":
    case "DC-10/fire-and-forget":
      await proxyBoth(() => ({
        toServer(frame, link) {
          if (frame.type === "data") {
            queueMicrotask(() => link.toClient({ type: "ack", id: frame.id }));
          }
          return [frame];
        },
        toClient: (frame) => frame.type === "ack" ? [] : [frame],
      }));
      break;
    case "DC-6":
      settings.retryMs = NEVER_MS;
      break;
    case "DC-6/give-up":
      await proxyBoth(() => ({}));
      break;
    case "DC-7":
      settings.preferredNetAddr = undefined;
      settings.preferredNetNr = undefined;
      break;
    case "DC-8":
      settings.preferredNetAddr = undefined;
      break;
    case "DC-8/number":
      settings.preferredNetNr = undefined;
      break;
    case "DC-9":
      if (addr !== undefined && nr !== undefined) {
        settings.preferredNetAddr = undefined;
      }
      break;
    case "DC-9/both":
      if (
        addr !== undefined &&
        onPreferredNetwork(addr, options.channels.A) &&
        onPreferredNetwork(addr, options.channels.B)
      ) {
        settings.preferredNetAddr = undefined;
        settings.preferredNetNr = 1;
      }
      break;
    case "DC-10":
    case "DC-10/late":
      settings.watchdogTimeoutMs = broken === "DC-10"
        ? NEVER_MS
        : (options.watchdogTimeoutMs ?? 3000) * 4;
      settings.connectTimeoutMs = options.connectTimeoutMs ??
        options.watchdogTimeoutMs;
      break;
  }
  const { break: _break, ...reference } = options;
  const client = new DualChannelClient({ ...reference, ...settings, channels });
  /** DC-6/give-up: how many times each channel failed. */
  const failures = { A: 0, B: 0 };
  /** DC-5/unreported: the ids sent again after a channel failed. */
  const requeued = new Set<string>();
  const unsubscribe = client.journal.subscribe((event: JournalEvent) => {
    if (broken === "DC-5/duplicate" && event.type === "requeued") {
      for (const id of event.ids as string[]) emit({ event: "deleted", id });
    }
    if (event.type === "requeued") {
      for (const id of event.ids as string[]) requeued.add(id);
    }
    if (
      broken === "DC-5/unreported" && event.type === "delivered" &&
      requeued.has(String(event.id))
    ) return;
    const printed = dualChannelContractEvent(event);
    if (printed) emit(printed);
    if (
      broken === "DC-6/give-up" &&
      ["channel_failed", "connect_failed"].includes(event.type)
    ) {
      const channel = event.channel as Channel;
      if (++failures[channel] === 3) proxies[channel]?.refuse();
    }
    if (broken === "DC-2/active-on-connect" && event.type === "connected") {
      emit({ event: "active", channel: event.channel });
    }
  });
  await client.start();
  return {
    async command(command) {
      if (command.cmd === "restart") return await client.restart();
      void client.send(command.id, command.data);
    },
    async close() {
      await client.close();
      unsubscribe();
      for (const proxy of Object.values(proxies)) await proxy.close();
    },
  };
}

/** Runs the wrong SCADA client by the contract until `{"cmd":"stop"}`. */
export async function main(args: string[]): Promise<void> {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const { values } = parseArgs({
    args,
    options: {
      break: { type: "string" },
      "host-a": { type: "string", default: env("FT_HOST_A") },
      "port-a": { type: "string", default: env("FT_PORT_A") },
      "host-b": { type: "string", default: env("FT_HOST_B") },
      "port-b": { type: "string", default: env("FT_PORT_B") },
      "local-a": { type: "string", default: env("FT_LOCAL_A") },
      "local-b": { type: "string", default: env("FT_LOCAL_B") },
      "watchdog-period": { type: "string", default: "1s" },
      "watchdog-timeout": { type: "string", default: "3s" },
      retry: { type: "string", default: "2s" },
      "connect-timeout": { type: "string" },
      "preferred-net-addr": { type: "string" },
      "preferred-net-nr": { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  const endpoint = (host: string, port: string, local?: string) => ({
    hostname: host,
    port: Number(port),
    ...(local ? { localAddress: local } : {}),
  });
  const nr = values["preferred-net-nr"] || undefined;
  await runWrongClient(
    "wrong SCADA client",
    BREAKS,
    values,
    ["host-a", "port-a", "host-b", "port-b"],
    (broken, emit) =>
      startWrongScada({
        break: broken,
        channels: {
          A: endpoint(values["host-a"]!, values["port-a"]!, values["local-a"]),
          B: endpoint(values["host-b"]!, values["port-b"]!, values["local-b"]),
        },
        watchdogPeriodMs: parseDuration(values["watchdog-period"]),
        watchdogTimeoutMs: parseDuration(values["watchdog-timeout"]),
        retryMs: parseDuration(values.retry),
        ...(values["connect-timeout"]
          ? { connectTimeoutMs: parseDuration(values["connect-timeout"]) }
          : {}),
        preferredNetAddr: values["preferred-net-addr"] || undefined,
        preferredNetNr: nr === undefined ? undefined : Number(nr),
      }, emit),
  );
}

if (import.meta.main) await main(Deno.args);
