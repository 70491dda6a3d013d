/**
 * The conformance runner: checks a failover client, in any language, against
 * the documented behaviours (`docs/behaviours.md`).
 *
 * @module
 */
export {
  type Behaviour,
  type BehaviourKind,
  BEHAVIOURS,
  behavioursOf,
  SUITE_NAMES,
  type SuiteName,
} from "./catalogue.ts";
export {
  type ClientCommand,
  type ClientEvent,
  type ClientExit,
  type ClientSession,
  type ClientUnderTest,
  type Endpoints,
  type InProcessClient,
  inProcessClient,
  processClient,
  type ProcessClientOptions,
} from "./client.ts";
export {
  type ConformanceOptions,
  runConformance,
  writeReports,
} from "./runner.ts";
export type { ConformanceResult, Progress, ScenarioResult } from "./result.ts";
export { defaultJobs, schedule, type ScheduleOptions } from "./schedule.ts";
export {
  DEFAULT_TIMING,
  type Evidence,
  FRONTS_IN,
  type FrontsIn,
  type ObservedJournal,
  type Scenario,
  ScenarioContext,
  type Status,
  type TimelineEntry,
  type Timing,
  type Verdict,
} from "./scenario.ts";
export { referenceClients } from "./reference.ts";
