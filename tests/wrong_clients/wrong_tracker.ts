/**
 * A deliberately wrong tracker, for proving that the two-servers and
 * failover checks can fail: the reference client (`clients/two_servers.ts`)
 * with exactly one behaviour broken, chosen by `--break ID`. It speaks the
 * client-under-test contract like the reference command line and takes the
 * same flags.
 *
 * The reference client is not changed: each break is made around it, by an
 * option, by what this wrapper does with commands and events, or by a small
 * proxy put between the client and one server that alters what goes over
 * that link (the runner only sees the servers' side, so to it this is the
 * client's behaviour).
 *
 * With `--codec ruptela` (or `teltonika`; add `--device IMEI` for a
 * Teltonika login) the client speaks that device protocol, and the proxy
 * decodes what the client sends with the server's side of the codec and
 * encodes what it forwards with the device's side; what the server sends
 * back passes as it is. So breaks that only alter the client's frames
 * (TS-3, TS-4) or need no proxy work over a device codec; TS-2/resend-after-ack
 * and FO-6, which read the server's ACKs, are refused, and TS-5 and TS-8 cannot
 * express what they add (packets, padding).
 *
 * ```sh
 * npx -y deno@2.9.6 run -A tests/wrong_clients/wrong_tracker.ts --break TS-4 \
 *   --ip1 127.0.0.1 --port1 7000 --ip2 127.0.0.1 --port2 7010 --mirror
 * ```
 *
 * Test-only: not part of the toolkit's API.
 *
 * @module
 */
import { createConnection, type Socket } from "node:net";
import { parseArgs } from "node:util";
import {
  type ItemKind,
  type ServerName,
  TwoServersClient,
  type TwoServersClientOptions,
} from "../../clients/two_servers.ts";
import type { Frame } from "../../core/codecs/frame.ts";
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
  "TS-1": "mirror mode off: records go to IP1 only",
  "TS-2":
    'prints {"event":"deleted"} as soon as a record is first sent, before IP1 ACKs it',
  "TS-2/resend-after-ack":
    "sends each record to IP1 once more after IP1 ACKed it",
  "TS-3": "never resends to IP1: each record goes over the IP1 link once",
  "TS-4": "copies every resend to IP1 to IP2 as well",
  "TS-5": "copies packets of every kind to IP2 as well",
  "TS-5/drop-packets": "drops packets of every kind: sends records only",
  "TS-6": "connects to IP2 at start, before any connection to IP1",
  "TS-6/no-retry":
    "never tries IP1 again once a connection to it failed (and, in mirror mode, so never connects to IP2)",
  "TS-7": "holds every record until IP2 is connected",
  "TS-8": "pads each copy sent to IP2 to about three times its size",
  "FO-1": "mirrors records to IP2 in failover mode",
  "FO-1/hold":
    "holds every record until IP2 is connected, in failover mode too (as TS-7 breaks it)",
  "FO-2": "never leaves IP1: resends to it forever",
  "FO-2/early-switch":
    "switches to IP2 after a quarter of its ACK timeout, not the whole",
  "FO-2/back-to-ip1":
    "after each record IP2 ACKs, sends the next one to IP1 first (as FO-3 breaks it)",
  "FO-2/hold-new":
    "once on IP2, sends it only what IP1 left without ACK: new records wait for IP1",
  "FO-2/extra-resend":
    "resends to IP1 once more than --resends says before switching to IP2",
  "FO-3": "goes back to IP1 after each record IP2 ACKs",
  "FO-4": "once it has left IP1, never connects to it again",
  "FO-3/hold-new":
    "once on IP2, sends it only what IP1 left without ACK: new records wait for IP1 (as FO-2/hold-new breaks it)",
  "FO-4/never-switch":
    "never leaves IP1 when it does not ACK: resends to it forever (as FO-2 breaks it)",
  "FO-4/ip2-first": "starts on IP2: takes the second server for its first",
  "FO-5": "ignores the restart command: stays on the server in use",
  "FO-5/forget": "forgets unacknowledged records on restart",
  "FO-5/in-use":
    "restarts on the server it was last on: once it has used IP2, its IP1 address leads there",
  "FO-5/drop-after-restart":
    "drops the first record handed to it after a restart (it comes before the device is ready)",
  "FO-6": "sends each record once more to the server that ACKed it",
  "FO-6/unreported":
    'never prints {"event":"deleted"} for a record it had to send more than once',
  "FO-6/early-delete":
    'prints {"event":"deleted"} as soon as a record is first sent, before any ACK',
};

