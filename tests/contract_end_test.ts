import assert from "node:assert/strict";
import { startMessageStoreServer } from "../servers/message_store.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import { startSecondaryServer } from "../servers/secondary.ts";
import { startWatchdogEchoServer } from "../servers/watchdog_echo.ts";
import { spawnContractClient } from "./_contract.ts";

// Each reference client, connected to a real server, ends when its standard
// input ends: it closes its connections and exits 0 by itself (the helper
// would SIGKILL it when the signal aborts, and the exit code would then not
// be 0).

Deno.test("two_servers CLI exits 0 by itself at the end of standard input", async () => {
  const signal = AbortSignal.timeout(20_000);
  await using ip1 = await startPrimaryServer({ port: 0 });
  await using ip2 = await startSecondaryServer({ port: 0 });
  await using cli = spawnContractClient("clients/two_servers.ts", [
    "--port1",
    String(ip1.addr.port),
    "--port2",
    String(ip2.addr.port),
    "--mirror",
    "--quiet",
  ]);
  await cli.command({ cmd: "send", id: "r1" });
  await cli.waitEvent((e) => e.event === "deleted" && e.id === "r1", signal);
  const end = await cli.endInput(signal);
  assert.equal(end.code, 0, end.stderr);
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
  await using cli = spawnContractClient("clients/dual_channel.ts", [
    ...channel("a", "127.0.1.2"),
    ...channel("b", "127.0.2.2"),
    "--watchdog-period",
    "20ms",
    "--quiet",
  ]);
  await cli.waitEvent((e) => e.event === "active", signal);
  const end = await cli.endInput(signal);
  assert.equal(end.code, 0, end.stderr);
});

Deno.test("failover_agent CLI exits 0 by itself at the end of standard input", async () => {
  const signal = AbortSignal.timeout(20_000);
  await using server = await startMessageStoreServer();
  const servers = server.fronts.map((front) =>
    `${front.name}=${front.addr.hostname}:${front.addr.port}`
  ).join(",");
  await using cli = spawnContractClient("clients/failover_agent.ts", [
    "--servers",
    servers,
    "--agent",
    "alice",
    "--quiet",
  ]);
  await cli.waitEvent((e) => e.event === "connected", signal);
  const end = await cli.endInput(signal);
  assert.equal(end.code, 0, end.stderr);
});
