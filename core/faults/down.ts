/**
 * `down`: the listener closes and every connection is closed; removing the
 * fault brings the server back up on the same port. Listen stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition, switchFlag } from "./fault.ts";
import {
  CloseHowSchema,
  type FaultCloseHow,
  STATE_RULE_SHAPE,
  type StateWindow,
} from "./rule.ts";

/** The rule of {@linkcode down}. */
export interface DownRule {
  /** Close open connections with FIN (default) or RST. */
  how?: FaultCloseHow;
  /** For how long, or on a schedule. */
  window?: StateWindow;
}

/** Go down: stop listening and close every connection. */
export const down: FaultDefinition<"down", DownRule> = defineFault<
  "down",
  DownRule
>({
  kind: "down",
  stage: "listen",
  order: 0,
  summary:
    "the listener closes and every connection is closed; removing it brings the server back up on the same port",
  schema: z.object({
    how: CloseHowSchema.optional(),
    ...STATE_RULE_SHAPE,
  }).strict().describe(
    "Go down: stop listening and close every connection; removing it brings the server back up on the same port",
  ),
  ...switchFlag("down", "Start down; bring it up over the admin API"),
  hooks: {
    listen(rule, plan) {
      plan.mode = "closed";
      plan.reason = "down";
      plan.closeOpen = rule.how ?? "fin";
    },
  },
});
