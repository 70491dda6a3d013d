/**
 * The JUnit XML report, so CI systems show each behaviour as a test case.
 * A fail is a `<failure>`; not observable is `<skipped>` with the reason.
 *
 * @module
 */
import type { ConformanceResult } from "./result.ts";

/** Escapes text for XML (and HTML): `<`, `>`, `&`, quotes. */
export function escapeXml(text: string): string {
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

/** One test case of a {@linkcode JunitSuite}. */
export interface JunitCase {
  /** The class name CI groups it by. */
  classname: string;
  /** Its name. */
  name: string;
  /** How long it took, in ms. */
  durationMs: number;
  /** `pass`, `fail` (a `<failure>`) or `skipped`. */
  status: "pass" | "fail" | "skipped";
  /** For a fail or a skip: one sentence. */
  message?: string;
  /** For a fail: the evidence, one line each. */
  details?: string;
  /** Standard error to keep. */
  stderr?: string;
}

/** One `<testsuite>`. */
export interface JunitSuite {
  /** Its name. */
  name: string;
  /** `<property>` entries (the seed). */
  properties: Record<string, string | number>;
  /** Its cases. */
  cases: JunitCase[];
}

/** Writes JUnit XML: `<testsuites>` named `name`, one `<testsuite>` each. */
export function junitXml(
  name: string,
  suites: readonly JunitSuite[],
  durationMs: number,
): string {
  const all = suites.flatMap((suite) => suite.cases);
  const count = (cases: JunitCase[], status: JunitCase["status"]) =>
    cases.filter((c) => c.status === status).length;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${escapeXml(name)}" tests="${all.length}" failures="${
      count(all, "fail")
    }" skipped="${count(all, "skipped")}" time="${
      (durationMs / 1000).toFixed(3)
    }">`,
  );
  for (const suite of suites) {
    out.push(
      `  <testsuite name="${
        escapeXml(suite.name)
      }" tests="${suite.cases.length}" failures="${
        count(suite.cases, "fail")
      }" skipped="${count(suite.cases, "skipped")}">`,
      `    <properties>${
        Object.entries(suite.properties).map(([key, value]) =>
          `<property name="${escapeXml(key)}" value="${
            escapeXml(String(value))
          }"/>`
        ).join("")
      }</properties>`,
    );
    for (const c of suite.cases) {
      out.push(
        `    <testcase classname="${escapeXml(c.classname)}" name="${
          escapeXml(c.name)
        }" time="${(c.durationMs / 1000).toFixed(3)}">`,
      );
      if (c.status === "fail") {
        out.push(
          `      <failure message="${escapeXml(c.message ?? "")}">${
            escapeXml(c.details ?? "")
          }</failure>`,
        );
      } else if (c.status === "skipped") {
        out.push(`      <skipped message="${escapeXml(c.message ?? "")}"/>`);
      }
      if (c.stderr) {
        out.push(`      <system-err>${escapeXml(c.stderr)}</system-err>`);
      }
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

/** The run as JUnit XML. */
export function junitReport(result: ConformanceResult): string {
  const suites = [...new Set(result.results.map((r) => r.suite))];
  return junitXml(
    "failover-toolkit conformance",
    suites.map((suite) => ({
      name: suite,
      properties: { seed: result.seed },
      cases: result.results.filter((r) => r.suite === suite).map((r) => ({
        classname: `${suite}.${r.kind}`,
        name: `${r.id} ${r.text}`,
        durationMs: r.durationMs,
        status: r.status === "not_observable" ? "skipped" : r.status,
        message: r.summary,
        details: r.evidence.map((e) =>
          `${e.at.toFixed(0)} ms ${e.source}: ${e.text}`
        ).join("\n"),
        stderr: r.stderr,
      })),
    })),
    result.durationMs,
  );
}
