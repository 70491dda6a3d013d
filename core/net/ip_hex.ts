/**
 * IP literals as fixed-width hex: 8 digits for IPv4, 32 for IPv6, the form
 * the kernel's tables use, so that two spellings of one address compare
 * equal.
 *
 * @module
 */
import { parseIpv4 } from "./ipv4.ts";

/**
 * An IP literal as lower-case hex: 8 digits for IPv4 (`127.0.0.1` is
 * `7f000001`), 32 for IPv6 (`::` shorthand expanded, a zone dropped, a
 * dotted IPv4 tail allowed). Returns `undefined` for anything else.
 *
 * @example Usage
 * ```ts
 * import { ipHex } from "./ip_hex.ts";
 * ipHex("127.0.0.1"); // "7f000001"
 * ipHex("::1"); // "00000000000000000000000000000001"
 * ```
 */
export function ipHex(host: string): string | undefined {
  return host.includes(":") ? ipv6Hex(host) : ipv4Hex(host);
}

function ipv4Hex(host: string): string | undefined {
  return parseIpv4(host)?.toString(16).padStart(8, "0");
}

function ipv6Hex(host: string): string | undefined {
  let text = host.split("%")[0].toLowerCase();
  let tail = "";
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    const v4 = ipv4Hex(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = v4;
    text = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string) => part === "" ? [] : part.split(":");
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return undefined;
  const all = [...head, ...Array(fill).fill("0"), ...rest];
  if (!all.every((group) => /^[0-9a-f]{1,4}$/.test(group))) return undefined;
  const hex = all.map((group) => group.padStart(4, "0")).join("");
  return tail ? hex.slice(0, 24) + tail : hex;
}
