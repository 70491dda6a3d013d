/**
 * Serves an admin app over HTTP with `Deno.serve`, on 127.0.0.1 unless told
 * otherwise.
 *
 * @module
 */
import { joinHostPort } from "../net/host_port.ts";
import type { Addr } from "../server/tcp_server.ts";

/** Options for {@linkcode serveAdmin}. */
export interface ServeAdminOptions {
  /** Host to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  port?: number;
  /** Shuts the server down when aborted. */
  signal?: AbortSignal;
}

/** A running admin HTTP server. */
export interface AdminServer extends AsyncDisposable {
  /** The address it listens on. */
  readonly addr: Addr;
  /** Its base URL, such as `http://127.0.0.1:7001`. */
  readonly url: string;
  /** Resolves once it has shut down. */
  readonly finished: Promise<void>;
  /** Shuts it down. */
  close(): Promise<void>;
}

/**
 * Formats a host and port as a URL host (brackets for IPv6).
 *
 * @deprecated Use {@linkcode joinHostPort} from `core/net/`, the one place
 * addresses are formatted; this alias stays for existing callers.
 */
export const hostPort: (hostname: string, port: number) => string =
  joinHostPort;

/**
 * Serves an app's `fetch` over HTTP.
 *
 * @example Usage
 * ```ts ignore
 * import { serveAdmin } from "./admin_server.ts";
 * await using admin = await serveAdmin(app, { port: 0 });
 * console.log(admin.url);
 * ```
 */
export function serveAdmin(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  options: ServeAdminOptions = {},
): Promise<AdminServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname,
        port: options.port ?? 0,
        signal: options.signal,
        onListen: () => {},
        onError: (error) =>
          Response.json(
            { error: "internal", message: String(error) },
            { status: 500 },
          ),
      }, (request) => app.fetch(request));
      const port = (server.addr as Deno.NetAddr).port;
      let closing: Promise<void> | undefined;
      const admin: AdminServer = {
        addr: { hostname, port },
        url: `http://${joinHostPort(hostname, port)}`,
        finished: server.finished,
        close: () => closing ??= server.shutdown().then(() => server.finished),
        [Symbol.asyncDispose]: () => admin.close(),
      };
      resolve(admin);
    } catch (error) {
      reject(error);
    }
  });
}
