/**
 * The guard in front of every admin API: a Hono middleware that turns away
 * requests from other web pages (a wrong `Origin`), DNS rebinding (a wrong
 * `Host`) and, when a token is set, anyone without it. CORS headers are sent
 * only for origins explicitly allowed.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AdminError } from "./admin_app.ts";

/** The environment variable the servers read an admin token from. */
export const ADMIN_TOKEN_ENV = "FT_ADMIN_TOKEN";

/** The cookie a browser keeps the admin token in once it opened `?token=`. */
export const ADMIN_TOKEN_COOKIE = "ft_admin_token";

/** Options for {@linkcode adminGuard}. */
export interface AdminGuardOptions {
  /** The address the API is bound to (`127.0.0.1`, `0.0.0.0`, a name). */
  hostname: string;
  /**
   * Other names the API may be reached by (a `Host` header's name part),
   * besides the bound address, `localhost` and IP addresses.
   */
  allowedHosts?: string[];
  /**
   * Origins of other web pages allowed to call the API
   * (`http://127.0.0.1:5173`); each gets CORS headers. Default none: only
   * the API's own origin, and requests with no `Origin` (curl, scripts).
   */
  allowedOrigins?: string[];
  /**
   * A token every request must carry: `Authorization: Bearer <token>`, the
   * `ft_admin_token` cookie, or `?token=<token>` (which sets the cookie, so a
   * dashboard opened with it keeps working). Default none.
   */
  token?: string;
}

/** Whether a host name or address is a loopback one (`127.x`, `::1`, `localhost`). */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || /^127\./.test(host) ||
    host.endsWith(".localhost");
}

/** Makes a random admin token (32 hex digits). */
export function generateAdminToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The name part of a `Host` header (`[::1]:7001` gives `::1`). */
function hostName(host: string): string {
  const bracket = /^\[([^\]]*)\](?::\d+)?$/.exec(host);
  if (bracket) return bracket[1].toLowerCase();
  const colon = host.lastIndexOf(":");
  const name = colon >= 0 && host.indexOf(":") === colon
    ? host.slice(0, colon)
    : host;
  return name.toLowerCase();
}

/** Whether a name is an IPv4 or IPv6 address (never a DNS name to rebind). */
function isAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}

/** Compares two strings in time that does not depend on where they differ. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ (y[i % y.length] ?? 0);
  return diff === 0;
}

function deny(
  c: Context,
  status: 401 | 403,
  error: string,
  message: string,
): Response {
  if (status === 401) c.header("WWW-Authenticate", 'Bearer realm="admin"');
  return c.json({ error, message } satisfies AdminError, status);
}

function tokenOf(c: Context): string | undefined {
  const auth = c.req.header("authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  const query = c.req.query("token");
  if (query !== undefined) return query;
  const cookie = c.req.header("cookie") ?? "";
  for (const part of cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === ADMIN_TOKEN_COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

/**
 * Makes the admin guard, a Hono middleware. It answers 403 to a request
 *
 * - whose `Host` names neither the bound address, `localhost`, an IP address
 *   nor an allowed host (DNS rebinding: a page of `evil.example` whose name
 *   now points at 127.0.0.1);
 * - whose `Origin` is neither the API's own origin nor an allowed one, or
 *   that a browser marks as sent by another site (`Sec-Fetch-Site`): another
 *   page's `fetch` or form, even a body-less POST;
 *
 * and 401 to one without the token, when a token is set. CORS headers are
 * added (and preflights answered) only for `allowedOrigins`.
 *
 * @example Guard any Hono app
 * ```ts
 * import { Hono } from "hono";
 * import { adminGuard } from "./admin_guard.ts";
 * const app = new Hono();
 * app.use(adminGuard({ hostname: "127.0.0.1" }));
 * app.get("/", (c) => c.text("ok"));
 * ```
 */
export function adminGuard(options: AdminGuardOptions): MiddlewareHandler {
  const bound = hostName(options.hostname);
  const hosts = new Set(
    (options.allowedHosts ?? []).map((host) => hostName(host)),
  );
  hosts.add(bound).add("localhost");
  const origins = new Set(
    (options.allowedOrigins ?? []).map((origin) => origin.replace(/\/$/, "")),
  );
  const token = options.token;
  return async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    const name = hostName(host);
    if (!hosts.has(name) && !isAddress(name)) {
      return deny(
        c,
        403,
        "forbidden_host",
        `Refused request for host "${host}": the admin API answers only to the address it is bound to (${options.hostname}), localhost, an IP address${
          hosts.size > 2 ? ` or ${[...hosts].slice(2).join(", ")}` : ""
        } (add a name with --admin-allow-host)`,
      );
    }
    const origin = c.req.header("origin");
    const allowed = origin !== undefined && origins.has(origin);
    if (origin !== undefined && !allowed) {
      let own = false;
      try {
        const url = new URL(origin);
        own = (url.protocol === "http:" || url.protocol === "https:") &&
          url.host === host.toLowerCase();
      } catch {
        own = false;
      }
      if (!own) {
        return deny(
          c,
          403,
          "forbidden_origin",
          `Refused request from origin "${origin}": the admin API answers only pages of its own origin (http://${host})${
            origins.size ? ` or ${[...origins].join(", ")}` : ""
          } (allow another with --admin-allow-origin)`,
        );
      }
    }
    const site = c.req.header("sec-fetch-site");
    if (
      !allowed && (site === "cross-site" || site === "same-site")
    ) {
      return deny(
        c,
        403,
        "forbidden_origin",
        `Refused request sent by another site (Sec-Fetch-Site: ${site}): the admin API answers only pages of its own origin (allow another with --admin-allow-origin)`,
      );
    }
    if (allowed && c.req.method === "OPTIONS") {
      c.header("Access-Control-Allow-Origin", origin);
      c.header("Vary", "Origin");
      c.header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE");
      c.header("Access-Control-Allow-Headers", "authorization, content-type");
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    if (token !== undefined) {
      const given = tokenOf(c);
      if (given === undefined || !sameSecret(given, token)) {
        return deny(
          c,
          401,
          "unauthorized",
          given === undefined
            ? "Missing admin token: send Authorization: Bearer <token> (the token the server printed at start, or the one given with --admin-token or FT_ADMIN_TOKEN)"
            : "Wrong admin token: send the token the server printed at start, or the one given with --admin-token or FT_ADMIN_TOKEN",
        );
      }
    }
    await next();
    if (allowed) {
      c.header("Access-Control-Allow-Origin", origin);
      c.header("Vary", "Origin");
    }
    if (token !== undefined && c.req.query("token") !== undefined) {
      c.header(
        "Set-Cookie",
        `${ADMIN_TOKEN_COOKIE}=${
          encodeURIComponent(token)
        }; Path=/; HttpOnly; SameSite=Strict`,
      );
    }
  };
}
