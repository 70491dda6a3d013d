/**
 * A timed lab run: start the topology, run its chaos plan for a while, stop,
 * read the failover figures from every journal, check the file's
 * expectations, and hand back the report (JSON-ready; `report.ts` writes it
 * as JSON, HTML and JUnit XML). Stopped early (Ctrl-C), it still reports
 * what it saw, marked incomplete.
 *
 * @example From a test
 * ```ts ignore
 * import { runLab } from "./lab_run.ts";
 * const report = await runLab(topology, { runMs: 3000, anyPort: true });
 * console.log(report.exitCode, report.figures.totals);
 * ```
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };
import type { JournalEvent } from "../core/journal/journal.ts";
import {
  checkExpectations,
  type ExpectationResult,
  type Expectations,
} from "./expectations.ts";
import { analyseFailovers, type FailoverAnalysis } from "./figures.ts";
import { Lab, type LabOptions } from "./start_lab.ts";
import { planOutOfRun, type ResolvedStep } from "./plan.ts";
import { type Topology, TopologyError } from "./topology.ts";

/** Options for {@linkcode startLabRun} and {@linkcode runLab}. */
export interface LabRunOptions
  extends Omit<LabOptions, "signal" | "plan" | "traffic"> {
  /** How long to run, in ms. */
  runMs: number;
  /** Stops the run early when aborted; the report is marked incomplete. */
  signal?: AbortSignal;
  /** The most events kept per journal beyond its ring (default 200,000). */
  maxEvents?: number;
}

/** Versions of what made a report. */
export interface LabRunVersions {
  /** The toolkit's version (deno.json). */
  toolkit: string;
  /** Deno's. */
  deno: string;
  /** V8's. */
  v8: string;
  /** TypeScript's. */
  typescript: string;
}

/** What a run found: everything the report files hold. */
export interface LabRunReport {
  /** The topology's name. */
  name: string | null;
  /** Where the topology came from. */
  source: string | null;
  /** The run seed: the same seed gives the same plan times. */
  seed: number;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  /** How long it was to run, ms. */
  runMs: number;
  /** How long it ran, ms. */
  durationMs: number;
  /** True when it was stopped before `runMs` (Ctrl-C). */
  incomplete: boolean;
  /** The plan with its drawn times. */
  plan: readonly ResolvedStep[];
  /** The expectations of the file. */
  expect: Expectations;
  /** Each expectation's verdict. */
  expectations: ExpectationResult[];
  /** The failover figures. */
  figures: FailoverAnalysis;
  /** Versions. */
  versions: LabRunVersions;
  /** 0 every expectation held, 1 one failed, 130 stopped early with none failed. */
  exitCode: 0 | 1 | 130;
}

/** A run under way. */
export interface LabRun {
  /** The running lab. */
  readonly lab: Lab;
  /** Resolves with the report once the run has ended and the lab closed. */
  readonly finished: Promise<LabRunReport>;
  /** Ends the run now (incomplete); resolves with the report. */
  stop(): Promise<LabRunReport>;
}

/** The versions a report records. */
function labVersions(): LabRunVersions {
  return {
    toolkit: String((denoJson as { version?: string }).version ?? "0"),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };
}

/**
 * Checks that the plan fits in the run: a {@linkcode TopologyError} naming
 * each step that would start at or after the end.
 */
function checkPlanFits(topology: Topology, runMs: number): void {
  const issues = planOutOfRun(topology.plan ?? [], runMs).map((issue) => ({
    path: `plan[${issue.path[0]}].${issue.path[1]}`,
    message: issue.message,
  }));
  if (issues.length > 0) {
    throw new TopologyError(
      `Invalid plan: ${
        issues.map((i) => `${i.path}: ${i.message}`).join("; ")
      }`,
      issues,
    );
  }
}

/**
 * Starts a run: the lab, its traffic and its plan. Throws a
 * {@linkcode TopologyError} before anything starts when the plan does not
 * fit in the run.
 */
export async function startLabRun(
  topology: Topology,
  options: LabRunOptions,
): Promise<LabRun> {
  if (!(options.runMs > 0)) {
    throw new RangeError(
      `Cannot run for ${options.runMs} ms: expected more than 0`,
    );
  }
  checkPlanFits(topology, options.runMs);
  const maxEvents = options.maxEvents ?? 200_000;
  const lab = new Lab(topology, { ...options, traffic: true, plan: false });
  const startedAt = new Date().toISOString();
  await lab.start();
  // Keep every event beyond the journals' rings.
  const recorded = new Map<string, JournalEvent[]>();
  const unsubscribes = lab.journals().map((journal) => {
    const list: JournalEvent[] = [];
    recorded.set(journal.server, list);
    return journal.subscribe((event) => {
      if (list.length < maxEvents) list.push(event);
    });
  });
  const plan = lab.startPlan();
  const origin = plan?.startedAt ?? performance.now();

  let ending: Promise<LabRunReport> | undefined;
  const report = Promise.withResolvers<LabRunReport>();
  const end = (incomplete: boolean) =>
    ending ??= (async () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const until = performance.now();
      lab.planRun?.stop();
      await lab.stopTraffic();
      const journals = lab.journals();
      await lab.close();
      for (const unsubscribe of unsubscribes) unsubscribe();
      const events = journals.map((journal) => {
        const bySeq = new Map<number, JournalEvent>();
        for (const event of journal.events()) bySeq.set(event.seq, event);
        for (const event of recorded.get(journal.server) ?? []) {
          bySeq.set(event.seq, event);
        }
        return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      });
      const figures = analyseFailovers(events, { origin, until });
      const expect = topology.expect ?? {};
      const expectations = checkExpectations(figures, expect, {
        incomplete,
      });
      const failed = expectations.some((e) => e.status === "fail");
      return {
        name: topology.name ?? null,
        source: options.source ?? null,
        seed: lab.seed,
        startedAt,
        runMs: options.runMs,
        durationMs: Math.round(until - origin),
        incomplete,
        plan: lab.plan,
        expect,
        expectations,
        figures,
        versions: labVersions(),
        exitCode: failed ? 1 : incomplete ? 130 : 0,
      } satisfies LabRunReport;
    })().then((done) => {
      report.resolve(done);
      return done;
    }, (error) => {
      report.reject(error);
      throw error;
    });
  const timer = setTimeout(
    () => void end(false).catch(() => {}),
    options.runMs,
  );
  const onAbort = () => void end(true).catch(() => {});
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  return { lab, finished: report.promise, stop: () => end(true) };
}

/**
 * Runs a topology for `runMs` and returns the report (see
 * {@linkcode startLabRun}).
 */
export async function runLab(
  topology: Topology,
  options: LabRunOptions,
): Promise<LabRunReport> {
  const run = await startLabRun(topology, options);
  return await run.finished;
}
