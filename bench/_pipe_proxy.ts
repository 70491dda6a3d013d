/**
 * The baseline of `bench/proxy.ts`: the least a Deno TCP proxy can be, one
 * read/write loop each way (a FIN passed on as a FIN), no toxics, no journal, no API. It prints
 * `pipe tcp=HOST:PORT` once it listens.
 *
 * `deno run -A bench/_pipe_proxy.ts --upstream 127.0.0.1:6379`
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { upstream: { type: "string" }, port: { type: "string" } },
});
const [host, port] = (values.upstream ?? "").split(":");

/** Copies one way until the source's FIN, then passes the FIN on. */
async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  while (true) {
    const n = await from.read(buffer);
    if (n === null) break;
    let written = 0;
    while (written < n) written += await to.write(buffer.subarray(written, n));
  }
  await to.closeWrite();
}
const listener = Deno.listen({
  hostname: "127.0.0.1",
  port: Number(values.port ?? 0),
});
console.log(`pipe tcp=127.0.0.1:${(listener.addr as Deno.NetAddr).port}`);
for await (const client of listener) {
  (async () => {
    try {
      const upstream = await Deno.connect({
        hostname: host,
        port: Number(port),
      });
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      await Promise.allSettled([
        pump(client, upstream),
        pump(upstream, client),
      ]);
      client.close();
      upstream.close();
    } catch {
      try {
        client.close();
      } catch {
        // Gone already.
      }
    }
  })();
}
