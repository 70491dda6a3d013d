/**
 * The plain-text report: one line per behaviour, the sentence for each
 * failure, its evidence, and the totals.
 *
 * @module
 */
import type { ConformanceResult, Progress, ScenarioResult } from "./result.ts";

const MARK = { pass: "PASS", fail: "FAIL", not_observable: "N/O " } as const;

/** One progress line, for the terminal while a run goes. */
export function progressLine(progress: Progress): string | undefined {
  if (progress.type === "start") return undefined;
  const { result, done, total } = progress;
  return `[${String(done).padStart(String(total).length)}/${total}] ${
    MARK[result.status]
  } ${result.id.padEnd(5)} ${result.summary} (${
    Math.round(result.durationMs)
  } ms)`;
}

function evidenceLines(result: ScenarioResult, limit: number): string[] {
  return result.evidence.slice(0, limit).map((e) =>
    `        ${e.at.toFixed(0).padStart(6)} ms  ${e.source.padEnd(8)} ${e.text}`
  );
}

/** The whole report as text. */
export function textReport(
  result: ConformanceResult,
  options: { evidence?: number } = {},
): string {
  const lines = [
    `conformance suite=${result.suite}${
      result.codec && result.codec !== "line-json"
        ? ` codec=${result.codec}`
        : ""
    } seed=${result.seed} client=${result.client}`,
    "",
  ];
  for (const kind of ["documented", "interpretation"] as const) {
    const group = result.results.filter((r) => r.kind === kind);
    if (group.length === 0) continue;
    lines.push(`${kind} behaviours:`);
    for (const r of group) {
      lines.push(`  ${MARK[r.status]} ${r.id.padEnd(5)} ${r.summary}`);
      if (r.status !== "pass") {
        lines.push(...evidenceLines(r, options.evidence ?? 12));
      }
    }
    lines.push("");
  }
  const { pass, fail, not_observable } = result.counts;
  lines.push(
    `${pass} passed, ${fail} failed, ${not_observable} not observable (${
      (result.durationMs / 1000).toFixed(1)
    } s, ${
      result.jobs !== undefined ? `${result.jobs} at once, ` : ""
    }seed ${result.seed})`,
  );
  return lines.join("\n");
}