/**
 * Starts the reference tracker with one behaviour broken; `emit` gets the
 * contract events it prints. The break must be one of
 * {@linkcode BREAKS} (`runWrongClient` checks it).
 */
export async function startWrongTracker(
  options: WithBreak<TwoServersClientOptions>,
  emit: (event: ContractEvent) => void,
): Promise<WrongClient> {
  const broken = options.break;
  const addrs: Record<ServerName, { hostname: string; port: number }> = {
    ip1: { hostname: options.ip1 ?? "127.0.0.1", port: options.port1 },
    ip2: { hostname: options.ip2 ?? "127.0.0.1", port: options.port2 },
  };
  const codec = typeof options.codec === "object"
    ? options.codec.name
    : options.codec ?? "line-json";
  const proxies: Partial<Record<ServerName, FrameProxy>> = {};
  const proxy = async (name: ServerName, hooks: ProxyHooks) => {
    proxies[name] = await FrameProxy.start({
      upstream: addrs[name],
      hooks,
      codec,
    });
  };
  const resendAfterAck = (name: ServerName) => {
    const sent = new Map<string, Frame>();
    return proxy(name, {
      toServer(frame) {
        if (frame.type === "record") sent.set(String(frame.id), frame);
        return [frame];
      },
      toClient(frame) {
        const record = frame.type === "ack"
          ? sent.get(String(frame.id))
          : undefined;
        if (record) {
          sent.delete(String(frame.id));
          queueMicrotask(() => proxies[name]?.inject(record));
        }
        return [frame];
      },
    });
  };
  const seen = new Set<string>();
  const repeated = (frame: Frame) => {
    const key = `${frame.type}:${frame.id}`;
    const again = seen.has(key);
    seen.add(key);
    return again;
  };
  const extra: Socket[] = [];
  let lastOn: ServerName = "ip1";
  let twoServers = options.twoServers;
  let resends = options.resends;
  let ackTimeoutMs = options.ackTimeoutMs;
  let reconnectDelayMs = options.reconnectDelayMs;
  switch (broken) {
    case "TS-1":
      twoServers = false;
      break;
    case "FO-1":
      twoServers = true;
      break;
    case "FO-2":
    case "FO-4/never-switch":
      resends = 1_000_000;
      break;
    case "FO-2/early-switch":
      ackTimeoutMs = (ackTimeoutMs ?? 5000) / 4;
      break;
    case "FO-2/extra-resend":
      resends = (resends ?? 0) + 1;
      break;
    case "TS-6/no-retry":
      reconnectDelayMs = NEVER_MS;
      break;
    case "TS-2/resend-after-ack":
      await resendAfterAck("ip1");
      break;
    case "FO-6":
      await resendAfterAck("ip1");
      await resendAfterAck("ip2");
      break;
    case "TS-3":
      await proxy("ip1", {
        toServer: (frame) =>
          frame.type === "record" && repeated(frame) ? [] : [frame],
      });
      break;
    case "TS-4":
      await proxy("ip2", {});
      await proxy("ip1", {
        toServer(frame) {
          if (frame.type === "record" && repeated(frame)) {
            proxies.ip2!.inject(frame);
          }
          return [frame];
        },
      });
      break;
    case "TS-5":
      await proxy("ip2", {});
      await proxy("ip1", {
        toServer(frame) {
          if (frame.type === "packet") proxies.ip2!.inject(frame);
          return [frame];
        },
      });
      break;
    case "TS-8":
      await proxy("ip2", {
        toServer: (frame) =>
          frame.type === "record"
            ? [{ ...frame, pad: "x".repeat(JSON.stringify(frame).length * 2) }]
            : [frame],
      });
      break;
    case "FO-4":
      await proxy("ip1", {});
      break;
    case "FO-5/in-use":
      proxies.ip1 = await FrameProxy.start({
        upstream: () => addrs[lastOn],
        codec,
      });
      break;
    case "TS-6": {
      const socket = createConnection({
        host: addrs.ip2.hostname,
        port: addrs.ip2.port,
      });
      socket.on("error", () => {});
      extra.push(socket);
      break;
    }
  }
  const at = (name: ServerName) =>
    proxies[name]
      ? { hostname: "127.0.0.1", port: proxies[name]!.port }
      : addrs[name];
  // FO-4/ip2-first: the servers swapped, so its first server is IP2.
  const [first, second]: ServerName[] = broken === "FO-4/ip2-first"
    ? ["ip2", "ip1"]
    : ["ip1", "ip2"];
  const make = () =>
    new TwoServersClient({
      ...options,
      ip1: at(first).hostname,
      port1: at(first).port,
      ip2: at(second).hostname,
      port2: at(second).port,
      twoServers,
      resends,
      ackTimeoutMs,
      reconnectDelayMs,
    });
  const earlyDelete = broken === "TS-2" || broken === "FO-6/early-delete";
  const firstSent = new Set<unknown>();
  /** The records sent more than once (FO-6/unreported). */
  const resent = new Set<string>();
  let ip2Connected = false;
  /** FO-5/drop-after-restart: restarted, no record handed since. */
  let restarted = false;
  const held: (() => void)[] = [];
  /** FO-2/hold-new, FO-3/hold-new: records that wait for IP1. */
  const heldForIp1: (() => void)[] = [];
  let client: TwoServersClient;
  let unsubscribe = () => {};
  const attach = () => {
    unsubscribe = client.journal.subscribe((event: JournalEvent) => {
      if (event.type === "connected") {
        emit({ event: "connected", server: event.link });
        if (event.link === "ip2") {
          ip2Connected = true;
          for (const release of held.splice(0)) release();
        }
      }
      if (event.type === "sent" && Number(event.attempt) > 1) {
        resent.add(String(event.id));
      }
      if (event.type === "deleted") {
        const unreported = broken === "FO-6/unreported" &&
          resent.has(String(event.id));
        if (!earlyDelete && !unreported) {
          emit({ event: "deleted", id: event.id });
        }
        if (
          (broken === "FO-3" || broken === "FO-2/back-to-ip1") &&
          event.link === "ip2"
        ) {
          queueMicrotask(() => void client.restart());
        }
      }
      if (event.type === "sent" && earlyDelete && !firstSent.has(event.id)) {
        firstSent.add(String(event.id));
        emit({ event: "deleted", id: event.id });
      }
      if (
        event.type === "switched" && broken === "FO-4" && event.from === "ip1"
      ) {
        proxies.ip1?.refuse();
      }
      if (event.type === "switched") lastOn = event.to as ServerName;
      if (lastOn === "ip1") {
        for (const release of heldForIp1.splice(0)) release();
      }
    });
  };
  client = make();
  attach();
  await client.start();
  return {
    async command(command) {
      if (command.cmd === "restart") {
        if (broken === "FO-5") return;
        if (broken === "FO-5/drop-after-restart") restarted = true;
        if (broken === "FO-5/forget") {
          unsubscribe();
          await client.close();
          client = make();
          attach();
          await client.start();
          return;
        }
        return await client.restart();
      }
      const send = () =>
        client.send({
          id: command.id,
          kind: (command.kind ?? "record") as ItemKind,
          data: command.data,
        });
      if (restarted) return void (restarted = false);
      if (
        broken === "TS-5/drop-packets" &&
        (command.kind ?? "record") !== "record"
      ) return;
      if ((broken === "TS-7" || broken === "FO-1/hold") && !ip2Connected) {
        return void held.push(send);
      }
      if (broken.endsWith("/hold-new") && lastOn === "ip2") {
        return void heldForIp1.push(send);
      }
      send();
    },
    async close() {
      unsubscribe();
      await client.close();
      for (const socket of extra) socket.destroy();
      for (const p of Object.values(proxies)) await p.close();
    },
  };
}

