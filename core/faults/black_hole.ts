/**
 * `blackHole`: keep reading, never answer. Bytes-out stage (a gate on every
 * write); on a link that forwards (a proxy), bytes in are swallowed too.
 *
 * @module
 */
import { z } from "zod";
import { defineFault, type FaultDefinition } from "./fault.ts";
import { TARGETED_STATE_RULE_SHAPE, type TargetedStateRule } from "./rule.ts";

/** The rule of {@linkcode blackHole}: a window and a target (on a proxy, a direction too). */
export type BlackHoleRule = TargetedStateRule;

/** Nothing goes out: every frame or byte written is kept in and journalled. */
export const blackHole: FaultDefinition<"blackHole", BlackHoleRule> =
  defineFault<"blackHole", BlackHoleRule>({
    kind: "blackHole",
    stage: "bytesOut",
    summary:
      "frames are read and journalled, nothing is ever answered; a proxy swallows bytes both ways",
    schema: z.object(TARGETED_STATE_RULE_SHAPE).strict().describe(
      "Keep reading, never answer: no ACK, echo or error goes out",
    ),
    flags: [{
      name: "black-hole",
      type: "boolean",
      description: "Accept and read, never answer",
    }],
    fromFlags: (flags) => flags.on("black-hole") ? {} : undefined,
    hooks: {
      gate(_rule, tools, conn, what, id, bytes) {
        tools.fired(
          conn,
          what === "bytes"
            ? { suppressed: "bytes", direction: "out", bytes }
            : { suppressed: what, ...(id !== undefined ? { id } : {}) },
        );
        return false;
      },
      bytesIn(_rule, tools, { conn, next }) {
        // An endpoint reads what comes (and journals it); a proxy drops it.
        if (!conn.forwards) return next;
        return {
          write(chunk) {
            tools.fired(conn, {
              suppressed: "bytes",
              direction: "in",
              bytes: chunk.length,
            });
          },
          end: () => next.end(),
        };
      },
    },
  });
