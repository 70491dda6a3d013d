/**
 * `noAccept`: the server listens with a tiny backlog and never accepts; the
 * accept queue is full, so the kernel drops new SYNs and `connect()` hangs
 * until the client's own timeout. Listen stage.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition } from "./fault.ts";
import { STATE_RULE_SHAPE, type StateWindow } from "./rule.ts";

/** The rule of {@linkcode noAccept}. */
export interface NoAcceptRule {
  /** The listen backlog; Linux admits `backlog + 1` connections (default 0). */
  backlog?: number;
  /**
   * Fill the accept queue with the server's own connections, so that every
   * client's connect hangs (default true).
   */
  fillQueue?: boolean;
  /** For how long, or on a schedule. */
  window?: StateWindow;
}

/** Listen, never accept. */
export const noAccept: FaultDefinition<"noAccept", NoAcceptRule> = defineFault(
  {
    kind: "noAccept",
    stage: "listen",
    order: 2,
    summary:
      "the server listens with a tiny backlog and never accepts: once the queue is full, connects hang",
    schema: z.object({
      backlog: z.number().int().min(0).max(65535).optional().describe(
        "The listen backlog; Linux admits backlog + 1 connections (default 0)",
      ),
      fillQueue: z.boolean().optional().describe(
        "Fill the accept queue with the server's own connections so every connect hangs (default true)",
      ),
      ...STATE_RULE_SHAPE,
    }).strict().describe("Listen with a tiny backlog and never accept"),
    hooks: {
      listen(rule, plan) {
        if (plan.mode === "closed") return;
        plan.mode = "no-accept";
        plan.reason = "noAccept";
        plan.backlog = rule.backlog ?? 0;
        plan.fillQueue = rule.fillQueue ?? true;
      },
    },
  },
);
