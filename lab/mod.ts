/**
 * The lab: servers, clients and faults from a topology file, its dashboard
 * and admin API, timed plans, runs and their reports.
 *
 * @module
 */
export {
  DEFAULT_EVERY_MS,
  Lab,
  type LabOptions,
  startLab,
} from "./start_lab.ts";
export { createLabApp, type LabAppHost } from "./lab_app.ts";
export type {
  LabAddress,
  LabClientSummary,
  LabCounter,
  LabFaultTarget,
  LabServer,
  LabServerSummary,
  LabSwitch,
  LabTraffic,
} from "./types.ts";
export {
  LAB_PORT,
  loadTopology,
  parseTopology,
  type Topology,
  type TopologyEntry,
  TopologyError,
  type TopologyIssue,
} from "./topology.ts";
export {
  type LabRun,
  type LabRunOptions,
  type LabRunReport,
  type LabRunVersions,
  runLab,
  startLabRun,
} from "./lab_run.ts";
export {
  analyseFailovers,
  type ClientFigures,
  type ClientSwitch,
  type ClientTotals,
  type FailoverAnalysis,
  type FailoverConnection,
  type FailoverOptions,
  type FailoverTransition,
  type FaultSpan,
  journalLine,
  type JournalSource,
  OUTAGE_FAULTS,
  type SourceSeries,
} from "./figures.ts";
export {
  checkExpectations,
  type ExpectationResult,
  type Expectations,
  type Limit,
} from "./expectations.ts";
export {
  MAX_PLAN_MS,
  type PlanIssue,
  type PlanStep,
  type PlanToxic,
  type ResolvedStep,
  resolvePlan,
} from "./plan.ts";
export { type ChartOptions, chartSvg } from "./chart.ts";
export {
  type LabReportFiles,
  labReportHtml,
  labReportJunit,
  writeLabReport,
} from "./lab_report.ts";
export type { PlanRun } from "./plan_runner.ts";
