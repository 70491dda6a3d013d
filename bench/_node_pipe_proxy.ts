/**
 * A second baseline of `bench/proxy.ts`: the least a proxy built on
 * `node:net` (as ours is, for its resets) can be in Deno: `pipe()` each way,
 * half-open, no toxics, no journal, no API. It prints `pipe tcp=HOST:PORT`
 * once it listens. Beside `bench/_pipe_proxy.ts` (read/write loops on
 * `Deno.Conn`) it shows what the socket layer alone costs.
 *
 * `deno run -A bench/_node_pipe_proxy.ts --upstream 127.0.0.1:6379`
 *
 * @module
 */
import { connect, createServer } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { upstream: { type: "string" }, port: { type: "string" } },
});
const [host, port] = (values.upstream ?? "").split(":");

const server = createServer(
  { allowHalfOpen: true, noDelay: true },
  (client) => {
    const upstream = connect({
      host,
      port: Number(port),
      allowHalfOpen: true,
      noDelay: true,
    });
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  },
);
server.listen({ host: "127.0.0.1", port: Number(values.port ?? 0) }, () => {
  const bound = server.address() as { port: number };
  console.log(`pipe tcp=127.0.0.1:${bound.port}`);
});
