import assert from "node:assert/strict";
import { assertFlagsRefused, spawnCli } from "./_cli.ts";
import { connectClient, startUpstream } from "./_proxy_net.ts";
import { tempDir } from "./_lifetime.ts";

Deno.test("proxy CLI: --config and --name create proxies, one stable line, SIGTERM exits 0", async () => {
  await using upstream = await startUpstream();
  await using dir = await tempDir({ prefix: "proxy-cli-" });
  const config = `${dir.path}/proxies.json`;
  await Deno.writeTextFile(
    config,
    JSON.stringify([
      { name: "a", listen: "127.0.0.1:0", upstream: upstream.address },
      {
        name: "b",
        listen: "127.0.0.1:0",
        upstream: upstream.address,
        enabled: false,
      },
    ]),
  );
  const cli = await spawnCli("servers/proxy.ts", [
    "--port",
    "0",
    "--seed",
    "7",
    "--config",
    config,
    "--name",
    "c",
    "--upstream",
    upstream.address,
  ]);
  assert.match(
    cli.line,
    /^proxy tcp=127\.0\.0\.1:\d+ admin=http:\/\/127\.0\.0\.1:\d+ seed=7 codec=raw proxies=a=127\.0\.0\.1:\d+>127\.0\.0\.1:\d+,b=127\.0\.0\.1:0>/,
  );
  const proxies = await (await fetch(`${cli.fields.admin}/proxies`)).json();
  assert.deepEqual(Object.keys(proxies), ["a", "b", "c"]);
  assert.equal(proxies.b.enabled, false);
  const [hostname, port] = proxies.c.listen.split(":");
  await using client = await connectClient({ hostname, port: Number(port) });
  client.socket.write("hi");
  await client.readAtLeast(2, AbortSignal.timeout(10_000));
  const { code } = await cli.stop();
  assert.equal(code, 0);
});

Deno.test("proxy CLI: a bad flag or a bad proxy exits 2 naming it", async () => {
  await assertFlagsRefused("servers/proxy.ts", [
    ["--port 0 --name x", /--name: it needs --upstream/],
    ["--port 0 --name x --upstream nowhere", /upstream: .*missing port/],
  ]);
});
