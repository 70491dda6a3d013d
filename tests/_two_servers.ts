/**
 * Test helper: the two servers a two_servers device talks to, IP1 (a primary)
 * and IP2 (a secondary), started on free ports and closed together.
 *
 * @module
 */
import type { TcpServer } from "../core/server/tcp_server.ts";
import {
  type PrimaryServer,
  type PrimaryServerOptions,
  startPrimaryServer,
} from "../servers/primary.ts";
import {
  type SecondaryServer,
  type SecondaryServerOptions,
  startSecondaryServer,
} from "../servers/secondary.ts";

/** IP1 and IP2, both closed on dispose. */
export interface TwoServers extends AsyncDisposable {
  /** The primary server. */
  ip1: PrimaryServer;
  /** The secondary server. */
  ip2: SecondaryServer;
}

/**
 * Starts IP1 (seed 1) and IP2 (seed 2) on free ports, with these options on
 * top.
 */
export async function startServers(
  ip1Options: Partial<PrimaryServerOptions> = {},
  ip2Options: Partial<SecondaryServerOptions> = {},
): Promise<TwoServers> {
  const ip1 = await startPrimaryServer({ port: 0, seed: 1, ...ip1Options });
  try {
    const ip2 = await startSecondaryServer({ port: 0, seed: 2, ...ip2Options });
    return {
      ip1,
      ip2,
      async [Symbol.asyncDispose]() {
        await ip2.close();
        await ip1.close();
      },
    };
  } catch (error) {
    await ip1.close();
    throw error;
  }
}

/** The two_servers CLI's `--port1 P --port2 P` flags for these servers. */
export function portFlags(ip1: TcpServer, ip2: TcpServer): string[] {
  return ["--port1", String(ip1.addr.port), "--port2", String(ip2.addr.port)];
}
