/**
 * The conformance runner: checks a client, in any language, against the
 * documented behaviours, and says which hold, with evidence.
 *
 * ```sh
 * deno task conformance --suite two-servers \
 *   --client "python3 my_tracker.py --ip1 {ip1} --port1 {port1} --ip2 {ip2} --port2 {port2} --mirror" \
 *   --ack-timeout 300ms
 * ```
 *
 * Exit code: 0 when every check passes, 1 when one fails, 2 when none fails
 * but some could not be observed.
 *
 * @module
 */
import {
  CliError,
  denoCommand,
  flag,
  type FlagTable,
  type FlagValues,
  helpText,
  parseFlags,
  parseInteger,
} from "../core/cli/cli.ts";
import { CODEC_NAMES } from "../core/codecs/create_codec.ts";
import { randomSeed } from "../core/faults/random.ts";
import { parseDuration } from "../core/units/units.ts";
import { MESSAGE_STORE_SPECS } from "../servers/message_store_open.ts";
import {
  type Behaviour,
  behaviour,
  behavioursOf,
  SUITE_NAMES,
  type SuiteName,
} from "./catalogue.ts";
import { type ClientUnderTest, processClient } from "./client.ts";
import { htmlReport } from "./report_html.ts";
import { junitReport } from "./report_junit.ts";
import { progressLine, textReport } from "./report_text.ts";
import type { ConformanceResult, Progress, ScenarioResult } from "./result.ts";
import {
  DEFAULT_TIMING,
  FRONTS_IN,
  type FrontsIn,
  type Scenario,
  ScenarioContext,
  type Status,
  type Timing,
} from "./scenario.ts";
import { defaultJobs, schedule } from "./schedule.ts";
import { SCENARIOS } from "./suites/mod.ts";

export type { ConformanceResult, Progress, ScenarioResult } from "./result.ts";

/** Options for {@linkcode runConformance}. */
export interface ConformanceOptions {
  /** The suite, or `all`. */
  suite: SuiteName | "all";
  /** The client to check; for `all`, one per suite may be given in `clients`. */
  client?: ClientUnderTest;
  /** A client per suite (overrides `client` for that suite). */
  clients?: Partial<Record<SuiteName, ClientUnderTest>>;
  /** Only these behaviour IDs. */
  only?: string[];
  /** The run seed (default: random, reported). */
  seed?: number;
  /** The client's timing, as far as the checks need it. */
  timing?: Partial<Timing>;
  /**
   * The servers' wire codec (default `line-json`; `ruptela`, `teltonika`,
   * `length-prefixed`): two-servers and failover suites only. Scenarios see
   * it as `ctx.codec`, a client template as `{codec}`.
   */
  codec?: string;
  /**
   * The agent suite's shared message store: `memory` (default) or a
   * PostgreSQL URL, under which each scenario gets a scratch database of its
   * own (the URL's user needs CREATEDB). Scenarios see it as `ctx.store`.
   */
  store?: string;
  /**
   * Where the agent suite's message-store fronts run: `runner` (default, in
   * this process) or `processes` (each front a `servers/message_store.ts`
   * process of its own, driven through its admin API; needs a PostgreSQL
   * `store`, which the processes share). Scenarios see it as `ctx.frontsIn`.
   */
  frontsIn?: FrontsIn;
  /** How long one scenario may take (default 30 s, or more for slow timing). */
  scenarioTimeoutMs?: number;
  /**
   * How many scenarios run at once (default {@linkcode defaultJobs}: two per
   * core, one at a time for a client run as a process). Each scenario has servers of its own; scenarios that name the same
   * resource in `shares` never overlap. 1 runs them one after another.
   */
  jobs?: number;
  /** Called as the run goes. */
  onProgress?: (progress: Progress) => void;
  /** The scenarios (default: the built-in ones). */
  scenarios?: readonly Scenario[];
}

/** The suites whose scenarios run over any codec. */
const CODEC_SUITES: readonly SuiteName[] = ["two-servers", "failover"];

/** Why `codec` cannot be used for these behaviours, or `undefined` if it can. */
function codecProblem(
  codec: string,
  behaviours: readonly Behaviour[],
): string | undefined {
  if (!CODEC_NAMES.includes(codec)) {
    return `Cannot use codec "${codec}": expected one of ${
      CODEC_NAMES.join(", ")
    }`;
  }
  const other = behaviours.find((b) => !CODEC_SUITES.includes(b.suite));
  if (codec !== "line-json" && other) {
    return `Cannot run ${other.id} over codec ${codec}: the ${other.suite} suite speaks line-json only; other codecs apply to the ${
      CODEC_SUITES.join(" and ")
    } suites`;
  }
  return undefined;
}

