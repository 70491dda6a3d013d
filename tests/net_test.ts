import assert from "node:assert/strict";
import {
  ipHex,
  joinHostPort,
  onNetwork,
  parseHostPort,
  parseIpv4,
  parseNetworkMask,
} from "../core/net/mod.ts";

Deno.test("joinHostPort brackets IPv6 hosts and parseHostPort reads them back", () => {
  for (
    const [hostname, port, text] of [
      ["127.0.0.1", 7000, "127.0.0.1:7000"],
      ["::1", 80, "[::1]:80"],
      ["localhost", 0, "localhost:0"],
    ] as const
  ) {
    assert.equal(joinHostPort(hostname, port), text);
    assert.deepEqual(parseHostPort(text), { hostname, port });
  }
});

Deno.test("parseIpv4 reads dotted quads only", () => {
  assert.equal(parseIpv4("127.0.0.1"), 0x7f000001);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  for (const bad of ["256.0.0.1", "1.2.3", "localhost", "::1", "1.2.3.4.5"]) {
    assert.equal(parseIpv4(bad), undefined, bad);
  }
});

Deno.test("ipHex spells one address one way (IPv4, IPv6, mapped, zones)", () => {
  assert.equal(ipHex("127.0.0.1"), "7f000001");
  assert.equal(ipHex("::1"), "0".repeat(31) + "1");
  assert.equal(ipHex("::ffff:127.0.0.1"), "0".repeat(20) + "ffff7f000001");
  assert.equal(ipHex("fe80::1%eth0"), "fe80" + "0".repeat(27) + "1");
  assert.equal(ipHex("1::2::3"), undefined);
  assert.equal(ipHex("example.com"), undefined);
});

Deno.test("onNetwork matches addresses on a network and never names", () => {
  const mask = parseNetworkMask("127.0.2.0");
  assert.equal(mask.bits, 24);
  assert.equal(onNetwork(mask, "127.0.2.9"), true);
  assert.equal(onNetwork(mask, "127.0.3.9"), false);
  assert.equal(onNetwork(mask, "localhost"), false);
  assert.equal(onNetwork(parseNetworkMask("0.0.0.0"), "10.1.2.3"), true);
});
