/**
 * The agent suite (QA): the reference agent passes every check, in this
 * process and as a process; and each deliberately wrong agent
 * (`tests/wrong_clients/wrong_agent.ts`) is marked `fail` on the behaviour
 * it breaks, for the reason it breaks it.
 */
import type { Timing } from "../conformance/scenario.ts";
import { assertWrongClientsFail } from "./_wrong_clients.ts";
import { BREAKS } from "./wrong_clients/wrong_agent.ts";
import { assertReferencePasses, DENO } from "./_tracker_suites.ts";

/** Short timing, so the whole file stays fast. */
const TIMING: Partial<Timing> = {
  ackTimeoutMs: 400,
  connectTimeoutMs: 800,
  failoverDelayMs: 200,
  failoverRetries: 0,
};
const SEED = 11;
const FLAGS =
  "--servers {servers} --agent {agent} -fr {failoverRetries} -fd {failoverDelayMs}ms --connect-timeout {connectTimeoutMs}ms --ack-timeout {ackTimeoutMs}ms";

Deno.test("reference agent passes every agent check in process (QA-1..QA-9)", async () => {
  await assertReferencePasses({
    suite: "agent",
    seed: SEED,
    timing: TIMING,
  });
});

Deno.test("reference agent passes every agent check as a process, with -fr 1 (QA-1..QA-9)", async () => {
  await assertReferencePasses({
    suite: "agent",
    command: `${DENO} run -A clients/failover_agent.ts --quiet ${FLAGS}`,
    seed: SEED,
    timing: { ...TIMING, failoverRetries: 1 },
  });
});

/** Why each wrong agent must fail: a piece of its fail summary. */
const EXPECTED: Record<string, RegExp> = {
  "QA-1": /first connection to go to ml2.*but it went to ml1/,
  "QA-1/agent-name":
    /each hello to name the agent "qa-agent" \(its {agent}\), but its hello to ml2 named "agent"/,
  "QA-1/no-primary":
    /each hello to name ml2, the first of the list ml2,ml3,ml1, as the primary, but its hello to ml2 named no primary/,
  "QA-2": /-fr 0, the default\), but the agent tried ml1 2 times first/,
  "QA-2/never-alternate":
    /the alternate ml2 tried once the primary ml1 failed, but the agent never connected to ml2 \(ml1 x\d+\)/,
  "QA-2/wait": /tried at once \(within \d+ ms\).*came \d+ ms later/,
  "QA-3": /3 tries of the primary ml1 \(-fr 2\).*went ml1 x1 -> ml2 x1/,
  "QA-3/no-delay": /-fd 200 ms apart, but retry \d came \d+ ms after/,
  "QA-3/alternates": /alternate ml2 tried once.*tried 3 times/,
  "QA-4": /in list order \(ml2, ml3\).*ml1 x1 -> ml3 x1 -> ml2 x1/,
  "QA-5": /m1, m2, m3 went out to it \d+ time\(s\) but were never ACKed/,
  "QA-6": /no push while the agent is on the alternate ml2.*ml2 pushed to it/,
  "QA-6/no-primary":
    /a push through its primary ml1 when m1 arrived, but ml1 withheld it: the agent's hello there named no primary/,
  "QA-6/push-on-welcome":
    /no push reaching the agent while it is on the alternate ml2, but it printed 1 push event\(s\) while on ml2/,
  "QA-7": /printed deleted a1 while it was down/,
  "QA-7/forget":
    /a1 kept by the agent while the store was down and delivered once it was back, but a1 never reached the shared store/,
  "QA-8": /ml1 dropped a1's ACK and the agent never sent a1 again/,
  "QA-8/early-delete":
    /a\d to leave the client store only once a server ACKed it, but it was deleted \d+ ms before the first ACK/,
  "QA-8/ack-unstored": /it ACKed m2 .* never printed it as received/,
  "QA-8/ack-then-lose":
    /it ACKed m1, m2 .* never printed them as received, though it printed m3/,
  "QA-9": /after a lost connection to start at the primary ml1.*went to ml2/,
  "QA-9/restart":
    /the first attempt after a restart to go to the primary ml1, but it went to ml2/,
};

Deno.test("each wrong agent is marked fail on the behaviour it breaks (QA-1..QA-9)", async () => {
  await assertWrongClientsFail({
    suites: ["agent"],
    breaks: Object.keys(BREAKS),
    expected: EXPECTED,
    command: (name) =>
      `${DENO} run -A tests/wrong_clients/wrong_agent.ts --break ${name} ${FLAGS}`,
    timing: TIMING,
    seed: SEED,
    parallel: 2,
  });
});
