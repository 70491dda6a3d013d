/**
 * `noRead`: a new connection is never read, so the peer's writes fill the
 * TCP window and its `write` stops draining. Accept stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition } from "./fault.ts";
import { TARGETED_STATE_RULE_SHAPE, type TargetedStateRule } from "./rule.ts";

/**
 * The rule of {@linkcode noRead}: for how long (new connections while it is
 * in force) or on a schedule, and which connections.
 */
export type NoReadRule = TargetedStateRule;

/** Stop reading a connection as soon as it is accepted. */
export const noRead: FaultDefinition<"noRead", NoReadRule> = defineFault<
  "noRead",
  NoReadRule
>({
  kind: "noRead",
  stage: "accept",
  summary:
    "new connections are accepted and never read: the peer's writes fill the TCP window",
  schema: z.object(TARGETED_STATE_RULE_SHAPE).strict().describe(
    "Never read new connections: the peer's writes fill the TCP window",
  ),
  hooks: {
    accept(_rule, _tools, conn) {
      conn.pauseReading();
    },
  },
});
