/**
 * `blackHole`: keep reading, never answer. Bytes-out stage (a gate on every
 * write); on a link that forwards (a proxy), bytes in are swallowed too.
 *
 * @module
 */
import {
  defineFault,
  type FaultDefinition,
  switchFlag,
  targetedStateRule,
} from "./fault.ts";
import type { TargetedStateRule } from "./rule.ts";

/**
 * Nothing goes out: every frame or byte written is kept in and journalled.
 * Its rule: a window and a target (on a proxy, a direction too).
 */
export const blackHole: FaultDefinition<"blackHole", TargetedStateRule> =
  defineFault({
    kind: "blackHole",
    stage: "bytesOut",
    summary:
      "frames are read and journalled, nothing is ever answered; a proxy swallows bytes both ways",
    schema: targetedStateRule(
      "Keep reading, never answer: no ACK, echo or error goes out",
    ),
    ...switchFlag("black-hole", "Accept and read, never answer"),
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
