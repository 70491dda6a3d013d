/**
 * The lab command: a whole topology in one command. Starts every server of a
 * topology file with its faults in force before the first connection, the
 * reference clients as traffic, one admin API and the dashboard; runs the
 * file's chaos plan live. With `--run 60s --report DIR` it runs the plan for
 * that long, stops, writes the report (JSON, HTML, JUnit XML) and exits 0
 * when every expectation of the file held, 1 when one failed.
 *
 * This module also re-exports the lab's library as it was before the split
 * (`startLab`, `Lab`, `createLabApp` and the `Lab*` types); timed runs are in
 * `lab_run.ts`, the figures in `figures.ts`, everything in `mod.ts`.
 *
 * @example Start the demo lab
 * ```sh
 * deno run -A lab/lab.ts                 # lab/demo.json
 * deno run -A lab/lab.ts my-lab.json     # your own topology
 * deno run -A lab/lab.ts lab/examples/tracker-plan.json --run 10s --report reports/tracker
 * ```
 *
 * @example From a test
 * ```ts ignore
 * import { startLab } from "./lab.ts";
 * import { parseTopology } from "./topology.ts";
 * await using lab = await startLab(
 *   parseTopology({ servers: { primary: { kind: "primary" } } }),
 *   { anyPort: true, traffic: false },
 * );
 * console.log(lab.url);
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  CliError,
  flag,
  parseInteger,
  parsePort,
  runCli,
  runCommand,
} from "../core/cli/cli.ts";
import { type LabRun, startLabRun } from "./lab_run.ts";
import { writeLabReport } from "./lab_report.ts";
import { startLab } from "./start_lab.ts";
import { loadTopology, type Topology, TopologyError } from "./topology.ts";
import { parseDuration } from "../core/units/units.ts";

export * from "./mod.ts";
import { joinHostPort } from "../core/net/host_port.ts";

const LAB_FLAGS = {
  host: {
    type: "string" as const,
    value: "HOST",
    default: "the file's admin.hostname, else 127.0.0.1",
    description: "Host of the dashboard and admin API",
  },
  port: {
    type: "string" as const,
    value: "PORT",
    default: "the file's admin.port, else 7100",
    description: "Port of the dashboard and admin API; 0 picks a free one",
  },
  seed: {
    type: "string" as const,
    value: "N",
    default: "the file's seed, else random, printed",
    description: "Run seed (0..4294967295)",
  },
  "no-traffic": {
    type: "boolean" as const,
    description: "Do not start the traffic clients (start them from /lab)",
  },
  "any-port": {
    type: "boolean" as const,
    description: "Bind every server on a free port instead of the file's",
  },
  run: {
    type: "string" as const,
    value: "DURATION",
    description:
      "Run the file's plan for this long (60s, 2m), stop, report, and exit 0 when every expectation held, 1 when one failed",
  },
  report: {
    type: "string" as const,
    value: "DIR",
    description:
      "With --run: write report.json, report.html and report.xml (JUnit) here",
  },
  help: { type: "boolean" as const, description: "Show this help and exit" },
};

/** Splits the topology file (the one positional argument) from the flags. */
function splitFile(args: string[]): { file?: string; flags: string[] } {
  const { tokens } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.entries(LAB_FLAGS).map((
        [name, def],
      ) => [name, { type: def.type }]),
    ),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals = tokens.filter((token) => token.kind === "positional");
  if (positionals.length > 1) {
    throw new CliError(
      `Unexpected argument "${positionals[1].value}": give one topology file`,
    );
  }
  const at = positionals[0]?.index;
  return {
    file: positionals[0]?.value,
    flags: args.filter((_, i) => i !== at),
  };
}

/**
 * Runs the lab's command line: `deno run -A lab/lab.ts [file.json] [flags]`.
 * Prints `lab dashboard=http://127.0.0.1:7100 seed=N topology=FILE
 * servers=a,b clients=c,d`, then one line per server.
 */
