/**
 * The preferred channel of a client with two channels (behaviours DC-8 and
 * DC-9): set by network address (`PreferredNetAddr`) or by adapter number
 * (`PreferredNetNr`); the address wins unless it is unset or matches both
 * channels or neither.
 *
 * @module
 */
import { onNetwork, parseNetworkMask } from "../core/net/ipv4.ts";
import type { Channel } from "../servers/watchdog_echo.ts";

/** Where one channel connects to, and the local address (adapter) it binds. */
export interface ChannelEndpoint {
  /** The server's address on this channel's network. */
  hostname: string;
  /** The server's port on this channel. */
  port: number;
  /** The local address to bind: this channel's adapter (default: any). */
  localAddress?: string;
}

/** The settings {@linkcode preferredChannel} decides by. */
export interface PreferenceOptions {
  /** Channel A (the first adapter) and channel B (the second). */
  channels: Record<Channel, ChannelEndpoint>;
  /**
   * The preferred network (`PreferredNetAddr`): an IPv4 network address
   * whose trailing zero octets are wildcards (`172.16.0.0` is 172.16.x.x),
   * or `address/bits`. A channel is on it when its local or server address
   * is.
   */
  preferredNetAddr?: string;
  /** The preferred adapter (`PreferredNetNr`): 1 is channel A, 2 is channel B. */
  preferredNetNr?: number;
}

/** Which channel is preferred, and which setting decided it. */
export interface Preference {
  /** The preferred channel, if any. */
  channel?: Channel;
  /** `address` (`preferredNetAddr`), `number` (`preferredNetNr`) or `none`. */
  by: "address" | "number" | "none";
}
/**
 * Decides the preferred channel (DC-8, DC-9). `preferredNetAddr` decides
 * when exactly one channel is on that network (its local address or its
 * server address is); when it is unset, or matches both channels or
 * neither, `preferredNetNr` decides (1 is A, 2 is B); with neither setting
 * no channel is preferred.
 *
 * @example Usage
 * ```ts
 * import { preferredChannel } from "./preferred_channel.ts";
 * preferredChannel({
 *   channels: {
 *     A: { hostname: "127.0.1.1", port: 7040 },
 *     B: { hostname: "127.0.2.1", port: 7040 },
 *   },
 *   preferredNetAddr: "127.0.2.0",
 *   preferredNetNr: 1,
 * }); // { channel: "B", by: "address" }
 * ```
 */
export function preferredChannel(
  options: PreferenceOptions,
): Preference {
  const nr = options.preferredNetNr;
  if (nr !== undefined && nr !== 1 && nr !== 2) {
    throw new RangeError(
      `Cannot use preferredNetNr ${nr}: expected 1 (channel A) or 2 (channel B)`,
    );
  }
  if (options.preferredNetAddr !== undefined) {
    const mask = parseNetworkMask(options.preferredNetAddr);
    const on = (channel: Channel) => {
      const endpoint = options.channels[channel];
      return onNetwork(mask, endpoint.hostname) ||
        (endpoint.localAddress !== undefined &&
          onNetwork(mask, endpoint.localAddress));
    };
    const a = on("A");
    const b = on("B");
    if (a !== b) return { channel: a ? "A" : "B", by: "address" };
  }
  if (nr !== undefined) return { channel: nr === 1 ? "A" : "B", by: "number" };
  return { by: "none" };
}
