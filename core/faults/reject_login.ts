/**
 * `rejectLogin`: a device's login is refused. Frame-in stage: it changes the
 * answer the protocol owes for the login frame.
 *
 * @module
 */
import { defineFault, type FaultDefinition, rateRule } from "./fault.ts";
import type { FaultRule } from "./rule.ts";

/** Refuse a device's login (Teltonika: answer `00` instead of `01`). */
export const rejectLogin: FaultDefinition<"rejectLogin", FaultRule> =
  defineFault({
    kind: "rejectLogin",
    stage: "frameIn",
    order: 1,
    summary: "a device's login is refused (Teltonika answers `00`)",
    ...rateRule(
      "Reject a device's login (Teltonika: answer 00 instead of 01)",
      "reject-login",
      "Reject this share of device logins (teltonika: 00)",
    ),
    hooks: {
      frameIn(_rule, tools, call) {
        const owed = call.owed;
        if (
          owed?.type === "login_ack" && owed.accepted !== false &&
          tools.decide(call.conn)
        ) call.owed = { ...owed, accepted: false };
      },
    },
  });
