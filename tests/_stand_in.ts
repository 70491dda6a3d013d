/**
 * Test helper: a stand-in for a server's script, to see what a starter does
 * with processes that are slow to start. Each process of it connects to the
 * test and says its name (the `NAME` of its `--fronts NAME=...`, or `-`), so
 * the test knows it runs; its connection ends when the process does, so the
 * test sees it gone. Only the names in `announce` serve an admin API and
 * print an announced line
 * (`message-store tcp=NAME@127.0.0.1:1 admin=http://127.0.0.1:PORT`); the
 * others never do. The admin API answers `GET /events` with a stream that
 * never begins, and tells the test (the line `events`). Each waits until it
 * is stopped, or until the test lets go of it.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { TextLineStream } from "../core/codecs/text_line_stream.ts";
import { within } from "./_raw_peer.ts";

/** A stand-in process, as the test sees it. */
export interface StandInProcess {
  /** Its name. */
  name: string;
  /** Resolves with the next line it says after its name (bounded by `signal`). */
  line(signal: AbortSignal): Promise<string>;
  /** Resolves once it has exited (its connection ended). */
  ended: Promise<void>;
}

/** A stand-in script and the processes that ran it. */
export interface StandIn extends AsyncDisposable {
  /** The script, to run with `deno run -A`. */
  script: URL;
  /** Resolves with the next process to run the script (bounded by `signal`). */
  next(signal: AbortSignal): Promise<StandInProcess>;
}

/** The script, reporting to the test at `port`. */
function scriptText(port: number, announce: readonly string[]): string {
  return `const at = Deno.args.indexOf("--fronts");
const name = at >= 0 ? Deno.args[at + 1].split("=")[0] : "-";
const test = await Deno.connect({ hostname: "127.0.0.1", port: ${port} });
const say = (line) => test.write(new TextEncoder().encode(line + "\\n"));
await say(name);
if (${JSON.stringify(announce)}.includes(name)) {
  const admin = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await say("events");
    return new Response(new ReadableStream(), {
      headers: { "content-type": "text/event-stream" },
    });
  });
  console.log(\`message-store tcp=\${name}@127.0.0.1:1 admin=http://127.0.0.1:\${admin.addr.port}\`);
}
await test.read(new Uint8Array(1));
Deno.exit(0);
`;
}

/** Writes the stand-in script; disposing of it lets go of its processes and removes it. */
export async function standIn(
  options: { announce: readonly string[] },
): Promise<StandIn> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    path,
    scriptText(listener.addr.port, options.announce),
  );
  const conns: Deno.Conn[] = [];
  const ends: Promise<void>[] = [];
  return {
    script: pathToFileURL(path),
    next(signal) {
      return within(
        (async () => {
          const conn = await listener.accept();
          conns.push(conn);
          const said: string[] = [];
          let wake = () => {};
          let over = false;
          const ended = (async () => {
            try {
              const lines = conn.readable
                .pipeThrough(new TextDecoderStream())
                .pipeThrough(new TextLineStream());
              for await (const line of lines) {
                said.push(line);
                wake();
              }
            } catch {
              // Reset: ended too.
            }
            try {
              conn.close();
            } catch {
              // Closed with its stream.
            }
            over = true;
            wake();
          })();
          ends.push(ended);
          const line = async () => {
            while (said.length === 0) {
              if (over) throw new Error("The stand-in process has ended");
              await new Promise<void>((resolve) => wake = resolve);
            }
            return said.shift()!;
          };
          const name = await line();
          return {
            name,
            line: (signal: AbortSignal) => within(line(), signal),
            ended,
          };
        })(),
        signal,
      );
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          await conn.closeWrite();
        } catch {
          // Already ended.
        }
      }
      await Promise.all(ends);
      await Deno.remove(path);
    },
  };
}
