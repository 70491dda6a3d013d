/**
 * `delayAck`: the ACK goes out `ms` (+ 0..`jitterMs`, seeded) late. Reply
 * stage.
 *
 * @module
 */
import { z } from "zod";
import { parseDuration } from "../units/units.ts";
import { defineFault, type FaultDefinition } from "./fault.ts";
import { type FaultRule, RULE_SHAPE } from "./rule.ts";

/** The rule of {@linkcode delayAck}. */
export interface DelayAckRule extends FaultRule {
  /** Delay in milliseconds. */
  ms: number;
  /** Extra random delay, 0 to this many milliseconds (seeded). */
  jitterMs?: number;
}

/** Send the ACK late; the connection journals `ack_delayed`, then `ack_sent`. */
export const delayAck: FaultDefinition<"delayAck", DelayAckRule> = defineFault(
  {
    kind: "delayAck",
    stage: "reply",
    order: 4,
    summary:
      "the ACK is sent `ms` + 0..`jitterMs` later; journal `ack_delayed` then `ack_sent`",
    schema: z.object({
      ms: z.number().min(0).max(3_600_000).describe("Delay in milliseconds"),
      jitterMs: z.number().min(0).max(3_600_000).optional().describe(
        "Extra random delay, 0 to this many milliseconds",
      ),
      ...RULE_SHAPE,
    }).strict().describe("Send the ACK late"),
    flags: [{
      name: "delay-ack",
      type: "string",
      value: "DURATION",
      description: "Delay every ACK (200ms, 1.5s)",
    }, {
      name: "delay-jitter",
      type: "string",
      value: "DURATION",
      description: "With --delay-ack: add 0 to this much, seeded",
    }],
    fromFlags(flags) {
      const ms = flags.value("delay-ack", parseDuration);
      const jitterMs = flags.value("delay-jitter", parseDuration);
      if (jitterMs !== undefined && ms === undefined) {
        flags.fail("delay-jitter", "it needs --delay-ack");
      }
      if (ms === undefined) return undefined;
      return { ms, ...(jitterMs ? { jitterMs } : {}) };
    },
    hooks: {
      reply(rule, tools, call) {
        if (!tools.decide(call.conn, call.id)) return;
        call.delayMs = rule.ms +
          (rule.jitterMs ? tools.draw(call.conn, 0, rule.jitterMs) : 0);
      },
    },
  },
);
