/**
 * Each deliberately wrong tracker (`tests/wrong_clients/wrong_tracker.ts`) is
 * marked `fail` on the two-servers or failover behaviour it breaks, for the
 * reason it breaks it.
 */
import { assertWrongClientsFail } from "./_wrong_clients.ts";
import {
  DENO,
  ENDPOINTS,
  SEED,
  TIMING,
  TIMING_FLAGS,
} from "./_tracker_suites.ts";
import { BREAKS } from "./wrong_clients/wrong_tracker.ts";

/** Why each wrong tracker must fail: a piece of its fail summary. */
const EXPECTED: Record<string, RegExp> = {
  "TS-1": /did not reach both servers/,
  "TS-2": /deleted \d+ ms before IP1 sent the ACK/,
  "TS-2/resend-after-ack": /sent \d+ more time\(s\) after the ACK/,
  "TS-3": /IP1 received r1 1 time\(s\)/,
  "TS-4": /IP2 received r1 x[2-9]/,
  "TS-5": /IP2 received \d+ packet\(s\)/,
  "TS-5/drop-packets":
    /every record and packet at IP1, but IP1 never got p-transparent, p-tachograph, p-sdcard, p-garmin$/,
  "TS-6": /connected to IP2 \d+ time\(s\) before its first connection to IP1/,
  "TS-6/no-retry": /a connection to IP1 once it came up, but none came/,
  "TS-7": /delivery was blocked/,
  "TS-8": /but it was \d+\.\d+x/,
  "FO-1": /IP2 received \d+ frame\(s\)/,
  "FO-1/hold":
    /every record delivered to IP1, which ACKs, but IP1 never received r1, r2, r3, r4$/,
  "FO-2": /IP2 never received it \(r1 went ip1 x\d+\)/,
  "FO-2/early-switch":
    /no sooner than the ACK timeout .* r1 reached IP2 \d+ ms after it/,
  "FO-2/back-to-ip1":
    /every record after the switch at IP2 only, but IP1 still received r[23]/,
  "FO-2/hold-new":
    /every record after the switch delivered to IP2, but IP2 never received r2, r3$/,
  "FO-2/extra-resend":
    /r1 sent to IP1 1 time\(s\) .* before switching to IP2, but IP1 received it 2 time\(s\) first/,
  "FO-3": /IP1 received (r\d, )*r2.* after the client had switched to IP2/,
  "FO-3/hold-new":
    /r2, r3 and r4 delivered to IP2 after IP1 recovered, but IP2 never ACKed r2, r3, r4$/,
  "FO-4": /try IP1 again.*r1 went ip1 x1 -> ip2 x\d+$/,
  "FO-4/never-switch":
    /r1 sent to IP2 once IP1 did not ACK it, but it went ip1 x\d+$/,
  "FO-4/ip2-first": /r1 sent to IP1 first, but it went ip2 x1 -> ip1/,
  "FO-5": /IP2 received (r\d, )*r3 after the restart/,
  "FO-5/forget": /IP1 never received r2: it did not survive the restart/,
  "FO-5/in-use":
    /the first connection after the restart to IP1, but the client connected to IP2 first/,
  "FO-5/drop-after-restart":
    /r3, sent after the restart, delivered to IP1, but IP1 never received it/,
  "FO-6": /r\d never sent again after IP\d ACKed it, but it was sent 1 more/,
  "FO-6/unreported":
    /r1 deleted once IP2 ACKed it, but no deleted event for r1$/,
  "FO-6/early-delete": /deleted \d+ ms before the first ACK/,
};

Deno.test("each wrong tracker is marked fail on the behaviour it breaks", async () => {
  await assertWrongClientsFail({
    suites: ["two-servers", "failover"],
    breaks: Object.keys(BREAKS),
    expected: EXPECTED,
    command: (name, suite) =>
      `${DENO} run -A tests/wrong_clients/wrong_tracker.ts --break ${name} ${
        suite === "two-servers" ? "--mirror" : ""
      } ${ENDPOINTS} ${TIMING_FLAGS}`,
    timing: TIMING,
    seed: SEED,
    parallel: 2,
  });
});
