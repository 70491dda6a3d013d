/**
 * What a conformance run returns: the result of each scenario and of the
 * whole run, and the progress reported while it goes. The runner makes them;
 * the reports (text, JUnit, HTML) read them.
 *
 * @module
 */
import type { Behaviour, SuiteName } from "./catalogue.ts";
import type { Evidence, Status, TimelineEntry, Timing } from "./scenario.ts";

/** The result of one scenario. */
export interface ScenarioResult {
  /** The behaviour ID. */
  id: string;
  /** Its suite. */
  suite: SuiteName;
  /** documented or interpretation. */
  kind: Behaviour["kind"];
  /** What the behaviour says. */
  text: string;
  /** The verdict. */
  status: Status;
  /** One sentence: what was expected and what happened. */
  summary: string;
  /** What decided it. */
  evidence: Evidence[];
  /** The timeline, for the HTML report. */
  timeline: TimelineEntry[];
  /** How long it took, in ms. */
  durationMs: number;
  /** The client's standard error (processes) or close errors. */
  stderr: string;
  /** Lines of the client's standard output that were not events. */
  otherOutput: string[];
}

/** The result of a run. */
export interface ConformanceResult {
  /** The suite asked for. */
  suite: SuiteName | "all";
  /** The client, by name. */
  client: string;
  /** The run seed: the same seed gives the same fault pattern. */
  seed: number;
  /** The servers' wire codec. */
  codec: string;
  /** The timing the checks assumed. */
  timing: Timing;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  /** How long the run took, in ms. */
  durationMs: number;
  /** How many scenarios ran at once, at most (absent in results made elsewhere). */
  jobs?: number;
  /** One per behaviour checked, in catalogue order. */
  results: ScenarioResult[];
  /** How many of each verdict. */
  counts: Record<Status, number>;
  /** 0 all pass, 1 a fail, 2 none failed but some not observable. */
  exitCode: 0 | 1 | 2;
}

/**
 * Progress while a run goes. With several jobs, scenarios start and end in
 * any order: `index` is the behaviour's place in the run, and `done` counts
 * the scenarios finished so far (this one included).
 */
export type Progress =
  | { type: "start"; id: string; index: number; total: number }
  | {
    type: "done";
    result: ScenarioResult;
    index: number;
    total: number;
    done: number;
  };