/** Runs the wrong tracker by the contract until `{"cmd":"stop"}`. */
export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      break: { type: "string" },
      ip1: { type: "string", default: Deno.env.get("FT_IP1") },
      port1: { type: "string", default: Deno.env.get("FT_PORT1") },
      ip2: { type: "string", default: Deno.env.get("FT_IP2") },
      port2: { type: "string", default: Deno.env.get("FT_PORT2") },
      mirror: { type: "boolean", default: false },
      "ack-timeout": { type: "string", default: "5s" },
      resends: { type: "string", default: "0" },
      "reconnect-delay": { type: "string", default: "1s" },
      "connect-timeout": { type: "string", default: "5s" },
      codec: { type: "string", default: "line-json" },
      device: { type: "string" },
    },
  });
  await runWrongClient(
    "wrong tracker",
    BREAKS,
    values,
    ["port1", "port2"],
    (broken, emit) =>
      startWrongTracker({
        break: broken,
        ip1: values.ip1,
        port1: Number(values.port1),
        ip2: values.ip2,
        port2: Number(values.port2),
        twoServers: values.mirror,
        ackTimeoutMs: parseDuration(values["ack-timeout"]),
        resends: Number(values.resends),
        reconnectDelayMs: parseDuration(values["reconnect-delay"]),
        connectTimeoutMs: parseDuration(values["connect-timeout"]),
        codec: values.codec,
        device: values.device,
      }, emit),
  );
}

if (import.meta.main) await main(Deno.args);
