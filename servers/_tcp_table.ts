/**
 * The kernel's TCP socket table on Linux (`/proc/net/tcp` and
 * `/proc/net/tcp6`): lets a server that never reads see that a peer has
 * closed (its socket turns to CLOSE_WAIT) and how full a listener's accept
 * queue is, without touching the sockets.
 *
 * Private to `servers/`: never re-exported. Linux only; elsewhere the
 * readers return `undefined`.
 *
 * @module
 */
import { ipHex, joinHostPort } from "../core/net/mod.ts";

/** TCP states as `/proc/net/tcp` numbers them. */
export const TCP_STATE = {
  ESTABLISHED: 0x01,
  CLOSE_WAIT: 0x08,
  LISTEN: 0x0a,
} as const;

/** One socket of the table. */
export interface TcpTableEntry {
  /** The TCP state number (see {@linkcode TCP_STATE}). */
  state: number;
  /** Bytes sent and not yet acknowledged by the peer. */
  txQueue: number;
  /** Bytes received and not yet read; for a listener, connections queued and not yet accepted. */
  rxQueue: number;
}

/**
 * A comparable key for `host:port` (`127.0.0.1:7000`, `[::1]:7000`):
 * IPv4 (and IPv4-mapped IPv6) as `4:<8 hex>:<port>`, IPv6 as
 * `6:<32 hex>:<port>`. Returns `undefined` when it cannot be parsed.
 */
export function addressKey(address: string): string | undefined {
  const colon = address.lastIndexOf(":");
  if (colon < 0) return undefined;
  let host = address.slice(0, colon);
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const hex = ipHex(host);
  if (hex === undefined) return undefined;
  return keyOf(hex, port);
}

function keyOf(hex: string, port: number): string {
  const mapped = hex.length === 32 &&
    hex.startsWith("00000000000000000000ffff");
  return mapped
    ? `4:${hex.slice(24)}:${port}`
    : `${hex.length === 8 ? 4 : 6}:${hex}:${port}`;
}

/** `/proc` prints each 32-bit word of an address in host order (little-endian here). */
function procHex(field: string): string {
  let hex = "";
  for (let i = 0; i < field.length; i += 8) {
    const word = field.slice(i, i + 8);
    hex += word.slice(6, 8) + word.slice(4, 6) + word.slice(2, 4) +
      word.slice(0, 2);
  }
  return hex.toLowerCase();
}

function procKey(field: string): string {
  const [address, port] = field.split(":");
  return keyOf(procHex(address), parseInt(port, 16));
}

function readTable(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Reads the TCP socket table, keyed `<local key>|<remote key>` (see
 * {@linkcode addressKey}). Returns `undefined` when `/proc/net/tcp` cannot be
 * read (not Linux, or no read permission).
 */
export function readTcpTable(): Map<string, TcpTableEntry> | undefined {
  const v4 = readTable("/proc/net/tcp");
  if (v4 === undefined) return undefined;
  const table = new Map<string, TcpTableEntry>();
  for (const text of [v4, readTable("/proc/net/tcp6") ?? ""]) {
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5) continue;
      const [tx, rx] = fields[4].split(":");
      table.set(`${procKey(fields[1])}|${procKey(fields[2])}`, {
        state: parseInt(fields[3], 16),
        txQueue: parseInt(tx, 16),
        rxQueue: parseInt(rx, 16),
      });
    }
  }
  return table;
}

/**
 * How full a listener's accept queue is: `queued` connections completed by
 * the kernel and not yet accepted (Linux admits backlog + 1). Returns
 * `undefined` when the table cannot be read or has no such listener.
 */
export function acceptQueue(
  hostname: string,
  port: number,
): { queued: number } | undefined {
  const local = addressKey(joinHostPort(hostname, port));
  if (local === undefined) return undefined;
  const table = readTcpTable();
  if (!table) return undefined;
  const remote = local.startsWith("4:")
    ? keyOf("00000000", 0)
    : keyOf("0".repeat(32), 0);
  const entry = table.get(`${local}|${remote}`);
  if (!entry || entry.state !== TCP_STATE.LISTEN) return undefined;
  return { queued: entry.rxQueue };
}
