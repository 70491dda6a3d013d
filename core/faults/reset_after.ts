/**
 * `resetAfter`: a connection is reset (RST) once it has sent `bytes` bytes,
 * or `ms` milliseconds after it was accepted, whichever comes first. Accept
 * stage (the timer) and bytes-in stage (the count), on any server and on a
 * proxy link.
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

/** The rule of {@linkcode resetAfter}. */
export interface ResetAfterRule extends TargetedStateRule {
  /** Reset once the peer has sent this many bytes. */
  bytes?: number;
  /** Reset this many milliseconds after accept. */
  ms?: number;
}

const KIND = "resetAfter";
const REASON = `fault:${KIND}`;

/** Reset a connection after N bytes in or N ms after accept. */
export const resetAfter: FaultDefinition<"resetAfter", ResetAfterRule> =
  defineFault({
    kind: "resetAfter",
    stage: "accept",
    summary:
      "a connection is reset (RST) once it has sent `bytes` bytes, or `ms` after accept",
    schema: z.object({
      bytes: z.number().int().min(1).optional().describe(
        "Reset once the peer has sent this many bytes",
      ),
      ms: z.number().min(0).max(MAX_TIMER_MS).optional().describe(
        "Reset this many milliseconds after accept",
      ),
      ...TARGETED_STATE_RULE_SHAPE,
    }).strict().refine(
      (rule) => rule.bytes !== undefined || rule.ms !== undefined,
      {
        message: "Cannot reset after nothing: give bytes, ms, or both",
      },
    ).describe("Reset (RST) a connection after N bytes in or N ms"),
    hooks: {
      accept(rule, tools, conn) {
        if (rule.ms === undefined) return;
        conn.after(rule.ms, () => {
          tools.fired(conn, { after: "ms", ms: rule.ms });
          conn.close("rst", REASON);
        });
      },
      bytesIn(rule, tools, { conn, next }) {
        const limit = rule.bytes;
        if (limit === undefined) return next;
        // The count outlives a rebuild of the pipe (a change of faults).
        let seen = conn.faultState.get(KIND) as { seen: number } | undefined;
        if (!seen) conn.faultState.set(KIND, seen = { seen: 0 });
        const count = seen;
        return {
          write(chunk) {
            if (conn.closing) return;
            if (count.seen + chunk.length < limit) {
              count.seen += chunk.length;
              return next.write(chunk);
            }
            // The bytes up to the limit still reach the server.
            if (limit > count.seen) {
              next.write(chunk.subarray(0, limit - count.seen));
            }
            count.seen = limit;
            tools.fired(conn, { after: "bytes", bytes: limit });
            conn.close("rst", REASON);
          },
          end: () => next.end(),
        };
      },
    },
  });
