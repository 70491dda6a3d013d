/**
 * Reads a server's own figures: CPU seconds, frames in and resident memory,
 * from its `GET /metrics`. A server from an older checkout that has no
 * `/metrics` is read from its `/state` counts and from `/proc/<pid>` instead
 * (Linux), so a before/after run can compare the two.
 *
 * @module
 */

/** A server to read. */
export interface ProbeTarget {
  /** Its admin base URL (`http://127.0.0.1:PORT`). */
  admin: string;
  /** Its process id, for the `/proc` fallback. */
  pid: number;
}

/** One reading. */
export interface Reading {
  /** Process CPU time (user + system), in seconds. */
  cpuSeconds: number;
  /** Frames decoded so far. */
  framesIn: number;
  /** Resident memory, in bytes. */
  rssBytes: number;
  /** Where it came from. */
  source: "metrics" | "state+proc";
}

/** Parses the Prometheus text format: the first sample of each name. */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = line.match(/^(\w+)(?:\{[^}]*\})? (\S+)$/);
    if (match && !values.has(match[1])) values.set(match[1], Number(match[2]));
  }
  return values;
}

const noMetrics = new Set<string>();

/** Reads a server's CPU time, frames in and memory. */
export async function probe(target: ProbeTarget): Promise<Reading> {
  if (!noMetrics.has(target.admin)) {
    const response = await fetch(`${target.admin}/metrics`);
    const text = await response.text();
    if (response.ok) {
      const values = parseMetrics(text);
      return {
        cpuSeconds: values.get("process_cpu_seconds_total") ?? NaN,
        framesIn: values.get("failover_frames_in_total") ?? NaN,
        rssBytes: values.get("process_resident_memory_bytes") ?? NaN,
        source: "metrics",
      };
    }
    noMetrics.add(target.admin);
  }
  const state = await (await fetch(`${target.admin}/state`)).json() as {
    counts?: Record<string, number>;
  };
  const proc = await procReading(target.pid);
  return {
    ...proc,
    framesIn: state.counts?.frame_in ?? 0,
    source: "state+proc",
  };
}

/** CPU seconds and resident memory of a process, from `/proc` (Linux). */
export async function procReading(
  pid: number,
): Promise<{ cpuSeconds: number; rssBytes: number }> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) in parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const rssKb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
  return { cpuSeconds: ticks / 100, rssBytes: rssKb * 1024 };
}
