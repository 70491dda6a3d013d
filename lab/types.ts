/**
 * The lab's public types: what a running server of any kind gives the lab
 * (addresses, faults, switches, admin app) and what `GET /servers` and
 * `GET /lab` report. A file of its own so the kinds (`_kind.ts`) and the
 * lab (`start_lab.ts`) both import it without importing each other.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ConnectionInfo } from "../core/server/connection.ts";
import type { Faults } from "../core/faults/mod.ts";
import type { Journal } from "../core/journal/journal.ts";
import type { ToolkitServer } from "../core/server/toolkit_server.ts";

/** One address a lab server listens on. */
export interface LabAddress {
  /** The listener's label, for servers with several (`A`, `ml1`). */
  label?: string;
  /** The host it is bound to. */
  hostname: string;
  /** The port it is bound to. */
  port: number;
  /** Whether it accepts connections now. */
  listening: boolean;
}

/** The faults of one listener of a server, for the dashboard's switches. */
export interface LabFaultTarget {
  /** The listener's label, or none for the whole server. */
  label?: string;
  /** The admin path of its faults, below the server's (`/faults`). */
  path: string;
  /** The faults in force. */
  faults: Faults;
}

/** A switch of a server's own (store down, schedule paused), for the dashboard. */
export interface LabSwitch {
  /** A stable key (`storeDown`). */
  key: string;
  /** What the card shows. */
  label: string;
  /** Whether it is on now. */
  on: boolean;
  /** The admin path POSTed to turn it on, below the server's. */
  onPath: string;
  /** The admin path POSTed to turn it off, below the server's. */
  offPath: string;
}

/** A running server of any kind, as the lab drives it. */
export interface LabServer
  extends Pick<ToolkitServer, "name" | "kind" | "adminApp" | "close"> {
  /** The server's name in the topology. */
  readonly name: string;
  /** Its kind (`primary`, `watchdog-echo`, ...). */
  readonly kind: string;
  /** The journals its events go to. */
  readonly journals: readonly Journal[];
  /**
   * Its admin app (a Hono `OpenAPIHono`), mounted under `/servers/<name>`.
   *
   * @ignore
   */
  adminApp(): OpenAPIHono;
  /** The addresses it listens on. */
  addresses(): LabAddress[];
  /** Its open connections. */
  connectionInfos(): ConnectionInfo[];
  /** Its faults, per listener when the server has several. */
  faultTargets(): LabFaultTarget[];
  /** Its own switches, if any. */
  switches(): LabSwitch[];
  /** Facts of its kind for its card (data channel, agents by front). */
  view(): Record<string, unknown>;
  /** Closes it. */
  close(): Promise<void>;
}

/** One counter on a server's card. */
export interface LabCounter {
  /** A stable key (`acksDropped`). */
  key: string;
  /** What the card shows (`ACKs dropped`). */
  label: string;
  /** Its value since the lab started. */
  value: number;
}

/** One server as `GET /servers` lists it: what its dashboard card shows. */
export interface LabServerSummary {
  /** Its name: the admin routes are under `/servers/<name>`. */
  name: string;
  /** Its kind. */
  kind: string;
  /** What that kind is. */
  summary: string;
  /** The path of its admin API. */
  admin: string;
  /** The addresses it listens on. */
  addresses: LabAddress[];
  /** Whether any of its addresses accepts connections now. */
  listening: boolean;
  /** Its open connections. */
  connections: ConnectionInfo[];
  /** Its counters. */
  counters: LabCounter[];
  /** Its faults, per listener when it has several. */
  faults: LabFaultTarget[];
  /** Its own switches (store down, schedule paused). */
  switches: LabSwitch[];
  /** Facts of its kind: active channel, agents by front. */
  view: Record<string, unknown>;
}

/** One traffic client, as `GET /lab` lists it. */
export interface LabClientSummary {
  /** Its name in the topology. */
  name: string;
  /** Its kind. */
  kind: string;
  /** Whether it is running. */
  running: boolean;
  /** What it is doing, in one line. */
  summary: string;
  /** What it is doing (connected server, active channel, queue). */
  state: Record<string, unknown>;
}

/** The traffic clients' state, as `GET /lab` shows it. */
export interface LabTraffic {
  /** Whether the clients are running. */
  running: boolean;
  /** How often each client sends. */
  everyMs: number;
  /** Each client. */
  clients: LabClientSummary[];
}
