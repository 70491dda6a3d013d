/**
 * `deno run -A bench/hot_path.ts`: the primary's own work per record, apart
 * from sockets and the machine's noise. Fifty `Connection`s of a checkout
 * (`--root`, default this one) over fake sockets are fed the same 64-record
 * line-JSON chunks (`--per-chunk 1`: one record a chunk, as in a closed
 * loop), 40 rounds of 51,200 records; it prints the process CPU time per
 * record (median and least of the last 30 rounds), and with `--profile`
 * where that time goes.
 *
 * ```sh
 * deno run -A bench/hot_path.ts                         # this checkout, no faults
 * deno run -A bench/hot_path.ts --root ../perfbase      # another checkout
 * deno run -A bench/hot_path.ts --faults '{"dropAck":{"probability":0.3},"delayAck":{"ms":1}}'
 * deno run -A bench/hot_path.ts --per-chunk 1           # one record a read
 * deno run -A bench/hot_path.ts --profile               # self time by function
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import { Session } from "node:inspector";
import process from "node:process";
import { parseArgs } from "node:util";
import { selfTimes } from "./profile.ts";

const CONNECTIONS = 50;
/** Records each connection is fed per round. */
const PER_ROUND = 1024;
const ROUNDS = 40;
const WARM_UP = 10;

/** A socket that reads nothing and takes every write. */
class FakeSocket extends EventEmitter {
  remoteAddress = "127.0.0.1";
  remotePort = 5000;
  localAddress = "127.0.0.1";
  localPort = 7000;
  writableLength = 0;
  writableEnded = false;
  bytesOut = 0;
  setNoDelay(): void {}
  setTimeout(): void {}
  pause(): void {}
  resume(): void {}
  write(bytes: Uint8Array): boolean {
    this.bytesOut += bytes.length;
    return true;
  }
  end(): void {}
  destroy(): void {}
  resetAndDestroy(): void {}
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      root: { type: "string", default: new URL("..", import.meta.url).href },
      faults: { type: "string", default: "{}" },
      profile: { type: "boolean", default: false },
      "per-chunk": { type: "string", default: "64" },
    },
  });
  const PER_CHUNK = Number(values["per-chunk"]);
  if (!(PER_CHUNK >= 1 && PER_ROUND % PER_CHUNK === 0)) {
    throw new RangeError(
      `Invalid --per-chunk "${
        values["per-chunk"]
      }": expected a divisor of ${PER_ROUND}`,
    );
  }
  const CHUNKS = PER_ROUND / PER_CHUNK;
  const root = new URL(
    values.root!.replace(/\/?$/, "/"),
    `file://${Deno.cwd()}/`,
  ).href;
  const load = (path: string) => import(root + path);
  const { Connection } = await load("core/server/connection.ts");
  const { Journal } = await load("core/journal/journal.ts");
  const { FaultEngine } = await load("core/faults/engine.ts");
  const { SeededRandom } = await load("core/faults/random.ts");
  const { createCodec } = await load("core/codecs/create_codec.ts");
  const { answerTelematicsFrame } = await load("servers/_telematics.ts");
  const journal = new Journal({ server: "primary" });
  const host = {
    journal,
    faults: new FaultEngine({
      random: new SeededRandom(1),
      journal,
      faults: JSON.parse(values.faults!),
    }),
    codec: createCodec("line-json"),
    maxBadFrames: 100,
    maxBadRate: 0,
    maxBacklogBytes: 0,
    idleTimeoutMs: 0,
    replyToBadInput: true,
    onFrame: (frame: unknown, conn: unknown) =>
      answerTelematicsFrame(frame as never, conn as never, {}),
    onClosed() {},
  };
  const sockets = Array.from({ length: CONNECTIONS }, (_, i) => {
    const socket = new FakeSocket();
    new Connection(i + 1, socket, host);
    return socket;
  });
  // Buffers, as node:net's sockets give.
  const chunks = sockets.map((_, c) =>
    Array.from({ length: CHUNKS }, (_, k) =>
      Buffer.from(
        Array.from({ length: PER_CHUNK }, (_, i) => {
          const n = k * PER_CHUNK + i;
          return `{"type":"record","id":"c${c}-${n}","data":{"n":${n}}}\n`;
        }).join(""),
      ))
  );
  const session = new Session();
  const post = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(
        method,
        params,
        (error: unknown, result: unknown) =>
          error ? reject(error) : resolve(result),
      )
    );
  if (values.profile) {
    session.connect();
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 100 });
  }
  const perRecord: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (values.profile && round === WARM_UP) await post("Profiler.start");
    const before = process.cpuUsage();
    for (let k = 0; k < CHUNKS; k++) {
      for (let c = 0; c < CONNECTIONS; c++) {
        sockets[c].emit("data", chunks[c][k]);
      }
    }
    const used = process.cpuUsage(before);
    if (round >= WARM_UP) {
      perRecord.push(
        (used.user + used.system) * 1000 / (CONNECTIONS * CHUNKS * PER_CHUNK),
      );
    }
    // Lets delayed ACKs go.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  perRecord.sort((a, b) => a - b);
  console.log(
    `${values.root} ${values.faults}, ${PER_CHUNK} a chunk: ${
      perRecord[perRecord.length >> 1].toFixed(0)
    } ns CPU per record (median; least ${
      perRecord[0].toFixed(0)
    }), ${journal.lastSeq} events`,
  );
  if (values.profile) {
    const { profile } = await post("Profiler.stop") as {
      profile: Parameters<typeof selfTimes>[0];
    };
    const { byFunction, total } = selfTimes(profile);
    for (const [name, us] of byFunction.slice(0, 25)) {
      console.log(`  ${(100 * us / total).toFixed(1).padStart(5)}%  ${name}`);
    }
  }
  Deno.exit(0);
}
