/**
 * `noRead`: a new connection is never read, so the peer's writes fill the
 * TCP window and its `write` stops draining. Accept stage.
 *
 * @module
 */
import {
  defineFault,
  type FaultDefinition,
  targetedStateRule,
} from "./fault.ts";
import type { TargetedStateRule } from "./rule.ts";

/**
 * Stop reading a connection as soon as it is accepted. Its rule: for how
 * long (new connections while it is in force) or on a schedule, and which
 * connections.
 */
export const noRead: FaultDefinition<"noRead", TargetedStateRule> = defineFault(
  {
    kind: "noRead",
    stage: "accept",
    summary:
      "new connections are accepted and never read: the peer's writes fill the TCP window",
    schema: targetedStateRule(
      "Never read new connections: the peer's writes fill the TCP window",
    ),
    hooks: {
      accept(_rule, _tools, conn) {
        conn.pauseReading();
      },
    },
  },
);
