/**
 * The dual-channel (DC) suite: the reference SCADA client passes every
 * check, in this process and as a process; and each deliberately wrong
 * client (`tests/wrong_clients/wrong_scada.ts`) is marked `fail` on the
 * behaviour it breaks, for the reason it breaks it.
 */
import type { Timing } from "../conformance/scenario.ts";
import { assertWrongClientsFail } from "./_wrong_clients.ts";
import { BREAKS } from "./wrong_clients/wrong_scada.ts";
import { assertReferencePasses, DENO } from "./_tracker_suites.ts";

/** Short timing, as the reference client's own tests found stable under load. */
const TIMING: Partial<Timing> = {
  watchdogPeriodMs: 50,
  watchdogTimeoutMs: 400,
  retryMs: 100,
  connectTimeoutMs: 500,
};
const SEED = 13;
const FLAGS =
  "--host-a {hostA} --port-a {portA} --host-b {hostB} --port-b {portB} --local-a {localA} --local-b {localB} --watchdog-period {watchdogPeriodMs}ms --watchdog-timeout {watchdogTimeoutMs}ms --retry {retryMs}ms --connect-timeout {connectTimeoutMs}ms --preferred-net-addr={preferredNetAddr} --preferred-net-nr={preferredNetNr}";

Deno.test("reference SCADA client passes every dual-channel check in process", async () => {
  await assertReferencePasses({
    suite: "dual-channel",
    seed: SEED,
    timing: TIMING,
  });
});

Deno.test("reference SCADA client passes every dual-channel check as a process", async () => {
  await assertReferencePasses({
    suite: "dual-channel",
    command: `${DENO} run -A clients/dual_channel.ts --quiet ${FLAGS}`,
    seed: SEED,
    timing: TIMING,
  });
});

/** Why each wrong client must fail: a piece of its fail summary. */
const EXPECTED: Record<string, RegExp> = {
  "DC-1": /a connection on both channels, A and B, but none came on B/,
  "DC-2": /data to stay on B, the channel that connected first .* went over A/,
  "DC-2/active-on-connect":
    /B, the first channel connected, to be the only active channel, but the client printed {"event":"active","channel":"A"}/,
  "DC-3": /data over the active channel only .* carried d\d.* too/,
  "DC-4": /WATCHDOG messages on the alternate . .* received 0 in that time/,
  "DC-4/recycle":
    /the alternate . kept open and ready, but its connection closed/,
  "DC-5": /in flight on it\), but d2, d3, d4(, d5)? never got an ACK .*: lost/,
  "DC-5/duplicate": /handed to the application once, .*"id":"d2"} 2 times/,
  "DC-5/unreported":
    /reported delivered once the server ACKed it, but the server ACKed d\d but the client never printed it deleted/,
  "DC-6": /tried again every 100 ms .* made 0 connection attempt/,
  "DC-6/give-up":
    /the client to connect on . again once it worked, but nothing came on . in \d+ ms/,
  "DC-6/switch-back": /data to stay on B when A came back .* went over A$/,
  "DC-7": /traffic to move to B, the preferred channel \(PreferredNetNr 2\)/,
  "DC-8":
    /traffic to move to B, the preferred channel \(PreferredNetAddr 127\.0\.2\.0\) once it worked/,
  "DC-8/number":
    /traffic to move to A, the preferred channel \(PreferredNetNr 1\) once it worked/,
  // The address (A) must win over the number (B): caught when traffic fails
  // to move to A, or fails to stay there, whichever the timing shows first.
  "DC-9":
    /traffic to (move to|stay on) A, the preferred channel \(PreferredNetAddr 127\.0\.1\.0 and PreferredNetNr 2\)/,
  "DC-9/both":
    /traffic to move to B, the preferred channel \(PreferredNetAddr 127\.0\.0\.0 and PreferredNetNr 2\)/,
  "DC-10":
    /drop the alternate . once its watchdogs went unanswered .* stayed open/,
  "DC-10/fire-and-forget":
    /d\d+ delivered over . once . was dropped, but the server never ACKed it/,
  "DC-10/late":
    /drop the silent alternate . within its 400 ms timeout \(allowing \d+ ms\), but it dropped it only after \d+ ms/,
};

Deno.test("each wrong SCADA client is marked fail on the behaviour it breaks", async () => {
  await assertWrongClientsFail({
    suites: ["dual-channel"],
    breaks: Object.keys(BREAKS),
    expected: EXPECTED,
    command: (name) =>
      `${DENO} run -A tests/wrong_clients/wrong_scada.ts --break ${name} ${FLAGS}`,
    timing: TIMING,
    seed: SEED,
    parallel: 2,
  });
});