export async function main(args: string[]): Promise<void> {
  let split: { file?: string; flags: string[] };
  try {
    split = splitFile(args);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(2);
  }
  const file = split.file;
  let exitCode = 0;
  await runCli(split.flags, {
    usage: `${runCommand("lab/lab.ts")} [TOPOLOGY.json] [flags]`,
    summary:
      "Starts a lab from a topology file (default: lab/demo.json): every server with its faults, the reference clients as traffic, one admin API and the dashboard.",
    sections: [["Flags", LAB_FLAGS]],
    async start(values) {
      const source = file ??
        new URL("./demo.json", import.meta.url).pathname;
      const shown = file ?? "lab/demo.json";
      let topology: Topology;
      try {
        topology = await loadTopology(source);
      } catch (error) {
        if (error instanceof TopologyError) throw new CliError(error.message);
        throw error;
      }
      const labOptions = {
        hostname: values.host as string | undefined,
        port: flag(values, "port", parsePort),
        seed: flag(values, "seed", parseInteger(0, 0xffffffff)),
        anyPort: values["any-port"] === true,
        source: shown,
      };
      const runMs = flag(values, "run", parseDuration);
      const reportDir = values.report as string | undefined;
      if (reportDir !== undefined && runMs === undefined) {
        throw new CliError("Cannot use --report without --run: give both");
      }
      if (runMs !== undefined && values["no-traffic"]) {
        throw new CliError(
          "Cannot use --no-traffic with --run: a run needs traffic",
        );
      }
      let run: LabRun | undefined;
      try {
        if (runMs !== undefined) {
          run = await startLabRun(topology, { ...labOptions, runMs });
        }
      } catch (error) {
        if (error instanceof TopologyError || error instanceof RangeError) {
          throw new CliError(error.message);
        }
        throw portHint(error);
      }
      const lab = run?.lab ?? await startLab(topology, {
        ...labOptions,
        traffic: values["no-traffic"] ? false : undefined,
      }).catch((error) => {
        throw portHint(error);
      });
      const plan = lab.plan.length
        ? ` plan=${lab.plan.length} step(s)${
          runMs !== undefined ? ` run=${runMs}ms` : ""
        }`
        : runMs !== undefined
        ? ` run=${runMs}ms`
        : "";
      const lines = [
        `lab dashboard=${lab.url} seed=${lab.seed} topology=${shown} servers=${
          [...lab.servers.keys()].join(",")
        } clients=${
          Object.keys(topology.clients ?? {}).join(",") || "-"
        }${plan}`,
        ...lab.summaries().map((server) =>
          `  ${server.name} ${server.kind} ${
            server.addresses.map((a) =>
              `${a.label ? `${a.label}@` : ""}${
                joinHostPort(a.hostname, a.port)
              }`
            ).join(",")
          } admin=${lab.url}${server.admin}`
        ),
      ];
      if (!run) {
        return {
          line: lines.join("\n"),
          finished: lab.finished,
          close: async () => {
            await lab.close();
            console.log("lab stopped");
          },
        };
      }
      const labRun = run;
      const finish = async () => {
        const report = await labRun.stop();
        const failed = report.expectations.filter((e) => e.status === "fail");
        for (const e of report.expectations) {
          const mark = { pass: "ok  ", fail: "FAIL", not_observable: "n/o " }[
            e.status
          ];
          console.log(`  ${mark} ${e.name}: ${e.summary}`);
        }
        const files = reportDir
          ? await writeLabReport(reportDir, report)
          : undefined;
        console.log(
          `lab stopped${
            report.incomplete ? " early (incomplete)" : ""
          }: ${report.figures.totals.transitions} transition(s), ${
            report.expectations.filter((e) => e.status === "pass").length
          } expectation(s) held, ${failed.length} failed${
            files
              ? `; report=${files.html} json=${files.json} junit=${files.junit}`
              : ""
          }`,
        );
        exitCode = report.exitCode;
      };
      return {
        line: lines.join("\n"),
        finished: labRun.finished.then(() => {}),
        close: finish,
      };
    },
  });
  if (exitCode !== 0) Deno.exit(exitCode);
}

/** An error from a busy port, with the flags that avoid it. */
function portHint(error: unknown): unknown {
  const busy = (e: unknown): boolean =>
    e instanceof Deno.errors.AddrInUse ||
    (e as { code?: string })?.code === "EADDRINUSE" ||
    /EADDRINUSE|address already in use/i.test(String((e as Error)?.message)) ||
    ((e as Error)?.cause !== undefined && busy((e as Error).cause));
  if (!busy(error)) return error;
  return new Error(
    `${
      (error as Error).message
    }: the port is busy; run with --any-port (every server on a free port) and --port 0 (the dashboard on a free one), or free the port`,
  );
}

if (import.meta.main) await main(Deno.args);
