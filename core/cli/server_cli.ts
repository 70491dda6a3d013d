/**
 * The command line of a single test server: the common flags, the fault
 * flags and the server's own, then the TCP server and its admin API started
 * together, announced on one line.
 *
 * @module
 */
import { serveAdmin } from "../admin/admin_server.ts";
import type { ToolkitServer } from "../server/toolkit_server.ts";
import {
  COMMON_FLAGS,
  type CommonOptions,
  commonOptions,
  FAULT_FLAGS,
  faultsFromFlags,
  type FlagTable,
  type FlagValues,
  runCli,
  runCommand,
} from "./cli.ts";
import type { Faults } from "../faults/mod.ts";

/** What a single-server CLI starts: something with an admin app to serve. */
export interface CliServer extends ToolkitServer {
  /** The codec's name. */
  readonly codec: { name: string };
}

/** What {@linkcode runServerCli} needs to know of one server. */
export interface ServerCliSpec<S extends CliServer> {
  /** The script, for the usage line (`servers/primary.ts`). */
  script: string;
  /** What the server does, for `--help`. */
  summary: string;
  /** The default TCP and admin ports. */
  defaults: { port: number; adminPort: number };
  /**
   * The server's own flags. One named like a common or fault flag takes its
   * place (and is not read as a fault).
   */
  flags?: FlagTable;
  /** Starts the server from the parsed flags. */
  start(common: CommonOptions, faults: Faults, values: FlagValues): Promise<S>;
  /**
   * Adjusts the common flags (drop one the server has no use for, reword
   * one); what it returns is what `--help` shows and the parser accepts.
   */
  common?(flags: FlagTable): FlagTable;
  /** The title of the fault flags' section (default `Fault flags`). */
  faultsTitle?: string;
  /** The TCP part of the announced line (default `tcp=host:port`). */
  describe(server: S): string;
}

/**
 * Runs a server's CLI: parse flags, start the server and its admin API, print
 * `<name> tcp=... admin=http://... seed=N codec=NAME`, stop on SIGINT/SIGTERM.
 */
export function runServerCli<S extends CliServer>(
  args: string[],
  spec: ServerCliSpec<S>,
): Promise<void> {
  const own = new Set(Object.keys(spec.flags ?? {}));
  const shadowed = <T>(table: Record<string, T>): Record<string, T> =>
    Object.fromEntries(
      Object.entries(table).filter(([name]) => !own.has(name)),
    );
  const sections: [string, FlagTable][] = [];
  if (spec.flags) sections.push(["Server flags", spec.flags]);
  const common = shadowed({
    ...COMMON_FLAGS,
    port: { ...COMMON_FLAGS.port, default: String(spec.defaults.port) },
    "admin-port": {
      ...COMMON_FLAGS["admin-port"],
      default: String(spec.defaults.adminPort),
    },
  });
  sections.push(
    ["Common flags", spec.common ? spec.common(common) : common],
    [spec.faultsTitle ?? "Fault flags", shadowed(FAULT_FLAGS)],
  );
  return runCli(args, {
    usage: `${runCommand(spec.script)} [flags]`,
    summary: spec.summary,
    sections,
    async start(values) {
      const common = commonOptions(values, spec.defaults);
      const faults = faultsFromFlags(shadowed(values));
      const server = await spec.start(common, faults, values);
      let admin;
      try {
        admin = await serveAdmin(server.adminApp(), {
          hostname: common.adminHostname,
          port: common.adminPort,
          token: common.adminToken,
          allowedHosts: common.adminAllowHosts,
          allowedOrigins: common.adminAllowOrigins,
        });
      } catch (error) {
        await server.close();
        throw error;
      }
      return {
        line: `${server.name} ${
          spec.describe(server)
        } admin=${admin.url} seed=${server.seed} codec=${server.codec.name}`,
        finished: server.finished,
        shutdownMs: common.shutdownMs,
        async close() {
          await server.close();
          await admin.close();
        },
      };
    },
  });
}
