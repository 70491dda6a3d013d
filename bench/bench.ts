/**
 * `deno task bench`: measures the servers, not the load generator. Each
 * server under test runs as its own process, as a user runs it; the load
 * runs in other processes; each server's CPU time comes from the server
 * itself (`GET /metrics`). Every figure has its baseline started in the same
 * run. Prints a table and writes `bench/results.json`.
 *
 * ```sh
 * deno task bench                                  # every figure, 3 runs
 * deno task bench --runs 5 --only 1,2              # figures 1 and 2
 * deno task bench --root . --root ../base    # after and before, one run
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { percentile, rangeText } from "./_stats.ts";
import {
  runLoadProcess,
  runProcess,
  type ServerProcess,
  startServerProcess,
} from "./_process.ts";
import type { LoadResult } from "./load.ts";

/** One measured figure: a value per run, with its baseline and target. */
export interface FigureRow {
  /** The figure's number in docs/performance.md (1 to 7). */
  figure: number;
  /** What was measured. */
  name: string;
  /** The checkout whose servers ran (`this` or a folder's name). */
  root: string;
  /** The unit of `values` and `baseline`. */
  unit: string;
  /** One value per run. */
  values: number[];
  /** The baseline's value per run, when there is one. */
  baseline?: number[];
  /** value / baseline per run. */
  ratio?: number[];
  /** The target: on the ratio or the value, at most or at least. */
  target?: { on: "ratio" | "value"; op: "<=" | ">="; limit: number };
}

/** What `bench/results.json` holds. */
export interface BenchResults {
  /** The machine: CPU, cores, memory, load before and after. */
  machine: Record<string, unknown>;
  /** Deno, V8 and TypeScript versions. */
  deno: typeof Deno.version;
  /** When the run started, ISO 8601. */
  date: string;
  /** The command line. */
  args: string[];
  /** How many runs each figure had. */
  runs: number;
  /** Every figure. */
  figures: FigureRow[];
}

const HERE = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const MINIMAL = new URL("./minimal_server.ts", import.meta.url).pathname;

interface Options {
  roots: { path: string; label: string }[];
  runs: number;
  seconds: number;
  only: Set<number>;
  out: string;
}

/** Collects rows across runs, keyed by figure, name and root. */
class Rows {
  readonly rows: FigureRow[] = [];

  add(
    row: Omit<FigureRow, "values" | "baseline" | "ratio">,
    value: number,
    baseline?: number,
  ): void {
    let found = this.rows.find((r) =>
      r.figure === row.figure && r.name === row.name && r.root === row.root
    );
    if (!found) {
      found = { ...row, values: [] };
      this.rows.push(found);
    }
    found.values.push(value);
    if (baseline !== undefined) {
      (found.baseline ??= []).push(baseline);
      (found.ratio ??= []).push(value / baseline);
    }
  }
}

async function minimal(
  codec: string,
  flags: string[] = [],
): Promise<ServerProcess> {
  return await startServerProcess(MINIMAL, ["--codec", codec, ...flags], HERE);
}

async function primary(root: string, flags: string[]): Promise<ServerProcess> {
  return await startServerProcess(
    "servers/primary.ts",
    ["--port", "0", "--admin-port", "0", "--seed", "1", ...flags],
    root,
  );
}

function load(
  server: ServerProcess,
  args: string[],
  onLine?: (line: string) => void,
): Promise<LoadResult> {
  return runLoadProcess([
    "--port",
    String(server.port),
    "--admin",
    server.admin,
    "--pid",
    String(server.pid),
    ...args,
  ], onLine);
}

const perSecond = (r: LoadResult) => r.serverFrames / r.seconds;
const cpuMicros = (r: LoadResult) =>
  (r.serverCpuSeconds / r.serverFrames) * 1e6;

