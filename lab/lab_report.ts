/**
 * The files of a lab run's report: `report.json` (figures, seed, plan,
 * versions), `report.html` (one self-contained page: a time chart per
 * server or proxy, the transitions table, the expectations with their
 * evidence; no script, no CDN) and `report.xml` (JUnit, one test case per
 * expectation, written as the conformance runner writes it).
 *
 * @module
 */
import { join } from "node:path";
import {
  escapeXml,
  type JunitCase,
  junitXml,
} from "../conformance/report_junit.ts";
import { chartSvg } from "./chart.ts";
import type { LabRunReport } from "./lab_run.ts";

/** The run's expectations as JUnit XML. */
export function labReportJunit(report: LabRunReport): string {
  const cases: JunitCase[] = report.expectations.map((e) => ({
    classname: "lab.expect",
    name: `${e.name} <= ${e.max}`,
    durationMs: 0,
    status: e.status === "not_observable" ? "skipped" : e.status,
    message: e.summary,
    details: e.evidence.join("\n"),
  }));
  if (report.incomplete) {
    cases.push({
      classname: "lab.run",
      name: "the run lasted its full time",
      durationMs: report.durationMs,
      status: "skipped",
      message: `Stopped after ${report.durationMs} ms of ${report.runMs} ms`,
      details: "",
    });
  }
  return junitXml(`failover-toolkit lab ${report.name ?? ""}`.trim(), [{
    name: report.name ?? report.source ?? "lab",
    properties: { seed: report.seed, source: report.source ?? "" },
    cases,
  }], report.durationMs);
}

const STYLE = `
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555;margin-bottom:12px}.bad{color:#b71c1c}.good{color:#1b5e20}
.banner{padding:8px 12px;border-radius:6px;margin:8px 0;font-weight:600}
.banner.bad{background:#ffebee}.banner.good{background:#e8f5e9}
.banner.warn{background:#fff8e1;color:#8d6e00}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;padding:8px;font-size:12px;margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.chart{margin:8px 0}.chart svg{max-width:100%;height:auto}.legend span{margin-right:16px;font-size:12px}
.sw{display:inline-block;width:12px;height:10px;vertical-align:middle;margin-right:4px}
`;

function cell(value: unknown, numeric = false): string {
  const text = value === null || value === undefined ? "–" : String(value);
  return `<td${numeric ? ' class="num"' : ""}>${escapeXml(text)}</td>`;
}

