/**
 * The time chart of one server or proxy, as a self-contained SVG string:
 * records/s (or bytes/s for raw bytes) as a line, open connections as a
 * stepped area, fault spans shaded (outages darker), client switches marked.
 * The run report's HTML page and the dashboard draw the same chart.
 *
 * @module
 */
import { escapeXml } from "../conformance/report_junit.ts";
import type {
  ClientSwitch,
  FailoverAnalysis,
  SourceSeries,
} from "./figures.ts";

/** Options for {@linkcode chartSvg}. */
export interface ChartOptions {
  /** Width in px (default 720). */
  width?: number;
  /** Height in px (default 160). */
  height?: number;
  /** Show only from this time, ms from the origin (a rolling window). */
  fromMs?: number;
  /** Label the time axis back from the end (`-60s` .. `now`), for a live window. */
  ago?: boolean;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

/**
 * Draws one server's or proxy's chart from the figures.
 *
 * @example Usage
 * ```ts ignore
 * import { chartSvg } from "./chart.ts";
 * const svg = chartSvg(analysis, analysis.sources[0]);
 * ```
 */
export function chartSvg(
  analysis: Pick<FailoverAnalysis, "bucketMs" | "endMs" | "switches">,
  series: SourceSeries,
  options: ChartOptions = {},
): string {
  const width = options.width ?? 720;
  const height = options.height ?? 160;
  const left = 48, right = 40, top = 18, bottom = 22;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const { bucketMs } = analysis;
  const fromMs = Math.max(0, options.fromMs ?? 0);
  const toMs = Math.max(analysis.endMs, fromMs + bucketMs);
  const x = (ms: number) =>
    left + (Math.min(Math.max(ms, fromMs), toMs) - fromMs) / (toMs - fromMs) *
      plotW;
  const first = Math.floor(fromMs / bucketMs);
  const rate = series.decoded ? series.recordsPerSecond : series.bytesPerSecond;
  const unit = series.decoded ? "records/s" : "bytes/s";
  const shown = rate.slice(first);
  const conns = series.connections.slice(first);
  const rateMax = niceMax(Math.max(0, ...shown));
  const connMax = niceMax(Math.max(1, ...conns));
  const yRate = (v: number) => top + plotH - v / rateMax * plotH;
  const yConn = (v: number) => top + plotH - v / connMax * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="ft-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${
      escapeXml(`${series.source}: ${unit} and connections`)
    }" data-source="${escapeXml(series.source)}">`,
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
  );
  for (const span of series.faults) {
    if (span.toMs < fromMs) continue;
    const x1 = x(span.fromMs), x2 = Math.max(x(span.toMs), x1 + 2);
    out.push(
      `<rect class="fault${span.outage ? " outage" : ""}" x="${
        x1.toFixed(1)
      }" y="${top}" width="${(x2 - x1).toFixed(1)}" height="${plotH}" fill="${
        span.outage ? "#e53935" : "#fb8c00"
      }" fill-opacity="${span.outage ? 0.22 : 0.15}"><title>${
        escapeXml(
          `${span.faults.join(", ")}: ${seconds(Math.round(span.fromMs))} to ${
            seconds(Math.round(span.toMs))
          }`,
        )
      }</title></rect>`,
    );
  }
  // Connections: a stepped area on the right axis.
  if (conns.length > 0) {
    const points: string[] = [`${x(first * bucketMs)},${yConn(0)}`];
    conns.forEach((n, i) => {
      const b = first + i;
      points.push(`${x(b * bucketMs).toFixed(1)},${yConn(n).toFixed(1)}`);
      points.push(`${x((b + 1) * bucketMs).toFixed(1)},${yConn(n).toFixed(1)}`);
    });
    points.push(`${x((first + conns.length) * bucketMs)},${yConn(0)}`);
    out.push(
      `<polygon class="connections" points="${
        points.join(" ")
      }" fill="#90caf9" fill-opacity="0.35" stroke="none"/>`,
    );
  }
  // The rate: a line through each bucket's middle.
  if (shown.length > 0) {
    const points = shown.map((v, i) =>
      `${x((first + i + 0.5) * bucketMs).toFixed(1)},${yRate(v).toFixed(1)}`
    );
    out.push(
      `<polyline class="rate" points="${
        points.join(" ")
      }" fill="none" stroke="#1b5e20" stroke-width="1.8"/>`,
    );
  }
  const switches = analysis.switches.filter((s: ClientSwitch) =>
    (s.to === series.source || s.from === series.source) && s.atMs >= fromMs
  );
  for (const s of switches) {
    const sx = x(s.atMs).toFixed(1);
    const arriving = s.to === series.source;
    out.push(
      `<g class="switch"><line x1="${sx}" x2="${sx}" y1="${top}" y2="${
        top + plotH
      }" stroke="${
        arriving ? "#1565c0" : "#6a1b9a"
      }" stroke-dasharray="3 2"/><text x="${sx}" y="${
        top - 4
      }" font-size="10" text-anchor="middle" fill="${
        arriving ? "#1565c0" : "#6a1b9a"
      }">${escapeXml(`${arriving ? "→" : "←"} ${s.client}`)}</text><title>${
        escapeXml(
          `${s.client} moved from ${s.from} to ${s.to} at ${s.atMs} ms`,
        )
      }</title></g>`,
    );
  }
  // Axes.
  out.push(
    `<text x="4" y="${
      top + 8
    }" font-size="10" fill="#1b5e20">${rateMax}</text>`,
    `<text x="4" y="${top + plotH}" font-size="10" fill="#1b5e20">0</text>`,
    `<text x="4" y="${
      top + plotH / 2
    }" font-size="10" fill="#1b5e20">${unit}</text>`,
    `<text x="${width - right + 4}" y="${
      top + 8
    }" font-size="10" fill="#1565c0">${connMax}</text>`,
    `<text x="${width - right + 4}" y="${
      top + plotH / 2
    }" font-size="10" fill="#1565c0">conns</text>`,
    `<text x="${left}" y="${height - 6}" font-size="10">${
      options.ago
        ? `-${seconds(Math.round((toMs - fromMs) / 1000) * 1000)}`
        : seconds(Math.round(fromMs))
    }</text>`,
    `<text x="${left + plotW}" y="${
      height - 6
    }" font-size="10" text-anchor="end">${
      options.ago ? "now" : seconds(Math.round(toMs))
    }</text>`,
    `<text x="${left + plotW / 2}" y="${
      height - 6
    }" font-size="11" text-anchor="middle" font-weight="bold">${
      escapeXml(series.source)
    }</text>`,
    "</svg>",
  );
  return out.join("");
}
