/**
 * A worked example: how does mqtt.js fail over between two mosquitto brokers?
 * Each broker sits behind a proxy of the fault proxy; each scenario breaks the
 * first proxy in one way and measures how long mqtt.js takes to be connected
 * again (to the second broker) while it publishes a QoS 1 message every
 * 20 ms.
 *
 * Needs mosquitto (`apt-get install mosquitto`); the brokers listen on
 * 127.0.0.1, on the odd ports `--port1` and `--port2` (18831, 18833).
 *
 * `deno run -A examples/mqtt/failover.ts`
 *
 * @module
 */
import mqtt from "mqtt";
import { parseArgs } from "node:util";
import { startProxyServer } from "../../servers/proxy.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port1: { type: "string", default: "18831" },
    port2: { type: "string", default: "18833" },
    runs: { type: "string", default: "3" },
  },
});

/** Starts mosquitto on 127.0.0.1:port with a config file of its own. */
async function startBroker(port: number) {
  const dir = await Deno.makeTempDir({ prefix: "mosquitto-" });
  const config = `${dir}/mosquitto.conf`;
  await Deno.writeTextFile(
    config,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
  );
  const child = new Deno.Command("mosquitto", {
    args: ["-c", config],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  // mosquitto says when it listens (on stderr, with its default log).
  let text = "";
  const deadline = Date.now() + 5000;
  while (
    !text.includes("Opening ipv4 listen socket") && Date.now() < deadline
  ) {
    const { value, done } = await stderr.read();
    if (done) throw new Error(`mosquitto on ${port} exited: ${text}`);
    text += value;
  }
  (async () => {
    while (!(await stderr.read()).done) { /* drain */ }
  })();
  return {
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

interface Outcome {
  scenario: string;
  ms: number;
  to: number;
}

type Break = (
  server: Awaited<ReturnType<typeof startProxyServer>>,
) => Promise<void>;

const SCENARIOS: [string, Break][] = [
  [
    "proxy disabled (open link closed with FIN, connects refused)",
    (s) => s.updateProxy("broker1", { enabled: false }).then(() => {}),
  ],
  ["reset_peer toxic (RST on the next bytes)", async (s) => {
    await s.addToxic("broker1", {
      type: "reset_peer",
      stream: "upstream",
      attributes: { timeout: 0 },
    });
    await s.proxy("broker1")!.faults.set({ reset: {} });
  }],
  [
    "timeout toxic 0 both ways, then black hole at connect (silence)",
    async (s) => {
      await s.addToxic("broker1", {
        type: "timeout",
        stream: "upstream",
        attributes: { timeout: 0 },
      });
      await s.addToxic("broker1", {
        type: "timeout",
        stream: "downstream",
        attributes: { timeout: 0 },
      });
      s.proxy("broker1")!.faults.set({ blackHole: {} });
    },
  ],
];

async function run(name: string, breakIt: Break, ports: number[]) {
  await using server = await startProxyServer({ seed: 7 });
  const one = await server.createProxy({
    name: "broker1",
    upstream: `127.0.0.1:${ports[0]}`,
  });
  const two = await server.createProxy({
    name: "broker2",
    upstream: `127.0.0.1:${ports[1]}`,
  });
  const client = mqtt.connect({
    servers: [
      { host: "127.0.0.1", port: one.addr.port },
      { host: "127.0.0.1", port: two.addr.port },
    ],
    keepalive: 2,
    connectTimeout: 2000,
    reconnectPeriod: 100,
    clean: true,
  });
  const connected = () =>
    new Promise<number>((resolve) =>
      client.once("connect", () => resolve(performance.now()))
    );
  await connected();
  const timer = setInterval(() => client.publish("t", "x", { qos: 1 }), 20);
  const again = connected();
  const start = performance.now();
  await breakIt(server);
  const at = await again;
  clearInterval(timer);
  const port = (client.options as { port?: number }).port ?? 0;
  await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  return {
    scenario: name,
    ms: Math.round(at - start),
    to: port === two.addr.port ? 2 : 1,
  } satisfies Outcome;
}

const ports = [Number(values.port1), Number(values.port2)];
const brokers = await Promise.all(ports.map(startBroker));
try {
  for (const [name, breakIt] of SCENARIOS) {
    const outcomes: Outcome[] = [];
    for (let i = 0; i < Number(values.runs); i++) {
      outcomes.push(await run(name, breakIt, ports));
    }
    const ms = outcomes.map((o) => o.ms);
    console.log(
      `${name}: connected again after ${ms.join(", ")} ms (to broker ${
        outcomes.map((o) => o.to).join(", ")
      })`,
    );
  }
} finally {
  await Promise.all(brokers.map((broker) => broker.stop()));
}
