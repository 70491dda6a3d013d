/**
 * `trickle`: every connection gets one byte every `everyMs`, so it is never
 * idle, yet no frame ever completes. Accept stage (it starts a timer per
 * connection); journalled as `trickle` events.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition } from "./fault.ts";
import {
  MAX_TIMER_MS,
  TARGETED_STATE_RULE_SHAPE,
  type TargetedStateRule,
} from "./rule.ts";

/** The rule of {@linkcode trickle}. */
export interface TrickleRule extends TargetedStateRule {
  /** Milliseconds between two bytes (default 1000). */
  everyMs?: number;
  /** The byte sent (default 0x20, a space: never ends a line). */
  byte?: number;
}

/** Send one byte at a time, forever, to each new connection. */
export const trickle: FaultDefinition<"trickle", TrickleRule> = defineFault({
  kind: "trickle",
  stage: "accept",
  summary:
    "each new connection gets one byte (a space) every `everyMs`: never idle, never a frame; journal `trickle`",
  schema: z.object({
    everyMs: z.number().min(1).max(MAX_TIMER_MS).optional().describe(
      "Milliseconds between two bytes (default 1000)",
    ),
    byte: z.number().int().min(0).max(255).optional().describe(
      "The byte sent (default 0x20, a space: never ends a line)",
    ),
    ...TARGETED_STATE_RULE_SHAPE,
  }).strict().describe("Send one byte every everyMs, never a frame"),
  hooks: {
    accept(rule, tools, conn) {
      const byte = Uint8Array.of(rule.byte ?? 0x20);
      let sent = 0;
      conn.every(rule.everyMs ?? 1000, () => {
        if (conn.writeBytes(byte)) {
          tools.journal.append("trickle", { conn: conn.conn, bytes: ++sent });
        }
      });
    },
  },
});
