import assert from "node:assert/strict";
import { startMessageStoreServer } from "../servers/message_store.ts";
import { startWatchdogEchoServer } from "../servers/watchdog_echo.ts";
import { type ContractProcess, spawnContractClient } from "./_contract.ts";
import { portFlags, startServers } from "./_two_servers.ts";

// Each reference client, connected to a real server, ends when its standard
// input ends: it closes its connections and exits 0 by itself (the helper
// would SIGKILL it when the signal aborts, and the exit code would then not
// be 0).

/**
 * Spawns a reference client, lets `ready` bring it to work, then closes its
 * standard input and asserts that it exits 0 by itself.
 */
async function assertEndsByItself(
  script: string,
  args: string[],
  ready: (cli: ContractProcess, signal: AbortSignal) => Promise<unknown>,
  signal: AbortSignal,
): Promise<void> {
  await using cli = spawnContractClient(script, [...args, "--quiet"]);
  await ready(cli, signal);
  const end = await cli.endInput(signal);
  assert.equal(end.code, 0, end.stderr);
}

Deno.test("two_servers CLI exits 0 by itself at the end of standard input", async () => {
  const signal = AbortSignal.timeout(20_000);
  await using servers = await startServers();
  const { ip1, ip2 } = servers;
  await assertEndsByItself(
    "clients/two_servers.ts",
    [...portFlags(ip1, ip2), "--mirror"],
    async (cli) => {
      await cli.command({ cmd: "send", id: "r1" });
      await cli.waitEvent(
        (e) => e.event === "deleted" && e.id === "r1",
        signal,
      );
    },
    signal,
  );
  await ip1.journal.waitFor((e) => e.type === "closed", { signal });
});

Deno.test("dual_channel CLI exits 0 by itself at the end of standard input", async () => {
  const signal = AbortSignal.timeout(20_000);
  await using server = await startWatchdogEchoServer({
    channels: { A: { port: 0 }, B: { port: 0 } },
  });
  const channel = (name: "a" | "b", local: string) => {
    const { hostname, port } = server.addr[name === "a" ? "A" : "B"];
    return [
      `--host-${name}`,
      hostname,
      `--port-${name}`,
      String(port),
      `--local-${name}`,
      local,
    ];
  };
  await assertEndsByItself(
    "clients/dual_channel.ts",
    [
      ...channel("a", "127.0.1.2"),
      ...channel("b", "127.0.2.2"),
      "--watchdog-period",
      "20ms",
    ],
    (cli) => cli.waitEvent((e) => e.event === "active", signal),
    signal,
  );
});

Deno.test("failover_agent CLI exits 0 by itself at the end of standard input", async () => {
  const signal = AbortSignal.timeout(20_000);
  await using server = await startMessageStoreServer();
  const servers = server.fronts.map((front) =>
    `${front.name}=${front.addr.hostname}:${front.addr.port}`
  ).join(",");
  await assertEndsByItself(
    "clients/failover_agent.ts",
    ["--servers", servers, "--agent", "alice"],
    (cli) => cli.waitEvent((e) => e.event === "connected", signal),
    signal,
  );
});
