/**
 * `GET /metrics`: a server's figures in the Prometheus text format (version
 * 0.0.4), for users to scrape and for the benchmark to read the server's own
 * CPU time: process CPU seconds, resident memory, open connections, frames
 * in, replies out, faults fired by kind, and journal events dropped from the
 * ring.
 *
 * Frames in and replies out come from the journal's counts, which it keeps
 * anyway; faults fired by kind from one journal subscriber per journal, which
 * counts `fault` events with `fired: true`. Nothing else is added to the hot
 * path.
 *
 * @module
 */
import process from "node:process";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { createRoute, z } from "@hono/zod-openapi";
import type { Journal, JournalEvent } from "../journal/journal.ts";

/** What {@linkcode addMetricsRoute} and {@linkcode renderMetrics} need of a server. */
export interface MetricsTarget {
  /** The server's name (the `server` label). */
  readonly name: string;
  /** What kind of server it is (the `kind` label). */
  readonly kind: string;
  /** Its journal: the counts of frames, replies and faults come from it. */
  readonly journal: Journal;
  /** Its open connections (only their number is read). */
  connectionInfos(): readonly unknown[];
}

/** The content type of the Prometheus text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Faults fired, by kind, since the counter was attached to a journal. */
class FaultCounter {
  readonly fired = new Map<string, number>();

  constructor(journal: Journal) {
    journal.subscribe((event: JournalEvent) => {
      if (event.type !== "fault" || event.fired !== true) return;
      const kind = String(event.fault);
      this.fired.set(kind, (this.fired.get(kind) ?? 0) + 1);
    });
  }
}

// One counter per journal, however many apps are made over it.
const faultCounters = new WeakMap<Journal, FaultCounter>();

function faultCounter(journal: Journal): FaultCounter {
  let counter = faultCounters.get(journal);
  if (!counter) {
    counter = new FaultCounter(journal);
    faultCounters.set(journal, counter);
  }
  return counter;
}

/**
 * Starts counting the faults a journal records as fired. The admin app calls
 * it when it is made, so counting starts before the first connection; calling
 * it again for the same journal changes nothing.
 */
export function watchFaults(journal: Journal): void {
  faultCounter(journal);
}

/** Escapes a label value for the text format. */
function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')
    .replaceAll("\n", "\\n");
}

/** A number in the text format (integers without a fraction). */
function number(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(9);
}

/** One sample of a metric. */
interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/** One metric family: its help, its type, its samples. */
interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: Sample[];
}

function render(families: Family[], common: Record<string, string>): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries({ ...common, ...sample.labels })
        .map(([key, value]) => `${key}="${label(value)}"`).join(",");
      lines.push(
        `${family.name}${labels ? `{${labels}}` : ""} ${number(sample.value)}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The text of `GET /metrics` for one server. The process figures (CPU,
 * memory) are the whole process's: in a process with several servers (the
 * lab), every server reports the same ones.
 *
 * @example Usage
 * ```ts
 * import { renderMetrics } from "./metrics.ts";
 * import { Journal } from "../journal/journal.ts";
 * const journal = new Journal({ server: "demo" });
 * journal.append("frame_in", { conn: 1 });
 * const text = renderMetrics({
 *   name: "demo",
 *   kind: "primary",
 *   journal,
 *   connectionInfos: () => [],
 * });
 * if (!text.includes('failover_frames_in_total{server="demo",kind="primary"} 1')) {
 *   throw new Error("Cannot find the frame count");
 * }
 * ```
 */
export function renderMetrics(target: MetricsTarget): string {
  const cpu = process.cpuUsage();
  const memory = Deno.memoryUsage();
  const journal = target.journal;
  const counts = journal.counts();
  const appended = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const fired = faultCounter(journal).fired;
  const common = { server: target.name, kind: target.kind };
  const families: Family[] = [
    {
      name: "process_cpu_seconds_total",
      help: "User and system CPU time of the whole process, in seconds.",
      type: "counter",
      samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
    },
    {
      name: "process_resident_memory_bytes",
      help: "Resident memory of the whole process, in bytes.",
      type: "gauge",
      samples: [{ value: memory.rss }],
    },
    {
      name: "process_heap_used_bytes",
      help: "JavaScript heap in use, in bytes.",
      type: "gauge",
      samples: [{ value: memory.heapUsed }],
    },
    {
      name: "failover_open_connections",
      help: "Connections open now.",
      type: "gauge",
      samples: [{ value: target.connectionInfos().length }],
    },
    {
      name: "failover_frames_in_total",
      help: "Frames decoded from clients.",
      type: "counter",
      samples: [{ value: counts.frame_in ?? 0 }],
    },
    {
      name: "failover_replies_out_total",
      help: "Replies written to clients: ACKs, echoes and other frames.",
      type: "counter",
      samples: [{ value: (counts.ack_sent ?? 0) + (counts.frame_out ?? 0) }],
    },
    {
      name: "failover_faults_fired_total",
      help: "Faults that fired, by kind (fault decisions that came out yes).",
      type: "counter",
      samples: [...fired].sort(([a], [b]) => a.localeCompare(b))
        .map(([fault, value]) => ({ labels: { fault }, value })),
    },
    {
      name: "failover_journal_events_total",
      help: "Events written to the journal.",
      type: "counter",
      samples: [{ value: appended }],
    },
    {
      name: "failover_journal_events_dropped_total",
      help:
        "Journal events no longer held by the ring: overwritten when it was full, or cleared.",
      type: "counter",
      samples: [{ value: Math.max(0, appended - journal.size) }],
    },
  ];
  return render(families, common);
}

/**
 * Adds `GET /metrics` to an admin app, and starts counting the target's
 * faults (see {@linkcode watchFaults}).
 */
export function addMetricsRoute(app: OpenAPIHono, target: MetricsTarget): void {
  watchFaults(target.journal);
  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      responses: {
        200: {
          content: { "text/plain": { schema: z.string() } },
          description:
            "The server's figures in the Prometheus text format (0.0.4)",
        },
      },
    }),
    (c) =>
      c.text(renderMetrics(target), 200, {
        "content-type": METRICS_CONTENT_TYPE,
      }),
  );
}
