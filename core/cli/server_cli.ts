/**
 * The command line of a single test server: the common flags, the fault
 * flags and the server's own, then the TCP server and its admin API started
 * together, announced on one line.
 *
 * @module
 */
import { serveAdmin } from "../admin/admin_server.ts";
import type { ToolkitServer } from "../server/toolkit_server.ts";
import type { z } from "zod";
import {
  COMMON_FLAGS,
  type CommonDefaults,
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
import { joinHostPort } from "../net/host_port.ts";
import { optionFlags, optionsFromFlags } from "./option_flags.ts";

/** What a single-server CLI starts: something with an admin app to serve. */
export interface CliServer extends ToolkitServer {
  /** The codec's name. */
  readonly codec: { name: string };
}

/** What a server's `start` gets: the common options, faults and its own. */
export type ServerCliOptions<O extends z.ZodObject> =
  & CommonOptions
  & { faults: Faults }
  & Partial<z.output<O>>;

/** What {@linkcode runServerCli} needs to know of one server. */
export interface ServerCliSpec<
  S extends CliServer,
  O extends z.ZodObject = z.ZodObject,
> {
  /**
   * The script, for the usage line (`servers/primary.ts`); with
   * {@linkcode serverMain}, its module's folder and file by default.
   */
  script: string;
  /** What the server does, for `--help`. */
  summary: string;
  /** The defaults of the common flags: TCP and admin ports, and others. */
  defaults: CommonDefaults;
  /**
   * The server's own options schema: its flags are the server flags (one
   * named like a common or fault flag takes its place, and is not read as a
   * fault), read into the options `start` gets.
   */
  options?: O;
  /** Starts the server from the options the flags give. */
  start(options: ServerCliOptions<O>, values: FlagValues): Promise<S>;
  /**
   * Adjusts the common flags (drop one the server has no use for, reword
   * one); what it returns is what `--help` shows and the parser accepts.
   */
  common?(flags: FlagTable): FlagTable;
  /** The title of the fault flags' section (default `Fault flags`). */
  faultsTitle?: string;
  /** The TCP part of the announced line (default `tcp=host:port` of `addr`). */
  describe?(server: S): string;
}

/** `tcp=host:port` of a server with one listener. */
export function tcpField(
  server: { addr: { hostname: string; port: number } },
): string {
  return `tcp=${joinHostPort(server.addr.hostname, server.addr.port)}`;
}

/** The common flags with a server's defaults shown. */
function commonFlags(defaults: CommonDefaults): FlagTable {
  const shown = (name: string, value: number | undefined) =>
    value === undefined ? {} : {
      [name]: { ...COMMON_FLAGS[name], default: String(value) },
    };
  return {
    ...COMMON_FLAGS,
    ...shown("port", defaults.port),
    ...shown("admin-port", defaults.adminPort),
    ...shown("max-bad-frames", defaults.maxBadFrames),
  };
}

/**
 * Runs a server's CLI: parse flags, start the server and its admin API, print
 * `<name> tcp=... admin=http://... seed=N codec=NAME`, stop on SIGINT/SIGTERM.
 */
export function runServerCli<S extends CliServer, O extends z.ZodObject>(
  args: string[],
  spec: ServerCliSpec<S, O>,
): Promise<void> {
  const flags = spec.options ? optionFlags(spec.options) : {};
  const own = new Set(Object.keys(flags));
  const shadowed = <T>(table: Record<string, T>): Record<string, T> =>
    Object.fromEntries(
      Object.entries(table).filter(([name]) => !own.has(name)),
    );
  const sections: [string, FlagTable][] = [];
  if (own.size > 0) sections.push(["Server flags", flags]);
  const common = shadowed(commonFlags(spec.defaults));
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
      const server = await spec.start({
        ...common,
        faults,
        ...(spec.options ? optionsFromFlags(spec.options, values) : {}),
      } as ServerCliOptions<O>, values);
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
          spec.describe?.(server) ?? tcpField(server as never)
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

/** A command line's entry point: runs it on the arguments given. */
export type CliMain = (args: string[]) => Promise<void>;

/** The usage line's script of a module: its folder and file (`servers/primary.ts`). */
export function scriptOf(url: string): string {
  return new URL(url).pathname.split("/").slice(-2).join("/");
}

/**
 * A server module's `main`: {@linkcode runServerCli} on the spec (the usage
 * line names the module, `servers/primary.ts`, unless the spec names a
 * script). Run as the main module, it runs on `Deno.args` once the module
 * is evaluated.
 *
 * @example Usage
 * ```ts ignore
 * export const main: CliMain = serverMain(import.meta, {
 *   summary: "The primary server",
 *   defaults: { port: 7000, adminPort: 7001 },
 *   start: startPrimaryServer,
 * });
 * ```
 */
export function serverMain<S extends CliServer, O extends z.ZodObject>(
  module: ImportMeta,
  spec: Omit<ServerCliSpec<S, O>, "script"> & { script?: string },
): CliMain {
  const script = spec.script ?? scriptOf(module.url);
  const main = (args: string[]) => runServerCli(args, { ...spec, script });
  if (module.main) queueMicrotask(() => void main(Deno.args));
  return main;
}
