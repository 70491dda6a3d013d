/**
 * Test helper for the lab's failover tests: the topology most of them use (a
 * primary, a secondary that ACKs, a reference tracker failing over between
 * them), the lab command run on a file, and a temp dir removed afterwards.
 *
 * @module
 */
import { runScript, type SpawnedCli } from "./_cli.ts";

/** What {@linkcode trackerTopology} varies. */
export interface TrackerTopologyOptions {
  /** The run seed. */
  seed: number;
  /** Its name. */
  name?: string;
  /** Fields of the tracker's entry over the defaults (ACK timeout 300 ms). */
  tracker?: Record<string, unknown>;
  /** More servers, or other entries for `primary` and `secondary`. */
  servers?: Record<string, unknown>;
  /** More clients. */
  clients?: Record<string, unknown>;
  /** How often the clients send (default 50 ms). */
  everyMs?: number;
  /** The chaos plan. */
  plan?: unknown[];
  /** The expectations. */
  expect?: Record<string, unknown>;
}

/** A primary, a secondary that ACKs and a tracker failing over between them, as a topology file's JSON. */
export function trackerTopology(
  options: TrackerTopologyOptions,
): Record<string, unknown> {
  return {
    name: options.name ?? "tracker",
    seed: options.seed,
    servers: {
      primary: { kind: "primary" },
      secondary: { kind: "secondary", ack: true },
      ...options.servers,
    },
    clients: {
      tracker: {
        kind: "two-servers",
        ip1: "primary",
        ip2: "secondary",
        ackTimeoutMs: 300,
        ...options.tracker,
      },
      ...options.clients,
    },
    traffic: { everyMs: options.everyMs ?? 50 },
    ...(options.plan ? { plan: options.plan } : {}),
    ...(options.expect ? { expect: options.expect } : {}),
  };
}

/** Runs `body` with a new temp dir, removed after, whatever happens. */
export async function withTempDir<T>(
  body: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "ft-lab-" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Runs `body` with `topology` written as JSON to `name` in a new temp dir
 * (removed after, whatever happens), given the file's path and the dir.
 */
export function withTopologyFile<T>(
  name: string,
  topology: unknown,
  body: (file: string, dir: string) => Promise<T>,
): Promise<T> {
  return withTempDir(async (dir) => {
    const file = `${dir}/${name}`;
    await Deno.writeTextFile(file, JSON.stringify(topology));
    return await body(file, dir);
  });
}

/** Runs `lab/lab.ts FILE --any-port --port 0 ...flags` to its end. */
export function runLabCli(
  file: string,
  ...flags: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runScript("lab/lab.ts", [file, "--any-port", "--port", "0", ...flags]);
}

/** Sends `signal` to a spawned command and returns its exit code and the lines it printed after its first. */
export async function signalAndDrain(
  cli: SpawnedCli,
  signal: Deno.Signal,
): Promise<{ code: number; lines: string[] }> {
  cli.child.kill(signal);
  const { code } = await cli.child.status;
  const lines: string[] = [];
  for (let line; !(line = await cli.lines.next()).done;) {
    lines.push(line.value);
  }
  await cli.stop();
  return { code, lines };
}
