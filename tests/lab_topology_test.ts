import assert from "node:assert/strict";
import { FaultsSchema } from "../core/faults/mod.ts";
import { startPrimaryServer } from "../servers/primary.ts";
import {
  loadTopology,
  parseTopology,
  type Topology,
  TopologyError,
} from "../lab/topology.ts";
import { tempDir } from "./_lifetime.ts";

const LAB = new URL("../lab/", import.meta.url);

/** The problems a bad topology gives, as `path: message` lines. */
function problems(value: unknown): string[] {
  try {
    parseTopology(value, "test.json");
  } catch (error) {
    assert.ok(error instanceof TopologyError, String(error));
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  assert.fail("the topology was accepted");
}

function withServers(servers: Record<string, unknown>, extra = {}): unknown {
  return { servers, ...extra };
}

Deno.test("loadTopology accepts the demo and every example shipped in lab/", async () => {
  const files = [new URL("demo.json", LAB)];
  for await (const entry of Deno.readDir(new URL("examples/", LAB))) {
    if (entry.name.endsWith(".json")) {
      files.push(new URL(`examples/${entry.name}`, LAB));
    }
  }
  const names = files.map((file) => file.pathname.split("/").pop()).sort();
  assert.deepEqual(names, [
    "demo.json",
    "dual-channel.json",
    "messaging.json",
    "mqtt-proxies.json",
    "tracker-plan.json",
    "two-servers.json",
  ]);
  for (const file of files) {
    const topology = await loadTopology(file);
    assert.ok(Object.keys(topology.servers).length > 0, file.pathname);
    // Traffic from reference clients, or proxies for a client of your own.
    assert.ok(
      Object.keys(topology.clients ?? {}).length > 0 ||
        Object.values(topology.servers).some((s) => s.kind === "proxy"),
      file.pathname,
    );
  }
});

Deno.test("the demo topology has every server kind and a reference client through each", async () => {
  const demo = await loadTopology(new URL("demo.json", LAB));
  const kinds = Object.values(demo.servers).map((server) => server.kind);
  assert.deepEqual(kinds.sort(), [
    "flapping",
    "message-store",
    "primary",
    "proxy",
    "secondary",
    "silent",
    "watchdog-echo",
  ]);
  const used = new Set<string>();
  for (const client of Object.values(demo.clients ?? {})) {
    for (const field of ["ip1", "ip2", "server"]) {
      if (typeof client[field] === "string") used.add(client[field] as string);
    }
  }
  assert.deepEqual([...used].sort(), Object.keys(demo.servers).sort());
});

Deno.test("parseTopology takes faults in the admin API's schema, as they are", () => {
  const faults = {
    dropAck: { probability: 0.3, window: { after: 2 } },
    delayAck: { ms: 200, jitterMs: 50 },
  };
  const topology: Topology = parseTopology(
    withServers({ primary: { kind: "primary", port: 0, faults } }),
  );
  assert.deepEqual(topology.servers.primary.faults, faults);
  assert.deepEqual(FaultsSchema.parse(faults), faults);
});

Deno.test("a fault the admin API refuses is refused in a file, naming its path", async () => {
  const bad = { dropAck: { probability: 1.5 } };
  await using primary = await startPrimaryServer({ port: 0, seed: 1 });
  const response = await primary.adminApp().request("/faults", {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(bad),
  });
  assert.equal(response.status, 400);
  await response.body?.cancel();
  const found = problems(
    withServers({ primary: { kind: "primary", faults: bad } }),
  );
  assert.equal(found.length, 1);
  assert.match(found[0], /^servers\.primary\.faults\.dropAck\.probability: /);
  assert.match(found[0], /<=1/);
});

Deno.test("parseTopology names the path and the problem of each mistake", () => {
  assert.deepEqual(
    problems(withServers({ primary: { kind: "primry" } })),
    [
      'servers.primary.kind: Invalid server kind "primry": expected one of "primary", "secondary", "flapping", "silent", "watchdog-echo", "message-store", "proxy"',
    ],
  );
  assert.deepEqual(
    problems(withServers({ primary: { kind: "primary", prot: 7000 } })),
    ['servers.primary: Unrecognized key: "prot"'],
  );
  assert.match(
    problems(withServers({ primary: { kind: "primary", port: 70000 } }))[0],
    /^servers\.primary\.port: Too big/,
  );
  assert.match(
    problems(withServers({ "my server": { kind: "primary" } }))[0],
    /^servers\.my server: Invalid name/,
  );
  assert.match(
    problems(withServers({ primary: { kind: "primary", codec: "xml" } }))[0],
    /^servers\.primary\.codec: Invalid codec: expected one of line-json/,
  );
  assert.match(
    problems(withServers({ f: { kind: "flapping", up: "soon" } }))[0],
    /^servers\.f\.up: Cannot parse duration "soon"/,
  );
  assert.match(
    problems(withServers({}))[0],
    /^servers: Invalid servers: name at least one server/,
  );
  assert.deepEqual(problems({ servers: { p: { kind: "primary" } }, x: 1 }), [
    '(top level): Unrecognized key: "x"',
  ]);
  assert.deepEqual(problems(withServers({ lab: { kind: "primary" } })), [
    `servers.lab: Invalid name "lab": it is the lab's own journal; events are told apart by name`,
  ]);
  assert.deepEqual(
    problems(
      withServers({ echo: { kind: "watchdog-echo", channels: { C: {} } } }),
    ),
    ['servers.echo.channels: Unrecognized key: "C"'],
  );
});

Deno.test("parseTopology checks the servers a client names", () => {
  const servers = {
    primary: { kind: "primary" },
    echo: { kind: "watchdog-echo" },
    store: { kind: "message-store" },
  };
  assert.deepEqual(
    problems(withServers(servers, {
      clients: {
        tracker: { kind: "two-servers", ip1: "primary", ip2: "secondry" },
      },
    })),
    [
      'clients.tracker.ip2: No server named "secondry" in servers: expected one of "primary", "echo", "store"',
    ],
  );
  assert.deepEqual(
    problems(withServers(servers, {
      clients: {
        primary: { kind: "two-servers", ip1: "primary", ip2: "primary" },
      },
    })),
    [
      'clients.primary: Invalid name "primary": a server has it too; events are told apart by name',
    ],
  );
  assert.deepEqual(
    problems(withServers(servers, {
      clients: { scada: { kind: "dual-channel", server: "primary" } },
    })),
    [
      'clients.scada.server: Server "primary" is a primary server: expected a watchdog-echo server',
    ],
  );
  assert.deepEqual(
    problems(withServers(servers, {
      clients: {
        alice: {
          kind: "failover-agent",
          server: "store",
          fronts: ["ml1", "ml9"],
          to: "bob",
        },
      },
    })),
    [
      'clients.alice.fronts[1]: No front named "ml9" in server "store": expected one of "ml1", "ml2"',
    ],
  );
  assert.deepEqual(
    problems(withServers(servers, {
      clients: { bob: { kind: "failover-agent", server: "store" } },
    })).map((line) => line.split(":")[0]),
    ["clients.bob.to"],
  );
});

Deno.test("loadTopology says which file cannot be read or parsed", async () => {
  await using dir = await tempDir({ prefix: "ft-topology-" });
  /** Asserts loading `name` fails with a TopologyError saying `says`. */
  const rejects = (name: string, says: (file: string) => string) =>
    assert.rejects(
      loadTopology(`${dir.path}/${name}`),
      (error: Error) =>
        error instanceof TopologyError &&
        error.message.startsWith(says(`${dir.path}/${name}`)),
    );
  await rejects(
    "missing.json",
    (file) => `Cannot read topology file ${file}: `,
  );
  await Deno.writeTextFile(`${dir.path}/broken.json`, '{"servers": {');
  await rejects(
    "broken.json",
    (file) => `Cannot parse topology file ${file}: `,
  );
  await Deno.writeTextFile(
    `${dir.path}/bad.json`,
    JSON.stringify({ servers: { p: { kind: "primary", port: -1 } } }),
  );
  await rejects(
    "bad.json",
    (file) => `Invalid topology file ${file}: servers.p.port: `,
  );
});
