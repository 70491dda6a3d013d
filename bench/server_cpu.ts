/**
 * Measures a server's CPU time per record from outside: starts
 * `servers/primary.ts` (from a checkout, `--dir`) as its own process, drives
 * `--records` records over `--connections` connections from this process,
 * and reads the server's CPU time (utime + stime, `/proc/<pid>/stat`) before
 * and after the load. Linux only.
 *
 * ```sh
 * deno run -A bench/server_cpu.ts --dir . --records 200000 --connections 50
 * deno run -A bench/server_cpu.ts --dir . -- --drop-ack 30% --delay-ack 1ms
 * ```
 *
 * Flags after `--` go to the server. Prints one line of JSON.
 *
 * @module
 */
import { connect } from "node:net";
import { parseArgs } from "node:util";

const TICKS_PER_SECOND = 100;

function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are 12 and 13 after the command name.
  return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS_PER_SECOND;
}

async function announced(
  stdout: ReadableStream<Uint8Array>,
): Promise<{ port: number; rest: ReadableStreamDefaultReader<string> }> {
  const reader = stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Server exited before announcing: ${text}`);
    text += value;
  }
  const match = /tcp=[^ ]+:(\d+)/.exec(text);
  if (!match) throw new Error(`Cannot read the port from "${text.trim()}"`);
  return { port: Number(match[1]), rest: reader };
}

function drive(port: number, records: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, noDelay: true });
    socket.on("error", reject);
    socket.on("data", () => {});
    socket.on("close", () => resolve());
    socket.on("connect", () => {
      const batch = 500;
      let sent = 0;
      const pump = () => {
        while (sent < records) {
          let lines = "";
          const end = Math.min(records, sent + batch);
          for (; sent < end; sent++) {
            lines += `{"type":"record","id":"r${sent}","data":{"n":${sent}}}\n`;
          }
          if (!socket.write(lines)) return void socket.once("drain", pump);
        }
        socket.end();
      };
      pump();
    });
  });
}

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string", default: "." },
    records: { type: "string", default: "200000" },
    connections: { type: "string", default: "50" },
  },
  allowPositionals: true,
});
const records = Number(values.records);
const connections = Number(values.connections);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    `${values.dir}/servers/primary.ts`,
    "--port",
    "0",
    "--admin-port",
    "0",
    "--seed",
    "7",
    ...positionals,
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
try {
  const { port, rest } = await announced(child.stdout);
  void rest.closed.catch(() => {});
  // Warm up: the JIT compiles the hot path before the measured run.
  await Promise.all(Array.from({ length: 5 }, () => drive(port, 2000)));
  const before = cpuMs(child.pid);
  const started = performance.now();
  const each = Math.floor(records / connections);
  await Promise.all(
    Array.from({ length: connections }, () => drive(port, each)),
  );
  const wallMs = performance.now() - started;
  const after = cpuMs(child.pid);
  const total = each * connections;
  console.log(JSON.stringify({
    dir: values.dir,
    serverFlags: positionals.join(" "),
    records: total,
    connections,
    cpuMs: after - before,
    cpuUsPerRecord: Number(((after - before) * 1000 / total).toFixed(2)),
    wallMs: Math.round(wallMs),
  }));
  await rest.cancel();
} finally {
  child.kill("SIGTERM");
  await child.status;
}
