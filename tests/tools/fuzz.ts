/**
 * Fuzzes a running primary server, codec by codec: seeded mutations of valid
 * frames (bit flips, cuts, splices, random bytes, huge lengths, deep nesting)
 * over several connections (a fresh one every 100 frames, and whenever the
 * server closes one). Then
 * checks the server still answers a valid frame and its admin API, reads its
 * peak memory, and stops it with SIGTERM (time and exit status).
 *
 * Not part of `deno task test` (it takes a while):
 *
 * ```sh
 * deno run -A tests/tools/fuzz.ts                       # 200 000 frames per codec
 * deno run -A tests/tools/fuzz.ts --frames 20000 --codec teltonika --seed 3
 * ```
 *
 * @module
 */
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import type { Codec } from "../../core/codecs/codec.ts";
import { CODEC_NAMES, createCodec } from "../../core/codecs/create_codec.ts";
import type { Frame } from "../../core/codecs/frame.ts";
import { SeededRandom } from "../../core/faults/random.ts";
import { announcedTcp, spawnServer } from "../_cli.ts";
import { mib, rss } from "./_tools.ts";

const IMEI = "356307042441013";

/** A whole number in [min, max], seeded. */
function int(random: SeededRandom, min: number, max: number): number {
  return Math.min(max, Math.floor(random.between(min, max + 1)));
}
const encoder = new TextEncoder();

/** Valid frames a device or tracker sends over a codec, as bytes. */
function validFrames(codec: string, random: SeededRandom): Uint8Array[] {
  const device = createCodec(codec, { role: "client" });
  const frames: Frame[] = [{ type: "hello", device: IMEI }];
  for (let i = 0; i < 20; i++) {
    const timestamp = 1_700_000_000 + i * 60;
    frames.push({
      type: "record",
      id: `r${i}`,
      data: {
        imei: IMEI,
        timestamp: codec === "teltonika" ? timestamp * 1000 : timestamp,
        n: `r${i}`,
        speed: int(random, 0, 120),
      },
    });
  }
  frames.push({ type: "packet", kind: "garmin", id: "p1", data: { a: [1] } });
  return frames.map((frame) => device.encode(frame))
    .filter((bytes): bytes is Uint8Array => bytes !== undefined);
}

/** One fuzzed frame: a valid one, or a mutation of it. */
function mutate(
  codec: string,
  valid: Uint8Array[],
  random: SeededRandom,
): Uint8Array {
  const base = valid[int(random, 0, valid.length - 1)];
  const kind = int(random, 0, 9);
  switch (kind) {
    case 0:
    case 1:
      return base;
    case 2: { // flip bits
      const out = base.slice();
      for (let i = int(random, 1, 4); i > 0; i--) {
        out[int(random, 0, out.length - 1)] ^= 1 << int(random, 0, 7);
      }
      return out;
    }
    case 3: // cut short
      return base.subarray(0, int(random, 0, base.length - 1));
    case 4: { // random bytes
      const out = new Uint8Array(int(random, 1, 300));
      for (let i = 0; i < out.length; i++) out[i] = int(random, 0, 255);
      return out;
    }
    case 5: { // splice two frames
      const other = valid[int(random, 0, valid.length - 1)];
      const at = int(random, 0, base.length);
      return new Uint8Array([
        ...base.subarray(0, at),
        ...other.subarray(int(random, 0, other.length)),
      ]);
    }
    case 6: { // a huge length or count field
      const out = base.slice();
      const at = int(random, 0, Math.min(8, out.length - 1));
      out[at] = 0xff;
      if (at + 1 < out.length) out[at + 1] = 0xff;
      return out;
    }
    case 7: // deep nesting, or a long run of one byte
      return codec === "line-json"
        ? encoder.encode(
          `{"type":"record","id":"d","data":${"[".repeat(5000)}${
            "]".repeat(5000)
          }}\n`,
        )
        : new Uint8Array(int(random, 100, 5000)).fill(int(random, 0, 255));
    case 8: { // insert a byte
      const at = int(random, 0, base.length);
      return new Uint8Array([
        ...base.subarray(0, at),
        int(random, 0, 255),
        ...base.subarray(at),
      ]);
    }
    default: // a newline in the middle, or none at the end
      return codec === "line-json" ? base.subarray(0, base.length - 1) : base;
  }
}

