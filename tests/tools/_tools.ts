/**
 * Helpers of the evidence scripts: a spawned primary, a process's memory
 * from `/proc`.
 *
 * @module
 */
import { type SpawnedCli, spawnServer } from "../_cli.ts";

/** Spawns `servers/primary.ts` on free ports, seed 1, with more flags. */
export function spawnPrimary(args: string[] = []): Promise<SpawnedCli> {
  return spawnServer("servers/primary.ts", "--seed 1", {
    more: args,
    timeoutMs: 60_000,
  });
}

/** A process's resident memory now (`VmRSS`) or at its peak (`VmHWM`), in bytes. */
export function rss(pid: number, field: "VmHWM" | "VmRSS" = "VmHWM"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
}

/** Bytes in MiB, one decimal. */
export function mib(bytes: number): number {
  return Number((bytes / 1024 / 1024).toFixed(1));
}