/** Figures 1 to 3: throughput and CPU per record against the minimal server. */
async function throughput(
  rows: Rows,
  options: Options,
  figure: number,
  codec: string,
  flags: string[],
  label: string,
): Promise<void> {
  const seconds = String(options.seconds);
  const modes = flags.some((f) => f === "--drop-ack")
    ? ["pipelined"] // dropped ACKs would stall a closed loop on its timeout
    : ["closed", "pipelined"];
  for (const mode of modes) {
    const args = [
      "--codec",
      codec,
      "--mode",
      mode,
      "--connections",
      "50",
      "--seconds",
      seconds,
    ];
    let base: LoadResult;
    {
      await using server = await minimal(codec);
      base = await load(server, args);
    }
    if (figure === 1) {
      // The floor of a server on node:net (the project's socket layer):
      // the minimal server's work, over node:net.
      await using server = await minimal(codec, ["--net", "node"]);
      const floor = await load(server, args);
      const name = `minimal server over node:net, ${mode}`;
      const root = "node:net";
      rows.add(
        { figure, name: `${name}: records/s`, root, unit: "records/s" },
        perSecond(floor),
        perSecond(base),
      );
      rows.add(
        { figure, name: `${name}: server CPU per record`, root, unit: "µs" },
        cpuMicros(floor),
        cpuMicros(base),
      );
    }
    for (const root of options.roots) {
      await using server = await primary(root.path, [
        "--codec",
        codec,
        ...flags,
      ]);
      const result = await load(server, args);
      const name = `${label}, ${mode}`;
      rows.add(
        {
          figure,
          name: `${name}: records/s`,
          root: root.label,
          unit: "records/s",
          ...(mode === "closed" && figure === 1
            ? { target: { on: "ratio", op: ">=", limit: 0.85 } as const }
            : {}),
        },
        perSecond(result),
        perSecond(base),
      );
      const cpuTarget = figure === 1 ? 1.15 : figure === 2 ? 1.4 : undefined;
      rows.add(
        {
          figure,
          name: `${name}: server CPU per record`,
          root: root.label,
          unit: "µs",
          ...(cpuTarget
            ? { target: { on: "ratio", op: "<=", limit: cpuTarget } as const }
            : {}),
        },
        cpuMicros(result),
        cpuMicros(base),
      );
    }
  }
}

