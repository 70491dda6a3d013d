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
 * deno run -A tests/wrong_clients/wrong_tracker.ts --break TS-4 \
 *   --ip1 127.0.0.1 --port1 7000 --ip2 127.0.0.1 --port2 7010 --mirror
 * ```
 *
 * Test-only: not part of the toolkit's API.
 *
 * @module
 */
import {
  createConnection,
  createServer,
  type Server,
  type Socket,
} from "node:net";
import { parseArgs } from "node:util";
import { printEvent, serveContract } from "../../clients/_contract.ts";
import type { Codec, Decoder } from "../../core/codec.ts";
import { createCodec } from "../../core/codecs.ts";
import {
  type ItemKind,
  type ServerName,
  TwoServersClient,
  type TwoServersClientOptions,
} from "../../clients/two_servers.ts";
import type { Frame } from "../../core/frame.ts";
import type { JournalEvent } from "../../core/journal.ts";
import { parseDuration } from "../../core/units.ts";

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
  "TS-6": "connects to IP2 at start, before any connection to IP1",
  "TS-7": "holds every record until IP2 is connected",
  "TS-8": "pads each copy sent to IP2 to about three times its size",
  "FO-1": "mirrors records to IP2 in failover mode",
  "FO-2": "never leaves IP1: resends to it forever",
  "FO-3": "goes back to IP1 after each record IP2 ACKs",
  "FO-4": "once it has left IP1, never connects to it again",
  "FO-5": "ignores the restart command: stays on the server in use",
  "FO-5/forget": "forgets unacknowledged records on restart",
  "FO-6": "sends each record once more to the server that ACKed it",
  "FO-6/early-delete":
    'prints {"event":"deleted"} as soon as a record is first sent, before any ACK',
};

/** Hooks of a {@linkcode FrameProxy}: what to forward instead of a frame. */
interface ProxyHooks {
  /** A frame from the client to the server: the frames to forward instead. */
  toServer?(frame: Frame): Frame[];
  /** A frame from the server to the client: the frames to forward instead. */
  toClient?(frame: Frame): Frame[];
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

const encoder = new TextEncoder();

function lines(
  socket: Socket,
  onLine: (line: string) => void,
): void {
  let buffer = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf("\n");
    while (newline !== -1) {
      onLine(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
    }
  });
}

function rewrite(
  line: string,
  hook: ((frame: Frame) => Frame[]) | undefined,
): string {
  if (!hook) return line + "\n";
  let frame: Frame;
  try {
    frame = JSON.parse(line);
  } catch {
    return line + "\n";
  }
  return hook(frame).map((f) => JSON.stringify(f) + "\n").join("");
}

/** A device codec's two sides, for a proxy between a device and a server. */
interface DeviceSides {
  /** Decodes what the device sends. */
  server: Codec;
  /** Encodes what the proxy forwards to the server. */
  client: Codec;
}

/**
 * A TCP proxy for line JSON (or a device codec) between the client and one
 * server, on 127.0.0.1 and a port of its own. Each accepted connection gets
 * its own connection upstream; frames go through the hooks.
 */
class FrameProxy {
  readonly #server: Server;
  readonly #upstream: { hostname: string; port: number };
  readonly #hooks: ProxyHooks;
  readonly #device?: DeviceSides;
  readonly #pairs = new Set<Pair>();
  #pending: Frame[] = [];

  private constructor(
    upstream: { hostname: string; port: number },
    hooks: ProxyHooks,
    codec: string,
  ) {
    this.#upstream = upstream;
    this.#hooks = hooks;
    if (codec !== "line-json") {
      if (hooks.toClient) {
        throw new RangeError(
          `Cannot alter what the server sends over codec ${codec}: this proxy decodes the client's side only`,
        );
      }
      this.#device = {
        server: createCodec(codec),
        client: createCodec(codec, { role: "client" }),
      };
    }
    this.#server = createServer(
      { noDelay: true },
      (client) => this.#accept(client),
    );
  }

  /** Starts a proxy to `host:port` for frames of `codec` (default line JSON). */
  static start(
    upstream: { hostname: string; port: number },
    hooks: ProxyHooks,
    codec = "line-json",
  ): Promise<FrameProxy> {
    const proxy = new FrameProxy(upstream, hooks, codec);
    return new Promise((resolve, reject) => {
      proxy.#server.once("error", reject);
      proxy.#server.listen(
        { host: "127.0.0.1", port: 0 },
        () => resolve(proxy),
      );
    });
  }

  #accept(client: Socket): void {
    client.pause();
    const upstream = createConnection({
      host: this.#upstream.hostname,
      port: this.#upstream.port,
      noDelay: true,
    });
    const pair = { client, upstream };
    upstream.once("connect", () => {
      this.#pairs.add(pair);
      for (const frame of this.#pending.splice(0)) this.inject(frame);
      client.resume();
    });
    if (this.#device) {
      this.#decodeTo(client, upstream);
      upstream.on("data", (chunk: Uint8Array) => {
        if (!client.destroyed) client.write(chunk);
      });
    } else {
      lines(client, (line) => {
        if (!upstream.destroyed) {
          upstream.write(rewrite(line, this.#hooks.toServer));
        }
      });
      lines(upstream, (line) => {
        if (!client.destroyed) {
          client.write(rewrite(line, this.#hooks.toClient));
        }
      });
    }
    const drop = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", () => client.resetAndDestroy());
    client.on("error", () => upstream.resetAndDestroy());
    upstream.on("close", drop);
    client.on("close", drop);
  }

  /**
   * Device codec: decodes the client's packets, passes them through the
   * `toServer` hook, and writes what it returns, encoded as the device would.
   */
  #decodeTo(client: Socket, upstream: Socket): void {
    const decoder: Decoder = this.#device!.server.decoder();
    client.on("data", (chunk: Uint8Array) => {
      for (const decoded of decoder.push(chunk)) {
        if (!decoded.frame || upstream.destroyed) continue;
        const frames = this.#hooks.toServer?.(decoded.frame) ??
          [decoded.frame];
        for (const frame of frames) {
          const bytes = this.#encode(frame);
          if (bytes) upstream.write(bytes);
        }
      }
    });
  }

  #encode(frame: Frame): Uint8Array | undefined {
    return this.#device
      ? this.#device.client.encode(frame)
      : encoder.encode(JSON.stringify(frame) + "\n");
  }

  /** The proxy's port. */
  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Writes a frame to the server, now or once a connection is up. */
  inject(frame: Frame): void {
    const pairs = [...this.#pairs].filter((p) => !p.upstream.destroyed);
    if (pairs.length === 0) return void this.#pending.push(frame);
    const bytes = this.#encode(frame);
    if (!bytes) return;
    for (const { upstream } of pairs) upstream.write(bytes);
  }

  /** Stops accepting: further connections are refused. */
  refuse(): void {
    this.#server.close();
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    if (this.#server.listening) {
      await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    }
  }
}

/** Options for {@linkcode startWrongTracker}: the reference options and the break. */
export interface WrongTrackerOptions extends TwoServersClientOptions {
  /** One of {@linkcode BREAKS}' names. */
  break: string;
}

/** A running wrong tracker, driven by the contract. */
export interface WrongTracker {
  /** Handles a `send` or `restart` command. */
  command(
    command: { cmd: "send"; id: string; kind?: string; data?: unknown } | {
      cmd: "restart";
    },
  ): Promise<void>;
  /** Closes it. */
  close(): Promise<void>;
}

/**
 * Starts the reference tracker with one behaviour broken; `emit` gets the
 * contract events it prints.
 */
export async function startWrongTracker(
  options: WrongTrackerOptions,
  emit: (event: { event: string; [field: string]: unknown }) => void,
): Promise<WrongTracker> {
  const broken = options.break;
  if (!(broken in BREAKS)) {
    throw new RangeError(
      `Cannot break "${broken}": expected one of ${
        Object.keys(BREAKS).join(", ")
      }`,
    );
  }
  const addrs: Record<ServerName, { hostname: string; port: number }> = {
    ip1: { hostname: options.ip1 ?? "127.0.0.1", port: options.port1 },
    ip2: { hostname: options.ip2 ?? "127.0.0.1", port: options.port2 },
  };
  const codec = typeof options.codec === "object"
    ? options.codec.name
    : options.codec ?? "line-json";
  const proxies: Partial<Record<ServerName, FrameProxy>> = {};
  const proxy = async (name: ServerName, hooks: ProxyHooks) => {
    proxies[name] = await FrameProxy.start(addrs[name], hooks, codec);
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
  let twoServers = options.twoServers;
  let resends = options.resends;
  switch (broken) {
    case "TS-1":
      twoServers = false;
      break;
    case "FO-1":
      twoServers = true;
      break;
    case "FO-2":
      resends = 1_000_000;
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
  const make = () =>
    new TwoServersClient({
      ...options,
      ip1: at("ip1").hostname,
      port1: at("ip1").port,
      ip2: at("ip2").hostname,
      port2: at("ip2").port,
      twoServers,
      resends,
    });
  const earlyDelete = broken === "TS-2" || broken === "FO-6/early-delete";
  const firstSent = new Set<unknown>();
  let ip2Connected = false;
  const held: (() => void)[] = [];
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
      if (event.type === "deleted") {
        if (!earlyDelete) emit({ event: "deleted", id: event.id });
        if (broken === "FO-3" && event.link === "ip2") {
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
    });
  };
  client = make();
  attach();
  await client.start();
  return {
    async command(command) {
      if (command.cmd === "restart") {
        if (broken === "FO-5") return;
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
      if (broken === "TS-7" && !ip2Connected) return void held.push(send);
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
  if (!values.break || !values.port1 || !values.port2) {
    console.error(
      `error: expected --break ID (${
        Object.keys(BREAKS).join(", ")
      }), --port1 and --port2`,
    );
    Deno.exit(2);
  }
  const tracker = await startWrongTracker({
    break: values.break,
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
  }, (event) => printEvent(event));
  console.error(`wrong tracker: ${values.break}: ${BREAKS[values.break]}`);
  try {
    await serveContract({
      send: (command) => tracker.command({ ...command, cmd: "send" }),
      restart: () => tracker.command({ cmd: "restart" }),
    });
  } finally {
    await tracker.close();
  }
}

if (import.meta.main) await main(Deno.args);
