/**
 * `refuse`: the listener closes; open connections go on. Listen stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition } from "./fault.ts";
import { STATE_RULE_SHAPE, type StateWindow } from "./rule.ts";

/** The rule of {@linkcode refuse}. */
export interface RefuseRule {
  /** For how long, or on a schedule. */
  window?: StateWindow;
}

/** Stop listening: new connections are refused (ECONNREFUSED). */
export const refuse: FaultDefinition<"refuse", RefuseRule> = defineFault<
  "refuse",
  RefuseRule
>({
  kind: "refuse",
  stage: "listen",
  order: 1,
  summary:
    "the listener closes: new connections are refused (ECONNREFUSED); open ones go on",
  schema: z.object(STATE_RULE_SHAPE).strict().describe(
    "Stop listening: new connections are refused; open ones go on",
  ),
  flags: [{
    name: "refuse",
    type: "boolean",
    description: "Start refusing connections (not listening)",
  }],
  fromFlags: (flags) => flags.on("refuse") ? {} : undefined,
  hooks: {
    listen(_rule, plan) {
      if (plan.mode === "closed") return;
      plan.mode = "closed";
      plan.reason = "refuse";
    },
  },
});