/** Whether a `store` is a PostgreSQL URL. */
function isPostgres(store: string): boolean {
  return /^postgres(ql)?:\/\//i.test(store);
}

/** Why the fronts cannot run `frontsIn` over `store`, or `undefined` if they can. */
function frontsInProblem(
  frontsIn: string,
  store: string,
): string | undefined {
  if (!FRONTS_IN.includes(frontsIn as FrontsIn)) {
    return `Cannot run the fronts in "${frontsIn}": expected ${
      FRONTS_IN.join(" or ")
    }`;
  }
  if (frontsIn === "processes" && !isPostgres(store)) {
    return `Cannot run the fronts in processes over ${
      store === "memory" ? "the memory store" : "that store"
    }: processes share only a PostgreSQL store; give a postgres:// URL as the store`;
  }
  return undefined;
}

function countOf(results: ScenarioResult[]): Record<Status, number> {
  const counts: Record<Status, number> = {
    pass: 0,
    fail: 0,
    not_observable: 0,
  };
  for (const result of results) counts[result.status]++;
  return counts;
}

/**
 * Runs the checks of a suite against a client, one scenario per behaviour,
 * each with its own servers, and returns the verdicts.
 *
 * @example Usage
 * ```ts ignore
 * import { runConformance } from "./runner.ts";
 * import { processClient } from "./client.ts";
 * const result = await runConformance({
 *   suite: "two-servers",
 *   client: processClient("python3 tracker.py {ip1} {port1} {ip2} {port2}"),
 * });
 * console.log(result.counts);
 * ```
 */
export async function runConformance(
  options: ConformanceOptions,
): Promise<ConformanceResult> {
  const seed = options.seed ?? randomSeed();
  const timing: Timing = { ...DEFAULT_TIMING, ...options.timing };
  const scenarios = options.scenarios ?? SCENARIOS;
  const only = options.only?.map((id) => behaviour(id).id);
  const wanted = behavioursOf(options.suite).filter((b) =>
    !only || only.includes(b.id)
  );
  if (wanted.length === 0) {
    throw new RangeError(
      `Cannot run: no behaviour of suite ${options.suite} matches --only ${
        options.only?.join(",")
      }`,
    );
  }
  const codec = options.codec ?? "line-json";
  const problem = codecProblem(codec, wanted);
  if (problem) throw new RangeError(problem);
  const store = options.store ?? "memory";
  const frontsIn = options.frontsIn ?? "runner";
  const where = frontsInProblem(frontsIn, store);
  if (where) throw new RangeError(where);
  const slowest = Math.max(
    timing.ackTimeoutMs * (timing.resends + 2),
    timing.watchdogTimeoutMs,
    timing.retryMs,
    timing.failoverDelayMs * (timing.failoverRetries + 1),
    timing.connectTimeoutMs,
  );
  const timeoutMs = options.scenarioTimeoutMs ?? Math.max(30_000, slowest * 40);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const clientOf = (b: Behaviour): ClientUnderTest => {
    const client = options.clients?.[b.suite] ?? options.client;
    if (!client) {
      throw new RangeError(
        `Cannot run ${b.id}: no client for suite ${b.suite}`,
      );
    }
    return client;
  };
  const processes = wanted.some((b) => clientOf(b).startsProcess === true);
  const jobs = options.jobs ?? defaultJobs({ processes });
  let done = 0;
  const results = await schedule(wanted, {
    jobs,
    shares: (b) => scenarios.find((s) => s.id === b.id)?.shares,
  }, async (b, index) => {
    options.onProgress?.({
      type: "start",
      id: b.id,
      index,
      total: wanted.length,
    });
    const result = await runOne(b, clientOf(b), scenarios, {
      seed,
      timing,
      timeoutMs,
      codec,
      store,
      frontsIn,
    });
    options.onProgress?.({
      type: "done",
      result,
      index,
      total: wanted.length,
      done: ++done,
    });
    return result;
  });
  const counts = countOf(results);
  return {
    suite: options.suite,
    client: options.client?.name ??
      Object.values(options.clients ?? {}).map((c) => c!.name).join(", "),
    seed,
    codec,
    timing,
    startedAt,
    durationMs: performance.now() - started,
    jobs,
    results,
    counts,
    exitCode: counts.fail > 0 ? 1 : counts.not_observable > 0 ? 2 : 0,
  };
}

