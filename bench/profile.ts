/**
 * `deno task bench:profile`: where the primary's time goes under load. Starts
 * the primary as its own process with the V8 inspector on, runs the
 * pipelined load against it, samples its CPU with the inspector's profiler,
 * and prints the functions and files with the most self time.
 *
 * ```sh
 * deno task bench:profile                                   # no faults
 * deno task bench:profile -- --drop-ack 30% --delay-ack 1ms # flags go to the primary
 * deno task bench:profile --root /path/to/checkout --codec ruptela
 * ```
 *
 * @module
 */
import { parseToolArgs, startInspected } from "./_inspector.ts";
import { runLoadProcess } from "./_process.ts";

interface ProfileNode {
  id: number;
  callFrame: {
    functionName: string;
    url: string;
    lineNumber: number;
  };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per file, from a V8 CPU profile. */
export function selfTimes(
  profile: CpuProfile,
): {
  byFunction: [string, number][];
  byFile: [string, number][];
  total: number;
} {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const ticks = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    ticks.set(id, (ticks.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  );
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  for (const [id, us] of ticks) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url
      ? frame.url
        .replace(/^.*registry\.npmjs\.org\/([^/]+)\/[^/]+\//, "npm:$1/")
        .replace(/^file:\/\/.*\/(core|servers|clients|bench)\//, "$1/")
      : `(${frame.functionName || "program"})`;
    const name = `${frame.functionName || "(anonymous)"} ${where}${
      frame.url ? `:${frame.lineNumber + 1}` : ""
    }`;
    if (frame.functionName === "(idle)") continue;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(where, (file.get(where) ?? 0) + us);
    total += us;
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { byFunction: sorted(fn), byFile: sorted(file), total };
}

if (import.meta.main) {
  const { values, positionals } = parseToolArgs({
    codec: { type: "string", default: "line-json" },
    seconds: { type: "string", default: "4" },
    mode: { type: "string", default: "pipelined" },
  });
  const freePortsSeed1 = ["--port", "0", "--admin-port", "0", "--seed", "1"];
  const { server, inspector } = await startInspected(
    "servers/primary.ts",
    [...freePortsSeed1, "--codec", values.codec!, ...positionals],
    values.root!,
  );
  // Stopped however the run ends: a failed inspector call or load too.
  let profile: CpuProfile;
  let load: Awaited<ReturnType<typeof runLoadProcess>>;
  try {
    const { port, admin } = server;
    if (!admin) throw new Error(`Cannot profile: it printed "${server.line}"`);
    await inspector.call("Profiler.enable");
    await inspector.call("Profiler.setSamplingInterval", { interval: 200 });
    await inspector.call("Profiler.start");
    load = await runLoadProcess([
      "--port",
      String(port),
      "--admin",
      admin,
      "--pid",
      String(server.pid),
      "--codec",
      values.codec!,
      "--mode",
      values.mode!,
      "--connections",
      "50",
      "--seconds",
      values.seconds!,
    ]);
    ({ profile } = await inspector.call("Profiler.stop") as {
      profile: CpuProfile;
    });
  } finally {
    // The server first: its end closes the inspector's socket, so the close
    // does not wait on a peer that never answers it.
    await server.stop();
    await inspector.close();
  }
  const { byFunction, byFile, total } = selfTimes(profile);
  const top = Number(values.top);
  const pct = (us: number) => `${(100 * us / total).toFixed(1).padStart(5)}%`;
  console.log(
    `primary ${
      positionals.join(" ") || "(no faults)"
    }, ${values.codec}, ${values.mode}: ${load.serverFrames} records, ${
      ((load.serverCpuSeconds / load.serverFrames) * 1e6).toFixed(2)
    } µs CPU per record; ${(total / 1e6).toFixed(2)} s sampled\n`,
  );
  console.log("self time by file:");
  for (const [name, us] of byFile.slice(0, 15)) {
    console.log(`  ${pct(us)}  ${name}`);
  }
  console.log("\nself time by function:");
  for (const [name, us] of byFunction.slice(0, top)) {
    console.log(`  ${pct(us)}  ${name}`);
  }
}
