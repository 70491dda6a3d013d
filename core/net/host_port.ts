/**
 * `host:port`: joining a host and a port into one address, and parsing one
 * back (brackets around IPv6 hosts, as in URLs and Go's `net.JoinHostPort`).
 *
 * @module
 */

/** A host and a port. */
export interface HostPort {
  /** The host: a name or an IP literal (IPv6 without brackets). */
  hostname: string;
  /** The port. */
  port: number;
}

/**
 * Joins a host and a port into `host:port`, with brackets around an IPv6
 * host (`[::1]:7000`).
 *
 * @example Usage
 * ```ts
 * import { joinHostPort } from "./host_port.ts";
 * joinHostPort("127.0.0.1", 7000); // "127.0.0.1:7000"
 * joinHostPort("::1", 7000); // "[::1]:7000"
 * ```
 */
export function joinHostPort(hostname: string, port: number): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/**
 * Parses `host:port` (or `[v6]:port`) into its parts.
 *
 * @example Usage
 * ```ts
 * import { parseHostPort } from "./host_port.ts";
 * parseHostPort("127.0.0.1:7000"); // { hostname: "127.0.0.1", port: 7000 }
 * ```
 */
export function parseHostPort(text: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new RangeError(
      `Cannot parse address "${text}": expected host:port, such as 127.0.0.1:7000`,
    );
  }
  return { hostname: match[1] ?? match[2], port };
}