async function runOne(
  b: Behaviour,
  client: ClientUnderTest,
  scenarios: readonly Scenario[],
  options: {
    seed: number;
    timing: Timing;
    timeoutMs: number;
    codec: string;
    store: string;
    frontsIn: FrontsIn;
  },
): Promise<ScenarioResult> {
  const started = performance.now();
  const scenario = scenarios.find((s) => s.id === b.id);
  const base = { id: b.id, suite: b.suite, kind: b.kind, text: b.text };
  if (!scenario) {
    return {
      ...base,
      status: "not_observable",
      summary: `Cannot judge: no scenario checks ${b.id} yet`,
      evidence: [],
      timeline: [],
      durationMs: 0,
      stderr: "",
      otherOutput: [],
    };
  }
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new Error(`Scenario ran out of time (${options.timeoutMs} ms)`),
      ),
    options.timeoutMs,
  );
  const ctx = new ScenarioContext(b, client, {
    seed: options.seed,
    timing: options.timing,
    signal: controller.signal,
    codec: options.codec,
    store: options.store,
    frontsIn: options.frontsIn,
  });
  let verdict;
  try {
    verdict = await scenario.run(ctx);
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    verdict = ctx.fail(
      `the scenario of ${b.id} to run to its end`,
      `it stopped: ${message}`,
    );
  } finally {
    clearTimeout(timer);
  }
  const exit = await ctx.finish();
  return {
    ...base,
    ...verdict,
    timeline: ctx.timeline(),
    durationMs: performance.now() - started,
    stderr: exit.stderr,
    otherOutput: exit.otherOutput,
  };
}

/** The flags of `deno task conformance`. */
export const CONFORMANCE_FLAGS: FlagTable = {
  suite: {
    type: "string",
    value: "NAME",
    description: `Suite to run: ${SUITE_NAMES.join(", ")}`,
  },
  client: {
    type: "string",
    value: "COMMAND",
    description:
      "Command template of the client under test, with {placeholders} (see docs/conformance.md)",
  },
  reference: {
    type: "boolean",
    description: "Check the reference clients, in this process",
  },
  only: {
    type: "string",
    value: "ID",
    multiple: true,
    description: "Only these behaviour IDs (TS-4, or TS-4,TS-5)",
  },
  seed: {
    type: "string",
    value: "N",
    default: "random, printed",
    description: "Run seed: the same seed gives the same fault pattern",
  },
  codec: {
    type: "string",
    value: "NAME",
    default: "line-json",
    description: `The servers' wire codec, two-servers and failover suites (${
      CODEC_NAMES.join(", ")
    }); the {codec} placeholder`,
  },
  store: {
    type: "string",
    value: "STORE",
    default: "memory",
    description:
      "The agent suite's shared message store: memory, or a postgres:// URL (a scratch database per scenario)",
  },
  "fronts-in": {
    type: "string",
    value: "WHERE",
    default: "runner",
    description:
      "Where the agent suite's message-store fronts run: runner (this process) or processes (one servers/message_store.ts process per front, driven through its admin API; needs --store postgres://...)",
  },
  report: {
    type: "string",
    value: "DIR",
    description:
      "Write report.txt, report.json, report.xml (JUnit) and report.html here",
  },
  "ack-timeout": {
    type: "string",
    value: "DURATION",
    default: "300ms",
    description: "The client's ACK timeout (TS, FO)",
  },
  resends: {
    type: "string",
    value: "N",
    default: "0",
    description: "The client's resends before switching server (FO)",
  },
  "reconnect-delay": {
    type: "string",
    value: "DURATION",
    default: "100ms",
    description: "The client's delay before reconnecting",
  },
  "watchdog-period": {
    type: "string",
    value: "DURATION",
    default: "100ms",
    description: "The client's watchdog period (DC)",
  },
  "watchdog-timeout": {
    type: "string",
    value: "DURATION",
    default: "400ms",
    description: "The client's watchdog timeout (DC)",
  },
  retry: {
    type: "string",
    value: "DURATION",
    default: "200ms",
    description: "The client's retry period for a broken channel (DC)",
  },
  fr: {
    type: "string",
    value: "N",
    default: "0",
    description: "The agent's -fr: retries of the primary (QA)",
  },
  fd: {
    type: "string",
    value: "DURATION",
    default: "100ms",
    description: "The agent's -fd: delay between retries of the primary (QA)",
  },
  "connect-timeout": {
    type: "string",
    value: "DURATION",
    default: "500ms",
    description: "The client's connect timeout",
  },
  jobs: {
    type: "string",
    value: "N",
    default: "2 per core; 1 with --client",
    description:
      "Scenarios run at once (each has servers of its own); 1 runs them one by one",
  },
  "scenario-timeout": {
    type: "string",
    value: "DURATION",
    default: "30s or 40x the slowest timing",
    description: "Most time one scenario may take",
  },
  help: { type: "boolean", description: "Show this help and exit" },
};

