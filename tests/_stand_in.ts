/**
 * Test helper: a stand-in for a server's script, to see what a starter does
 * with processes that are slow to start. Each process of it connects to the
 * test and says its name (the `NAME` of its `--fronts NAME=...`, or `-`), so
 * the test knows it runs; its connection ends when the process does, so the
 * test sees it gone. Only the names in `announce` print an announced line
 * (`message-store tcp=NAME@127.0.0.1:1 admin=http://127.0.0.1:1`); the others
 * never do. Each waits until it is stopped, or until the test lets go of it.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { within } from "./_raw_peer.ts";

/** A stand-in process, as the test sees it. */
export interface StandInProcess {
  /** Its name. */
  name: string;
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

const decoder = new TextDecoder();

/** Reads the connection until it ends. */
async function drain(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64);
  try {
    while (await conn.read(buffer) !== null) { /* until the end */ }
  } catch {
    // Reset: ended too.
  } finally {
    conn.close();
  }
}

/** Writes the stand-in script; disposing of it lets go of its processes and removes it. */
export async function standIn(
  options: { announce: readonly string[] },
): Promise<StandIn> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    path,
    `const at = Deno.args.indexOf("--fronts");
const name = at >= 0 ? Deno.args[at + 1].split("=")[0] : "-";
if (${JSON.stringify(options.announce)}.includes(name)) {
  console.log(\`message-store tcp=\${name}@127.0.0.1:1 admin=http://127.0.0.1:1\`);
}
const conn = await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} });
await conn.write(new TextEncoder().encode(name + "\\n"));
await conn.read(new Uint8Array(1));
`,
  );
  const conns: Deno.Conn[] = [];
  const drained: Promise<void>[] = [];
  return {
    script: pathToFileURL(path),
    next(signal) {
      return within(
        (async () => {
          const conn = await listener.accept();
          conns.push(conn);
          let line = "";
          const buffer = new Uint8Array(64);
          while (!line.includes("\n")) {
            const n = await conn.read(buffer);
            if (n === null) break;
            line += decoder.decode(buffer.subarray(0, n));
          }
          const ended = drain(conn);
          drained.push(ended);
          return { name: line.trim(), ended };
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
      await Promise.all(drained);
      await Deno.remove(path);
    },
  };
}