/** The run as one self-contained HTML page. */
export function labReportHtml(report: LabRunReport): string {
  const { figures } = report;
  const failed = report.expectations.filter((e) => e.status === "fail");
  const title = `Lab run: ${report.name ?? report.source ?? "topology"}`;
  const out: string[] = [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><title>${
      escapeXml(title)
    }</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeXml(title)}</h1>`,
    `<div class="meta">seed ${report.seed} · started ${
      escapeXml(report.startedAt)
    } · ran ${report.durationMs} ms of ${report.runMs} ms · toolkit ${
      escapeXml(report.versions.toolkit)
    } · Deno ${escapeXml(report.versions.deno)}${
      report.source ? ` · ${escapeXml(report.source)}` : ""
    }</div>`,
  ];
  if (report.incomplete) {
    out.push(
      `<div class="banner warn" id="incomplete">Incomplete: the run was stopped after ${report.durationMs} ms of ${report.runMs} ms; the figures cover what it saw.</div>`,
    );
  }
  out.push(
    report.expectations.length === 0
      ? `<div class="banner warn">No expectations in the file: nothing gates this run.</div>`
      : failed.length
      ? `<div class="banner bad" id="verdict">${failed.length} of ${report.expectations.length} expectations failed (exit ${report.exitCode})</div>`
      : `<div class="banner good" id="verdict">All ${report.expectations.length} expectations held (exit ${report.exitCode})</div>`,
  );
  if (report.expectations.length) {
    out.push(
      "<h2>Expectations</h2><table><tr><th>expectation</th><th>verdict</th><th>what the run showed</th></tr>",
    );
    for (const e of report.expectations) {
      out.push(
        `<tr><td>${escapeXml(`${e.name} ≤ ${e.max}`)}</td><td class="${
          e.status === "pass" ? "good" : e.status === "fail" ? "bad" : ""
        }">${e.status.replace("_", " ")}</td><td>${escapeXml(e.summary)}${
          e.evidence.length
            ? `<pre>${escapeXml(e.evidence.join("\n"))}</pre>`
            : ""
        }</td></tr>`,
      );
    }
    out.push("</table>");
  }
  out.push(
    "<h2>Servers and proxies</h2>",
    `<div class="legend"><span><i class="sw" style="background:#1b5e20"></i>records/s (bytes/s for raw bytes)</span><span><i class="sw" style="background:#90caf9"></i>open connections</span><span><i class="sw" style="background:#e53935;opacity:.4"></i>outage</span><span><i class="sw" style="background:#fb8c00;opacity:.4"></i>other fault</span><span>┆ client switch (→ arrives, ← leaves)</span></div>`,
  );
  for (const series of figures.sources) {
    out.push(`<div class="chart">${chartSvg(figures, series)}</div>`);
  }
  out.push(
    "<h2>Transitions</h2>",
    "<table><tr><th>at ms</th><th>server</th><th>change</th><th>cause</th><th>client</th><th>to</th><th>switch ms</th><th>accepted ms</th><th>return ms</th><th>lost</th><th>pending</th><th>dup</th><th>longest ACK gap ms</th><th>conns/s</th></tr>",
  );
  for (const t of figures.transitions) {
    const head = [
      cell(t.atMs, true),
      cell(t.source + (t.toxic ? ` (${t.toxic})` : "")),
      cell(`${t.change} ${t.faults.join(", ")}`),
      cell(t.cause),
    ].join("");
    if (t.clients.length === 0) {
      out.push(`<tr>${head}<td colspan="10">no client moved</td></tr>`);
      continue;
    }
    for (const c of t.clients) {
      out.push(
        `<tr>${head}${cell(c.client)}${cell(c.to)}${cell(c.switchMs, true)}${
          cell(c.acceptedMs, true)
        }${cell(c.returnMs, true)}${cell(c.decoded ? c.lost : null, true)}${
          cell(c.decoded ? c.pending : null, true)
        }${cell(c.decoded ? c.duplicated : null, true)}${
          cell(
            c.longestAckGapMs === null
              ? null
              : `${c.ackGapOpen ? "≥" : ""}${c.longestAckGapMs}`,
            true,
          )
        }${cell(c.connectionsPerSecond, true)}</tr>`,
      );
    }
  }
  out.push("</table>");
  out.push(
    "<h2>Clients</h2><table><tr><th>client</th><th>servers used</th><th>switches</th><th>lost</th><th>duplicated</th></tr>",
  );
  for (const c of figures.clients) {
    out.push(
      `<tr>${cell(c.client)}${cell(c.sources.join(" → "))}${
        cell(c.switches, true)
      }${cell(c.decoded ? c.lost : null, true)}${
        cell(c.decoded ? c.duplicated : null, true)
      }</tr>`,
    );
  }
  out.push("</table>");
  if (report.plan.length) {
    out.push(
      "<h2>Plan</h2><table><tr><th>step</th><th>at ms</th><th>until ms</th><th>target</th><th>what</th></tr>",
    );
    for (const step of report.plan) {
      out.push(
        `<tr>${cell(step.label)}${cell(step.atMs, true)}${
          cell(step.untilMs, true)
        }${cell(step.server ?? step.proxy)}${
          cell(JSON.stringify(step.faults ?? step.toxics))
        }</tr>`,
      );
    }
    out.push("</table>");
  }
  out.push("</body></html>");
  return out.join("\n") + "\n";
}

/** The paths {@linkcode writeLabReport} wrote. */
export interface LabReportFiles {
  /** `report.json`. */
  json: string;
  /** `report.html`. */
  html: string;
  /** `report.xml` (JUnit). */
  junit: string;
}

/** Writes `report.json`, `report.html` and `report.xml` into `dir` (made if missing). */
export async function writeLabReport(
  dir: string,
  report: LabRunReport,
): Promise<LabReportFiles> {
  await Deno.mkdir(dir, { recursive: true });
  const files = {
    json: join(dir, "report.json"),
    html: join(dir, "report.html"),
    junit: join(dir, "report.xml"),
  };
  await Deno.writeTextFile(files.json, JSON.stringify(report, null, 2) + "\n");
  await Deno.writeTextFile(files.html, labReportHtml(report));
  await Deno.writeTextFile(files.junit, labReportJunit(report));
  return files;
}