/** Writes the four reports of a run into a folder. */
export async function writeReports(
  dir: string,
  result: ConformanceResult,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/report.txt`, textReport(result) + "\n");
  await Deno.writeTextFile(
    `${dir}/report.json`,
    JSON.stringify(result, null, 2) + "\n",
  );
  await Deno.writeTextFile(`${dir}/report.xml`, junitReport(result));
  await Deno.writeTextFile(`${dir}/report.html`, htmlReport(result));
}

/** Runs `deno task conformance`. */
export async function main(args: string[]): Promise<void> {
  let values: FlagValues;
  const help = helpText(
    `${denoCommand()} task conformance --suite NAME (--client COMMAND | --reference) [flags]`,
    "Checks a failover client against the documented behaviours (docs/behaviours.md): pass, fail or not observable per behaviour ID, with evidence. Exit 0 all pass, 1 a fail, 2 nothing failed but something was not observable, 3 a bad command line.",
    [["Flags", CONFORMANCE_FLAGS]],
  );
  let options: ConformanceOptions;
  let reportDir: string | undefined;
  try {
    values = parseFlags(args, CONFORMANCE_FLAGS);
    if (values.help) {
      console.log(help);
      return;
    }
    const suite = values.suite as string | undefined;
    if (!suite || !SUITE_NAMES.includes(suite as SuiteName)) {
      throw new CliError(
        `Invalid --suite "${suite ?? ""}": expected one of ${
          SUITE_NAMES.join(", ")
        }`,
      );
    }
    if (!values.client === !values.reference) {
      throw new CliError("Give either --client COMMAND or --reference");
    }
    const ms = (name: string) => flag(values, name, parseDuration);
    const count = (name: string) => flag(values, name, parseInteger(0, 1000));
    const timing: Partial<Timing> = Object.fromEntries(
      Object.entries({
        ackTimeoutMs: ms("ack-timeout"),
        resends: count("resends"),
        reconnectDelayMs: ms("reconnect-delay"),
        watchdogPeriodMs: ms("watchdog-period"),
        watchdogTimeoutMs: ms("watchdog-timeout"),
        retryMs: ms("retry"),
        failoverRetries: count("fr"),
        failoverDelayMs: ms("fd"),
        connectTimeoutMs: ms("connect-timeout"),
      }).filter(([, v]) => v !== undefined),
    );
    const only = (values.only as string[] | undefined)?.flatMap((v) =>
      v.split(",")
    );
    for (const id of only ?? []) {
      try {
        behaviour(id);
      } catch (error) {
        throw new CliError(`Invalid --only: ${(error as Error).message}`);
      }
    }
    const codec = (values.codec as string | undefined) ?? "line-json";
    const problem = codecProblem(
      codec,
      behavioursOf(suite as SuiteName | "all").filter((b) =>
        !only || only.some((id) => behaviour(id).id === b.id)
      ),
    );
    if (problem) throw new CliError(`Invalid --codec: ${problem}`);
    const store = values.store as string | undefined;
    if (store !== undefined && store !== "memory" && !isPostgres(store)) {
      throw new CliError(
        // A URL is not echoed: it may hold a password.
        `Invalid --store${
          store.includes("://") ? "" : ` "${store}"`
        }: expected ${MESSAGE_STORE_SPECS}`,
      );
    }
    const frontsIn = values["fronts-in"] as string | undefined;
    const where = frontsIn === undefined
      ? undefined
      : frontsInProblem(frontsIn, store ?? "memory");
    if (where) throw new CliError(`Invalid --fronts-in: ${where}`);
    options = {
      suite: suite as SuiteName | "all",
      seed: flag(values, "seed", parseInteger(0, 0xffffffff)) ?? randomSeed(),
      timing,
      only,
      codec,
      store,
      frontsIn: frontsIn as FrontsIn | undefined,
      scenarioTimeoutMs: ms("scenario-timeout"),
      jobs: flag(values, "jobs", parseInteger(1, 256)),
      ...(values.reference
        ? { clients: (await import("./reference.ts")).referenceClients() }
        : { client: processClient(values.client as string) }),
      onProgress: (progress) => {
        const line = progressLine(progress);
        if (line) console.log(line);
      },
    };
    reportDir = values.report as string | undefined;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    console.error("Run with --help to see every flag.");
    // Not 2: that means "nothing failed, something was not observable".
    Deno.exit(3);
  }
  console.log(
    `conformance: suite ${options.suite}, ${
      options.codec === "line-json" ? "" : `codec ${options.codec}, `
    }seed ${options.seed ?? "(random)"}`,
  );
  const result = await runConformance(options);
  console.log("\n" + textReport(result));
  if (reportDir) {
    await writeReports(reportDir, result);
    console.log(`reports written to ${reportDir}/report.{txt,json,xml,html}`);
  }
  Deno.exit(result.exitCode);
}

if (import.meta.main) await main(Deno.args);
