/**
 * The JUnit XML report, so CI systems show each behaviour as a test case.
 * A fail is a `<failure>`; not observable is `<skipped>` with the reason.
 *
 * @module
 */
import type { ConformanceResult } from "./result.ts";

function escape(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) =>
      ({
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        '"': "&quot;",
        "'": "&apos;",
      })[
        c
      ]!,
  );
}

/** The run as JUnit XML. */
export function junitReport(result: ConformanceResult): string {
  const suites = [...new Set(result.results.map((r) => r.suite))];
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="failover-toolkit conformance" tests="${result.results.length}" failures="${result.counts.fail}" skipped="${result.counts.not_observable}" time="${
      (result.durationMs / 1000).toFixed(3)
    }">`,
  );
  for (const suite of suites) {
    const cases = result.results.filter((r) => r.suite === suite);
    const failures = cases.filter((r) => r.status === "fail").length;
    const skipped = cases.filter((r) => r.status === "not_observable").length;
    out.push(
      `  <testsuite name="${suite}" tests="${cases.length}" failures="${failures}" skipped="${skipped}">`,
      `    <properties><property name="seed" value="${result.seed}"/></properties>`,
    );
    for (const r of cases) {
      const evidence = r.evidence.map((e) =>
        `${e.at.toFixed(0)} ms ${e.source}: ${e.text}`
      ).join("\n");
      out.push(
        `    <testcase classname="${suite}.${r.kind}" name="${
          escape(`${r.id} ${r.text}`)
        }" time="${(r.durationMs / 1000).toFixed(3)}">`,
      );
      if (r.status === "fail") {
        out.push(
          `      <failure message="${escape(r.summary)}">${
            escape(evidence)
          }</failure>`,
        );
      } else if (r.status === "not_observable") {
        out.push(`      <skipped message="${escape(r.summary)}"/>`);
      }
      if (r.stderr) {
        out.push(`      <system-err>${escape(r.stderr)}</system-err>`);
      }
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}