/** A connection that reconnects when the server closes it. */
class FuzzConnection {
  #socket?: Socket;
  #open?: Promise<void>;
  closedByServer = 0;
  bytesIn = 0;
  constructor(readonly addr: { hostname: string; port: number }) {}

  async send(bytes: Uint8Array): Promise<void> {
    if (!this.#socket) {
      this.#open = new Promise((resolve) => {
        const socket = connect({
          host: this.addr.hostname,
          port: this.addr.port,
        });
        socket.on("data", (chunk: Uint8Array) => this.bytesIn += chunk.length);
        socket.on("error", () => {});
        socket.on("close", () => {
          if (this.#socket === socket) {
            this.#socket = undefined;
            this.closedByServer++;
          }
        });
        socket.once("connect", () => resolve());
        this.#socket = socket;
      });
    }
    await this.#open;
    const socket = this.#socket;
    if (!socket || socket.destroyed) return;
    if (!socket.write(bytes)) {
      await new Promise<void>((resolve) => {
        socket.once("drain", resolve);
        socket.once("close", resolve);
      });
    }
  }

  /** Ends the stream with FIN (the server reads all of it), or resets it. */
  close(reset = false): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (reset) socket?.destroy();
    else socket?.end();
  }
}

async function fuzzCodec(
  name: string,
  frames: number,
  seed: number,
  connections: number,
): Promise<Record<string, unknown>> {
  const random = new SeededRandom(seed).derive(name);
  const valid = validFrames(name, random);
  await using server = await spawnServer(
    "servers/primary.ts",
    `--codec ${name} --seed ${seed}`,
  );
  const addr = announcedTcp(server);
  const pool = Array.from(
    { length: connections },
    () => new FuzzConnection(addr),
  );
  const started = performance.now();
  for (let i = 0; i < frames; i++) {
    const connection = pool[i % connections];
    // A fresh stream every 100 frames: a mangled length field of a binary
    // framing makes the rest of a stream one long frame to skip.
    if (i % (connections * 100) < connections) connection.close();
    await connection.send(mutate(name, valid, random));
  }
  const sendMs = performance.now() - started;
  for (const connection of pool) connection.close(true);
  // A valid frame on a fresh connection still gets its answer.
  const codec: Codec = createCodec(name, { role: "client" });
  const answered = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: addr.hostname, port: addr.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 5000);
    socket.on("error", () => {});
    socket.on("data", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once("connect", () => {
      const hello = codec.encode({ type: "hello", device: IMEI });
      if (name === "teltonika" && hello) socket.write(hello);
      else socket.write(valid[1]);
    });
  });
  const state = await (await fetch(`${server.fields.admin}/state`)).json();
  const peak = rss(server.child.pid);
  const stopping = performance.now();
  const { code } = await server.stop();
  const counts = state.counts as Record<string, number>;
  return {
    codec: name,
    frames,
    sendSeconds: Number((sendMs / 1000).toFixed(1)),
    framesIn: counts.frame_in ?? 0,
    badInput: counts.bad_input ?? 0,
    handlerErrors: counts.error ?? 0,
    connectionsClosedByServer: pool.reduce((n, c) => n + c.closedByServer, 0),
    validFrameAnswered: answered,
    peakRss: `${mib(peak)} MiB`,
    shutdownMs: Math.round(performance.now() - stopping),
    exitCode: code,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      frames: { type: "string", default: "200000" },
      seed: { type: "string", default: "1" },
      codec: { type: "string", multiple: true },
      connections: { type: "string", default: "8" },
    },
  });
  // `raw` takes any bytes as they come: nothing to fuzz.
  const codecs = values.codec?.length
    ? values.codec
    : CODEC_NAMES.filter((name) => name !== "raw");
  for (const name of codecs) {
    const result = await fuzzCodec(
      name,
      Number(values.frames),
      Number(values.seed),
      Number(values.connections),
    );
    console.log(JSON.stringify(result));
  }
}
