/**
 * The HTML report: one page per run, with each behaviour's verdict, its
 * evidence, and a timeline drawn as a sequence diagram (client and servers
 * as lanes, frames as arrows, drops, connections and faults as marks). One
 * self-contained file: no script, no CDN.
 *
 * @module
 */
import type { ConformanceResult, ScenarioResult } from "./result.ts";
import type { TimelineEntry } from "./scenario.ts";
import { suiteTiming } from "./suites/suite_timing.ts";

function escape(text: string): string {
  return text.replace(
    /[<>&"]/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!,
  );
}

const COLORS: Record<string, string> = {
  frame: "#2563eb",
  ack: "#059669",
  drop: "#dc2626",
  connect: "#6b7280",
  close: "#6b7280",
  fault: "#d97706",
  event: "#7c3aed",
  stdin: "#0f766e",
};

/** A sequence diagram of one scenario, as SVG. */
export function sequenceDiagram(entries: TimelineEntry[]): string {
  const lanes = [
    "client",
    ...new Set(
      entries.map((e) => e.lane).concat(
        entries.flatMap((e) => e.to ? [e.to] : []),
      ).filter((l) => l !== "client"),
    ),
  ];
  const laneX = (lane: string) => 90 + lanes.indexOf(lane) * 230;
  const rowH = 18;
  const width = 90 + (lanes.length - 1) * 230 + 240;
  const height = 40 + entries.length * rowH + 20;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="ui-monospace, monospace" font-size="11">`,
  ];
  for (const lane of lanes) {
    const x = laneX(lane);
    parts.push(
      `<text x="${x}" y="16" text-anchor="middle" font-weight="bold">${
        escape(lane)
      }</text>`,
      `<line x1="${x}" y1="24" x2="${x}" y2="${
        height - 10
      }" stroke="#d1d5db"/>`,
    );
  }
  entries.forEach((e, i) => {
    const y = 40 + i * rowH;
    const color = COLORS[e.kind] ?? "#111827";
    parts.push(
      `<text x="4" y="${y + 4}" fill="#6b7280">${e.at.toFixed(0)}ms</text>`,
    );
    if (e.to) {
      const x1 = laneX(e.lane);
      const x2 = laneX(e.to);
      const dir = x2 > x1 ? -6 : 6;
      parts.push(
        `<line x1="${x1}" y1="${y}" x2="${x2}" y2="${y}" stroke="${color}"/>`,
        `<path d="M${x2},${y} l${dir},-4 l0,8 z" fill="${color}"/>`,
        `<text x="${(x1 + x2) / 2}" y="${
          y - 3
        }" text-anchor="middle" fill="${color}">${escape(e.label)}</text>`,
      );
    } else {
      const x = laneX(e.lane);
      parts.push(
        e.kind === "fault"
          ? `<rect x="${x - 40}" y="${
            y - 7
          }" width="80" height="12" fill="${color}" opacity="0.2"/>`
          : `<circle cx="${x}" cy="${y}" r="4" fill="${color}"/>`,
        `<text x="${x + 8}" y="${y + 4}" fill="${color}">${
          escape(e.label)
        }</text>`,
      );
    }
  });
  parts.push("</svg>");
  return parts.join("");
}

function section(r: ScenarioResult): string {
  const evidence = r.evidence.map((e) =>
    `<tr><td>${e.at.toFixed(0)} ms</td><td>${escape(e.source)}</td><td>${
      escape(e.text)
    }</td></tr>`
  ).join("");
  return `<section class="${r.status}" id="${r.id}">
<h2><span class="badge">${
    r.status.replace("_", " ")
  }</span> ${r.id} <small>${r.kind}</small></h2>
<p class="text">${escape(r.text)}</p>
<p class="summary">${escape(r.summary)}</p>
<details${
    r.status === "pass" ? "" : " open"
  }><summary>evidence and timeline</summary>
<table>${evidence}</table>
<div class="diagram">${sequenceDiagram(r.timeline)}</div>
${r.stderr ? `<pre>${escape(r.stderr)}</pre>` : ""}
</details>
</section>`;
}

/** The run as one HTML page. */
export function htmlReport(result: ConformanceResult): string {
  const { pass, fail, not_observable } = result.counts;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Conformance: ${escape(result.suite)} (seed ${result.seed})</title>
<style>
body{font:14px system-ui,sans-serif;margin:2rem;max-width:1200px;color:#111827}
section{border-left:6px solid #9ca3af;padding:.2rem 1rem;margin:1rem 0;background:#f9fafb}
section.pass{border-color:#059669}section.fail{border-color:#dc2626}section.not_observable{border-color:#d97706}
.badge{text-transform:uppercase;font-size:12px;padding:2px 6px;border-radius:4px;background:#e5e7eb}
.fail .badge{background:#fee2e2}.pass .badge{background:#d1fae5}.not_observable .badge{background:#fef3c7}
small{color:#6b7280;font-weight:normal}table{font:12px ui-monospace,monospace;border-collapse:collapse}
td{padding:1px 8px 1px 0;vertical-align:top}code{word-break:break-all}.diagram{overflow-x:auto}.summary{font-weight:600}
</style></head><body>
<h1>Conformance: ${escape(result.suite)}</h1>
<p>Client <code>${
    escape(result.client)
  }</code>, seed ${result.seed}, started ${result.startedAt}.
<strong>${pass} passed, ${fail} failed, ${not_observable} not observable.</strong></p>
<p>Timing assumed: <code>${
    escape(JSON.stringify(suiteTiming(result.suite, result.timing)))
  }</code></p>
${result.results.map(section).join("\n")}
</body></html>
`;
}
