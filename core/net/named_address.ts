/**
 * Named addresses, `name=host:port`, and lists of them: how the failover
 * agent and the message store name their servers and fronts.
 *
 * @module
 */
import { type HostPort, parseHostPort } from "./host_port.ts";

/** A named address: `ml1=127.0.0.1:7050`. */
export interface NamedAddress extends HostPort {
  /** The name (letters, digits, `.`, `_`, `-`). */
  name: string;
}

/**
 * Parses `name=host:port` into its parts.
 *
 * @example Usage
 * ```ts
 * import { parseNamedAddress } from "./named_address.ts";
 * parseNamedAddress("ml1=127.0.0.1:7050"); // { name: "ml1", hostname: "127.0.0.1", port: 7050 }
 * ```
 */
export function parseNamedAddress(text: string): NamedAddress {
  const at = text.indexOf("=");
  const name = text.slice(0, at).trim();
  if (at < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new RangeError(
      `Cannot parse named address "${text}": expected name=host:port, such as ml1=127.0.0.1:7050`,
    );
  }
  return { name, ...parseHostPort(text.slice(at + 1)) };
}

/**
 * Parses a comma-separated list of `name=host:port`, in order, with
 * distinct names.
 *
 * @example Usage
 * ```ts
 * import { parseNamedAddressList } from "./named_address.ts";
 * parseNamedAddressList("ml1=127.0.0.1:7050,ml2=127.0.0.1:7052");
 * ```
 */
export function parseNamedAddressList(text: string): NamedAddress[] {
  const list = text.split(",").filter((part) => part.trim() !== "").map(
    parseNamedAddress,
  );
  if (list.length === 0) {
    throw new RangeError(
      `Cannot parse address list "${text}": expected name=host:port,...`,
    );
  }
  const seen = new Set<string>();
  for (const { name } of list) {
    if (seen.has(name)) {
      throw new RangeError(
        `Cannot parse address list "${text}": the name "${name}" is given twice`,
      );
    }
    seen.add(name);
  }
  return list;
}
