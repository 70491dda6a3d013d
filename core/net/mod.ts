/**
 * Network addresses, in one place as std's `net/` keeps them: `host:port`
 * joined and parsed, named addresses (`ml1=127.0.0.1:7050`), IPv4 literals
 * and networks, and IP literals as the kernel's hex.
 *
 * @module
 */
export * from "./host_port.ts";
export * from "./ip_hex.ts";
export * from "./ipv4.ts";
export * from "./named_address.ts";
