/**
 * `reset`: new connections are accepted, then reset (RST). Accept stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition, rateFlag } from "./fault.ts";
import { type FaultRule, RULE_SHAPE } from "./rule.ts";

/** Accept new connections, then reset them. */
export const reset: FaultDefinition<"reset", FaultRule> = defineFault<
  "reset",
  FaultRule
>({
  kind: "reset",
  stage: "accept",
  summary: "new connections are accepted, then reset (RST)",
  schema: z.object(RULE_SHAPE).strict().describe(
    "Accept new connections, then reset them (RST)",
  ),
  ...rateFlag("reset", "Reset (RST) this share of new connections"),
  hooks: {
    accept(_rule, tools, conn) {
      if (tools.decide(conn)) conn.close("rst", "fault:reset");
    },
  },
});
