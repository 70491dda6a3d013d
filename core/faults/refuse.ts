/**
 * `refuse`: the listener closes; open connections go on. Listen stage.
 *
 * @module
 */
import {
  defineFault,
  type FaultDefinition,
  stateRule,
  switchFlag,
} from "./fault.ts";
import type { StateRule } from "./rule.ts";

/**
 * Stop listening: new connections are refused (ECONNREFUSED). Its rule: for
 * how long, or on a schedule.
 */
export const refuse: FaultDefinition<"refuse", StateRule> = defineFault({
  kind: "refuse",
  stage: "listen",
  order: 1,
  summary:
    "the listener closes: new connections are refused (ECONNREFUSED); open ones go on",
  schema: stateRule(
    "Stop listening: new connections are refused; open ones go on",
  ),
  ...switchFlag("refuse", "Start refusing connections (not listening)"),
  hooks: {
    listen(_rule, plan) {
      if (plan.mode === "closed") return;
      plan.mode = "closed";
      plan.reason = "refuse";
    },
  },
});