/** Figure 4: ten thousand devices, a record a second each. */
async function manyConnections(rows: Rows, options: Options): Promise<void> {
  const connections = 10_000;
  const seconds = Math.max(6, options.seconds * 2);
  const args = [
    "--mode",
    "trickle",
    "--connections",
    String(connections),
    "--seconds",
    String(seconds),
    "--period-ms",
    "1000",
  ];
  let baseRss: number;
  {
    // A 4 KiB read buffer per connection: 64 KiB would be 640 MB here.
    await using server = await minimal("line-json", ["--read-buffer", "4096"]);
    baseRss = (await load(server, args)).serverRssBytes;
  }
  for (const root of options.roots) {
    await using server = await primary(root.path, []);
    const latencies: number[] = [];
    let polling: Promise<void> | undefined;
    let stop = false;
    const result = await load(server, args, (line) => {
      if (line !== "ready") return;
      polling = (async () => {
        while (!stop) {
          const at = performance.now();
          await (await fetch(`${server.admin}/state`)).arrayBuffer();
          latencies.push(performance.now() - at);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
    });
    stop = true;
    await polling;
    latencies.sort((a, b) => a - b);
    rows.add(
      {
        figure: 4,
        name: `primary, ${connections} connections, 1 record/s each: RSS`,
        root: root.label,
        unit: "MB",
        target: { on: "value", op: "<=", limit: 128 },
      },
      result.serverRssBytes / 2 ** 20,
      baseRss / 2 ** 20,
    );
    rows.add(
      {
        figure: 4,
        name: `primary, ${connections} connections: admin /state p99`,
        root: root.label,
        unit: "ms",
        target: { on: "value", op: "<=", limit: 20 },
      },
      percentile(latencies, 0.99),
    );
    // Above 0, the server got less than the load the figure says.
    rows.add(
      {
        figure: 4,
        name: `primary, ${connections} connections: records the load skipped`,
        root: root.label,
        unit: "records",
      },
      result.skipped ?? 0,
    );
  }
}

/** Figure 5: how close a 100 ms ACK delay comes to 100 ms. */
async function faultTiming(rows: Rows, options: Options): Promise<void> {
  const args = [
    "--mode",
    "latency",
    "--connections",
    "20",
    "--seconds",
    String(Math.max(4, options.seconds)),
    "--period-ms",
    "150",
  ];
  for (const root of options.roots) {
    let plain: LoadResult;
    {
      await using server = await primary(root.path, []);
      plain = await load(server, args);
    }
    await using server = await primary(root.path, ["--delay-ack", "100ms"]);
    const delayed = await load(server, args);
    for (const q of ["p50", "p99"] as const) {
      rows.add(
        {
          figure: 5,
          name: `ACK delay 100 ms: error at ${q} (ACK time - 100 ms)`,
          root: root.label,
          unit: "ms",
          ...(q === "p99"
            ? { target: { on: "value", op: "<=", limit: 2 } as const }
            : {}),
        },
        delayed.rtt![q] - 100,
        plain.rtt![q],
      );
    }
  }
}

/**
 * Figure 6: the fault proxy, measured by `bench/proxy.ts` (written with the
 * fault proxy). It exports `benchProxy`, a function that takes
 * `{ deno, root, seconds }` and returns rows of
 * `{ name, unit, value, baseline?, target? }`; until the file is here, the
 * figure says so.
 */
async function proxy(rows: Rows, options: Options): Promise<string[]> {
  const url = new URL("./proxy.ts", import.meta.url);
  try {
    await Deno.stat(url);
  } catch {
    return ["figure 6 (proxy): not measured: bench/proxy.ts is not here yet"];
  }
  const module = await import(url.href) as Record<string, unknown>;
  const run = (module.benchProxy ??
    Object.values(module).find((v) => typeof v === "function")) as
      | ((options: Record<string, unknown>) => Promise<unknown>)
      | undefined;
  if (!run) return ["figure 6 (proxy): bench/proxy.ts exports no function"];
  const notes: string[] = [];
  for (const root of options.roots) {
    let result: unknown;
    try {
      result = await run({
        deno: Deno.execPath(),
        root: root.path,
        seconds: options.seconds,
      });
    } catch (error) {
      // An older checkout may have no proxy to measure.
      notes.push(
        `figure 6 (proxy): not measured for ${root.label}: ${
          (error as Error).message
        }`,
      );
      continue;
    }
    for (
      const row of (Array.isArray(result) ? result : []) as {
        name: string;
        unit: string;
        value: number;
        baseline?: number;
        target?: FigureRow["target"];
      }[]
    ) {
      rows.add(
        {
          figure: 6,
          name: row.name,
          root: root.label,
          unit: row.unit,
          ...(row.target ? { target: row.target } : {}),
        },
        row.value,
        row.baseline,
      );
    }
  }
  return notes;
}

/** The reference clients as processes, one command per suite. */
const PROCESS_SUITES: [string, string[]][] = [
  ["two-servers", [
    "--client",
    "{deno} run -A clients/two_servers.ts --quiet --mirror --ip1 {ip1} --port1 {port1} --ip2 {ip2} --port2 {port2} --ack-timeout {ackTimeoutMs}ms --resends {resends} --reconnect-delay {reconnectDelayMs}ms --connect-timeout {connectTimeoutMs}ms",
    "--ack-timeout",
    "400ms",
  ]],
  ["failover", [
    "--client",
    "{deno} run -A clients/two_servers.ts --quiet --ip1 {ip1} --port1 {port1} --ip2 {ip2} --port2 {port2} --ack-timeout {ackTimeoutMs}ms --resends {resends} --reconnect-delay {reconnectDelayMs}ms --connect-timeout {connectTimeoutMs}ms",
    "--ack-timeout",
    "400ms",
    "--resends",
    "1",
  ]],
  ["dual-channel", [
    "--client",
    "{deno} run -A clients/dual_channel.ts --quiet --host-a {hostA} --port-a {portA} --host-b {hostB} --port-b {portB} --local-a {localA} --local-b {localB} --watchdog-period {watchdogPeriodMs}ms --watchdog-timeout {watchdogTimeoutMs}ms --retry {retryMs}ms --connect-timeout {connectTimeoutMs}ms --preferred-net-addr={preferredNetAddr} --preferred-net-nr={preferredNetNr}",
    "--watchdog-period",
    "50ms",
    "--retry",
    "100ms",
  ]],
  ["agent", [
    "--client",
    "{deno} run -A clients/failover_agent.ts --quiet --servers {servers} --agent {agent} -fr {failoverRetries} -fd {failoverDelayMs}ms --connect-timeout {connectTimeoutMs}ms --ack-timeout {ackTimeoutMs}ms",
    "--ack-timeout",
    "400ms",
    "--connect-timeout",
    "800ms",
    "--fd",
    "200ms",
    "--fr",
    "1",
  ]],
];

/** Runs the conformance CLI of a checkout; returns seconds and the summary. */
async function conformance(
  root: string,
  args: string[],
): Promise<{ seconds: number; summary: string; code: number }> {
  const started = performance.now();
  const { code, stdout, stderr } = await runProcess(
    ["run", "-A", "conformance/runner.ts", "--seed", "11", ...args],
    { cwd: root },
  );
  const summary = stdout.trim().split("\n").at(-1) ?? "";
  if (code !== 0) {
    throw new Error(
      `Conformance run failed in ${root} (${
        args.slice(0, 3).join(" ")
      }): exit ${code}: ${summary} ${stderr.slice(-500)}`,
    );
  }
  return { seconds: (performance.now() - started) / 1000, summary, code };
}

/** Figure 7: the whole conformance suite, in process and as processes. */
async function conformanceWall(rows: Rows, options: Options): Promise<void> {
  for (const root of options.roots) {
    const inProcess = await conformance(root.path, [
      "--suite",
      "all",
      "--reference",
    ]);
    rows.add({
      figure: 7,
      name: "conformance, all 33, reference clients in process: wall",
      root: root.label,
      unit: "s",
      target: { on: "value", op: "<=", limit: 12 },
    }, inProcess.seconds);
    let total = 0;
    for (const [suite, args] of PROCESS_SUITES) {
      const filled = args.map((a) => a.replaceAll("{deno}", Deno.execPath()));
      total += (await conformance(root.path, ["--suite", suite, ...filled]))
        .seconds;
    }
    rows.add({
      figure: 7,
      name: "conformance, all 33, reference clients as processes: wall",
      root: root.label,
      unit: "s",
    }, total);
  }
}

function met(row: FigureRow): string {
  if (!row.target) return "";
  const on = row.target.on === "ratio" ? row.ratio ?? [] : row.values;
  const ok = on.map((v) =>
    row.target!.op === "<=" ? v <= row.target!.limit : v >= row.target!.limit
  );
  return ok.every(Boolean) ? "met" : ok.some(Boolean) ? "some runs" : "not met";
}

/** The table of a run, as text. */
export function table(figures: FigureRow[]): string {
  const digits = (unit: string) =>
    unit === "records/s" ? 0 : unit === "MB" || unit === "s" ? 1 : 2;
  const header = [
    "fig",
    "measure",
    "root",
    "value",
    "baseline",
    "ratio",
    "target",
    "",
  ];
  const lines = figures.map((row) => [
    String(row.figure),
    row.name,
    row.root,
    `${rangeText(row.values, digits(row.unit))} ${row.unit}`,
    row.baseline ? rangeText(row.baseline, digits(row.unit)) : "",
    row.ratio ? rangeText(row.ratio, 2) : "",
    row.target
      ? `${
        row.target.on === "ratio" ? "ratio" : "value"
      } ${row.target.op} ${row.target.limit}`
      : "",
    met(row),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...lines.map((l) => l[i].length))
  );
  const render = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [
    render(header),
    render(widths.map((w) => "-".repeat(w))),
    ...lines.map(render),
  ].join("\n");
}

async function machine(): Promise<Record<string, unknown>> {
  const read = (path: string) => Deno.readTextFile(path).catch(() => "");
  const cpuinfo = await read("/proc/cpuinfo");
  const meminfo = await read("/proc/meminfo");
  return {
    cpu: cpuinfo.match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown",
    cores: navigator.hardwareConcurrency,
    memoryGiB: Number(meminfo.match(/MemTotal:\s+(\d+)/)?.[1] ?? 0) / 2 ** 20,
    os: `${Deno.build.os} ${Deno.osRelease()}`,
    loadAverage: Deno.loadavg(),
  };
}

function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      root: { type: "string", multiple: true },
      runs: { type: "string", default: "3" },
      seconds: { type: "string", default: "3" },
      only: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(
      `deno task bench [--runs N] [--seconds S] [--only 1,2,...] [--root DIR]... [--out FILE]

Measures the servers as a user runs them, each in its own process, against
baselines started in the same run, and writes bench/results.json.

  --runs N      runs of every figure (default 3); the table shows ranges
  --seconds S   load per measurement, in seconds (default 3)
  --only LIST   only these figures (1-7)
  --root DIR    run the servers of this checkout (give it twice to compare
                two: --root . --root /path/to/older/checkout)
  --out FILE    where to write the results (default bench/results.json)`,
    );
    Deno.exit(0);
  }
  const roots = (values.root ?? [HERE]).map((path) => {
    const full = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
    const real = Deno.realPathSync(full);
    return {
      path: real,
      label: real === HERE ? "this" : real.split("/").at(-1)!,
    };
  });
  const only = new Set(
    (values.only ?? "1,2,3,4,5,6,7").split(",").map(Number),
  );
  return {
    roots,
    runs: Number(values.runs),
    seconds: Number(values.seconds),
    only,
    out: values.out ?? `${HERE}/bench/results.json`,
  };
}

/** Runs the figures asked for and returns the results. */
export async function runBench(args: string[]): Promise<BenchResults> {
  const options = parseOptions(args);
  const date = new Date().toISOString();
  const before = await machine();
  const rows = new Rows();
  const notes = new Set<string>();
  const step = (text: string) => console.error(`bench: ${text}`);
  for (let run = 1; run <= options.runs; run++) {
    step(`run ${run} of ${options.runs}`);
    if (options.only.has(1)) {
      step("figure 1: primary against the minimal server");
      await throughput(rows, options, 1, "line-json", [], "primary");
    }
    if (options.only.has(2)) {
      step("figure 2: with --drop-ack 30% --delay-ack 1ms");
      await throughput(rows, options, 2, "line-json", [
        "--drop-ack",
        "30%",
        "--delay-ack",
        "1ms",
      ], "primary, drop 30% + delay 1ms");
    }
    if (options.only.has(3)) {
      for (const codec of ["ruptela", "teltonika"]) {
        step(`figure 3: over ${codec}`);
        await throughput(rows, options, 3, codec, [], `primary, ${codec}`);
      }
    }
    if (options.only.has(4)) {
      step("figure 4: 10 000 connections");
      await manyConnections(rows, options);
    }
    if (options.only.has(5)) {
      step("figure 5: fault timing");
      await faultTiming(rows, options);
    }
    if (options.only.has(6)) {
      step("figure 6: proxy");
      for (const note of await proxy(rows, options)) notes.add(note);
    }
    if (options.only.has(7)) {
      step("figure 7: conformance wall time");
      await conformanceWall(rows, options);
    }
  }
  for (const note of notes) console.error(note);
  return {
    machine: { ...before, loadAverageAfter: Deno.loadavg() },
    deno: Deno.version,
    date,
    args,
    runs: options.runs,
    figures: rows.rows,
  };
}

if (import.meta.main) {
  const options = parseOptions(Deno.args);
  const results = await runBench(Deno.args);
  console.log(table(results.figures));
  const { cpu, cores, loadAverage, loadAverageAfter } = results.machine as {
    cpu: string;
    cores: number;
    loadAverage: number[];
    loadAverageAfter: number[];
  };
  console.log(
    `\n${cores} cores of ${cpu}, Deno ${results.deno.deno}, ${results.runs} run(s), load ${
      loadAverage[0].toFixed(1)
    } before, ${
      loadAverageAfter[0].toFixed(1)
    } after; ranges are min-max over runs`,
  );
  await Deno.writeTextFile(
    options.out,
    JSON.stringify(results, null, 2) + "\n",
  );
  console.log(`results written to ${options.out}`);
}
