/**
 * Serves an admin app over HTTP with `Deno.serve`, on 127.0.0.1 unless told
 * otherwise, behind the admin guard (`Origin`, `Host`, token).
 *
 * @module
 */
import { Hono } from "hono";
import { joinHostPort } from "../net/host_port.ts";
import { adminGuard, generateAdminToken, isLoopback } from "./admin_guard.ts";
import type { Addr } from "../server/tcp_server.ts";

/** Options for {@linkcode serveAdmin}. */
export interface ServeAdminOptions {
  /** Host to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Port to bind; 0 picks a free one (default 0). */
  port?: number;
  /** Shuts the server down when aborted. */
  signal?: AbortSignal;
  /**
   * A token every request must carry (see {@linkcode adminGuard}). Bound to
   * an address other than loopback, one is generated when none is given.
   */
  token?: string;
  /** Names besides the bound address the API may be reached by. */
  allowedHosts?: string[];
  /** Origins of other pages allowed to call the API, with CORS headers. */
  allowedOrigins?: string[];
}

/** A running admin HTTP server. */
export interface AdminServer extends AsyncDisposable {
  /** The address it listens on. */
  readonly addr: Addr;
  /** Its base URL, such as `http://127.0.0.1:7001`. */
  readonly url: string;
  /** Resolves once it has shut down. */
  readonly finished: Promise<void>;
  /** The token every request must carry, if one is required. */
  readonly token?: string;
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
 * Serves an app's `fetch` over HTTP, behind {@linkcode adminGuard}: bound to
 * an address other than loopback it requires a token; one generated (none
 * was given) is printed on standard error, and is in `token`.
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
  const token = options.token ??
    (isLoopback(hostname) ? undefined : generateAdminToken());
  const guarded = new Hono();
  guarded.use(adminGuard({
    hostname,
    token,
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
  }));
  guarded.all("*", (c) => app.fetch(c.req.raw));
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
      }, (request) => guarded.fetch(request));
      if (token !== undefined && options.token === undefined) {
        console.error(
          `admin token (generated; every admin request needs it, open the dashboard with ?token=): ${token}`,
        );
      }
      const port = (server.addr as Deno.NetAddr).port;
      let closing: Promise<void> | undefined;
      const admin: AdminServer = {
        addr: { hostname, port },
        url: `http://${joinHostPort(hostname, port)}`,
        finished: server.finished,
        ...(token !== undefined ? { token } : {}),
        close: () => closing ??= server.shutdown().then(() => server.finished),
        [Symbol.asyncDispose]: () => admin.close(),
      };
      resolve(admin);
    } catch (error) {
      reject(error);
    }
  });
}
