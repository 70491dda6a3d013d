/**
 * Scenarios of the dual-channel suite (DC-1..DC-10): a SCADA client with two
 * channels to one watchdog-echo server, channel A on 127.0.1.1 (the first
 * network, adapter 1) and channel B on 127.0.2.1 (the second, adapter 2).
 * The client binds `{localA}` (127.0.1.2) and `{localB}` (127.0.2.2), and
 * gets its preference through `{preferredNetAddr}` and `{preferredNetNr}`,
 * empty when unset (DC-7, DC-8, DC-9 set them).
 *
 * The active channel is judged from where data frames arrive; the client's
 * `{"event":"active"}` and `{"event":"deleted"}` lines are used where a
 * check needs them.
 *
 * @module
 */
import type { Scenario, ScenarioContext, Verdict } from "../scenario.ts";
import { numberedScenarios } from "../scenario.ts";
import {
  type Channel,
  CHANNELS,
  dcSoon,
  describePreference,
  DualChannelRig,
  LOCAL_ADDRESSES,
  msText,
  otherChannel,
  type PreferenceSetting,
  trafficAndWatchdogs,
} from "./_dual_channel.ts";

function list(ids: string[]): string {
  return ids.join(", ");
}

function hostOf(peer: unknown): string {
  const text = String(peer ?? "");
  const colon = text.lastIndexOf(":");
  return colon === -1 ? text : text.slice(0, colon);
}

/** Waits for both channels; a fail verdict if the client did not connect both. */
async function bothConnected(
  ctx: ScenarioContext,
  rig: DualChannelRig,
): Promise<Verdict | undefined> {
  const ms = dcSoon(ctx, 3);
  if (await rig.untilConnected(CHANNELS, 0, ms)) return undefined;
  const missing = CHANNELS.filter((ch) => rig.connections(ch).length === 0);
  return ctx.fail(
    "the client connected on both channels before the check goes on",
    `it did not connect on ${missing.join(" and ")} in ${msText(ms)}`,
    rig.evidence(),
  );
}

/** Sends one message and waits for its ACK: the channel it went over (the active one). */
async function findActive(
  ctx: ScenarioContext,
  rig: DualChannelRig,
): Promise<{ active?: Channel; id: string; fail?: Verdict }> {
  const id = await rig.sendData();
  const active = await rig.untilArrived(id);
  const unacked = await rig.untilAcked([id]);
  if (!active || unacked.length > 0) {
    return {
      id,
      fail: ctx.fail(
        `${id} delivered over the active channel`,
        active
          ? `it reached the server on ${active} but no ACK went out`
          : `it never reached the server in ${msText(dcSoon(ctx, 1))}`,
        rig.evidence(),
      ),
    };
  }
  return { active, id };
}

/** Starts the rig and the client: the rig once both channels are connected, or a fail verdict. */
async function startBoth(
  ctx: ScenarioContext,
): Promise<{ rig: DualChannelRig; fail?: undefined } | { fail: Verdict }> {
  const rig = await DualChannelRig.start(ctx);
  await rig.startClient();
  const notBoth = await bothConnected(ctx, rig);
  return notBoth ? { fail: notBoth } : { rig };
}

/**
 * {@linkcode startBoth}, then {@linkcode findActive}: the rig, the active
 * channel, the alternate and the message that found them, or a fail verdict.
 */
async function startWithActive(
  ctx: ScenarioContext,
): Promise<
  | {
    rig: DualChannelRig;
    active: Channel;
    alternate: Channel;
    id: string;
    fail?: undefined;
  }
  | { fail: Verdict }
> {
  const started = await startBoth(ctx);
  if (started.fail) return started;
  const found = await findActive(ctx, started.rig);
  if (found.fail) return { fail: found.fail };
  const active = found.active!;
  return {
    rig: started.rig,
    active,
    alternate: otherChannel(active),
    id: found.id,
  };
}

async function dc1(ctx: ScenarioContext): Promise<Verdict> {
  const rig = await DualChannelRig.start(ctx);
  await rig.startClient();
  const ms = dcSoon(ctx, 3);
  await rig.untilConnected(CHANNELS, 0, ms);
  const evidence = rig.evidence();
  const missing = CHANNELS.filter((ch) => rig.connections(ch).length === 0);
  if (missing.length > 0) {
    return ctx.fail(
      "a connection on both channels, A and B",
      `none came on ${missing.join(" and ")} in ${msText(ms)}`,
      evidence,
    );
  }
  const peers = CHANNELS.map((ch) => rig.connections(ch)[0].peer);
  const unbound = CHANNELS.filter((ch, i) =>
    hostOf(peers[i]) !== LOCAL_ADDRESSES[ch]
  );
  return ctx.pass(
    `the client connected on A (from ${peers[0]}) and on B (from ${peers[1]})${
      unbound.length > 0
        ? `, not from the local address given for ${
          unbound.join(" and ")
        } (not judged)`
        : ""
    }`,
    evidence,
  );
}

async function dc2(ctx: ScenarioContext): Promise<Verdict> {
  // A refuses at first, so B is the first channel to connect.
  const rig = await DualChannelRig.start(ctx, { A: { refuse: {} } });
  ctx.note("runner", "A refuses connections at first");
  await rig.startClient();
  if (!await rig.untilConnected(["B"])) {
    return ctx.fail(
      "the client to connect on B while A refuses",
      `it did not in ${msText(dcSoon(ctx, 3))}`,
      rig.evidence(),
    );
  }
  const first = await rig.sendData();
  const firstOn = await rig.untilArrived(first);
  if (firstOn !== "B") {
    return ctx.fail(
      `${first} over B, the only channel connected`,
      `it never reached the server in ${msText(dcSoon(ctx, 1))}`,
      rig.evidence(),
    );
  }
  ctx.note("runner", "A comes up");
  const upAt = performance.now();
  await rig.server.restore("A");
  if (!await rig.untilSpeaking("A", upAt)) {
    return ctx.fail(
      "the client to connect on A once A came up, as the alternate",
      `nothing came on A in ${msText(dcSoon(ctx, 1))}`,
      rig.evidence(),
    );
  }
  // Time for a client that would move to A to do so.
  await ctx.observe(ctx.timing.watchdogPeriodMs * 3);
  const later = await rig.sendSome(2, "A");
  const evidence = [
    ...rig.evidence(),
    ...ctx.clientEvidence(ctx.clientEvents((e) => e.event === "active")),
  ];
  if (later.on.length > 0) {
    return ctx.fail(
      "data to stay on B, the channel that connected first (A the alternate)",
      `${list(later.on)} went over A once A connected`,
      evidence,
    );
  }
  if (later.missing.length > 0) {
    return ctx.fail(
      `${list(later.ids)} over B, the active channel`,
      `${list(later.missing)} never reached the server`,
      evidence,
    );
  }
  const actives = ctx.clientEvents((e) => e.event === "active");
  const notB = actives.filter((e) => e.channel !== "B");
  if (notB.length > 0) {
    return ctx.fail(
      "B, the first channel connected, to be the only active channel",
      `the client printed {"event":"active","channel":"${notB[0].channel}"}`,
      evidence,
    );
  }
  return ctx.pass(
    `B connected first and carried ${
      list([first, ...later.ids])
    }; A connected later and carried no data${
      actives.length > 0 ? "" : " (the client printed no active event)"
    }`,
    evidence,
  );
}

async function dc3(ctx: ScenarioContext): Promise<Verdict> {
  const started = await startBoth(ctx);
  if (started.fail) return started.fail;
  const { rig } = started;
  const sent = await rig.sendSome(6, "A");
  const missing = await rig.untilAcked(sent.ids);
  await ctx.observe(ctx.timing.watchdogPeriodMs * 2);
  const evidence = rig.evidence();
  if (missing.length > 0) {
    return ctx.fail(
      `${list(sent.ids)} delivered over the active channel`,
      `${list(missing)} never got an ACK from the server`,
      evidence,
    );
  }
  const active = rig.arrivals(sent.ids[0])[0];
  const alternate = otherChannel(active);
  const stray = rig.data({ channel: alternate }).map((e) =>
    String((e.frame as { id?: string }).id)
  );
  if (stray.length > 0) {
    return ctx.fail(
      `data over the active channel only (${active}, which carried ${
        sent.ids[0]
      })`,
      `the alternate ${alternate} carried ${list([...new Set(stray)])} too`,
      evidence,
    );
  }
  return ctx.pass(
    `${
      list(sent.ids)
    } all went over ${active}; the alternate ${alternate} carried no data`,
    evidence,
  );
}

async function dc4(ctx: ScenarioContext): Promise<Verdict> {
  const started = await startWithActive(ctx);
  if (started.fail) return started.fail;
  const { rig, alternate } = started;
  const period = ctx.timing.watchdogPeriodMs;
  const window = period * 12;
  ctx.note(
    "runner",
    `watching the alternate ${alternate} for ${msText(window)}`,
  );
  const from = performance.now();
  await ctx.observe(window);
  const watchdogs = rig.watchdogs(alternate, from);
  const echoes = rig.echoes(alternate, from);
  const closed = rig.events(
    (e) => e.type === "closed" && e.channel === alternate,
    from,
  );
  const evidence = rig.evidence(trafficAndWatchdogs, from - period);
  const expected = Math.floor(window / period);
  const least = Math.max(2, Math.floor(expected * 0.4));
  if (watchdogs.length < least) {
    return ctx.fail(
      `WATCHDOG messages on the alternate ${alternate} about every ${
        msText(period)
      } (some ${expected} in ${msText(window)}, at least ${least})`,
      `it received ${watchdogs.length} in that time`,
      evidence,
    );
  }
  if (closed.length > 0) {
    return ctx.fail(
      `the alternate ${alternate} kept open and ready`,
      `its connection closed (${closed[0].how}, by ${
        closed[0].by
      }) while it was watched`,
      evidence,
    );
  }
  return ctx.pass(
    `the alternate ${alternate} received ${watchdogs.length} watchdogs in ${
      msText(window)
    } (period ${msText(period)}) and the server echoed ${echoes.length}`,
    evidence,
  );
}

async function dc5(ctx: ScenarioContext): Promise<Verdict> {
  const started = await startWithActive(ctx);
  if (started.fail) return started.fail;
  const { rig, active, alternate, id: first } = started;
  // The active channel goes silent, so the next messages stay in flight on
  // it, then it is cut with them unacknowledged.
  ctx.note("runner", `${active} goes silent (black hole)`);
  rig.server.blackHole(active);
  const inFlight = [
    await rig.sendData(),
    await rig.sendData(),
    await rig.sendData(),
  ];
  await ctx.until(
    () => inFlight.every((id) => rig.arrivals(id).length > 0),
    dcSoon(ctx, 1),
  );
  ctx.note(
    "runner",
    `${active} is cut while ${list(inFlight)} wait for their ACK`,
  );
  await rig.server.cut(active);
  const after = await rig.sendData();
  const ids = [first, ...inFlight, after];
  const lost = await rig.untilAcked(ids);
  // Time for a duplicate to show.
  await ctx.observe(ctx.timing.watchdogTimeoutMs);
  const deleted = ctx.clientEvents((e) => e.event === "deleted");
  const evidence = [...rig.evidence(), ...ctx.clientEvidence(deleted)];
  if (lost.length > 0) {
    return ctx.fail(
      `every message delivered after ${active} failed (${
        list(inFlight)
      } were in flight on it)`,
      `${list(lost)} never got an ACK from the server: lost`,
      evidence,
    );
  }
  const afterOn = rig.arrivals(after)[0];
  if (afterOn !== alternate) {
    return ctx.fail(
      `${after}, sent after ${active} was cut, over ${alternate}`,
      `it went over ${afterOn}`,
      evidence,
    );
  }
  if (deleted.length === 0) {
    return ctx.notObservable(
      `the client printed no {"event":"deleted"}, so whether the application got each message once is unknown (every message reached the server after ${active} failed)`,
      evidence,
    );
  }
  for (const id of ids) {
    const count = deleted.filter((e) => e.id === id).length;
    if (count > 1) {
      return ctx.fail(
        "each message handed to the application once",
        `the client printed {"event":"deleted","id":"${id}"} ${count} times`,
        evidence,
      );
    }
    if (count === 0) {
      return ctx.fail(
        "each message reported delivered once the server ACKed it",
        `the server ACKed ${id} but the client never printed it deleted`,
        evidence,
      );
    }
  }
  return ctx.pass(
    `${active} failed with ${
      list(inFlight)
    } in flight: they were sent again over ${alternate} and ACKed, ${after} went over ${alternate}, and each was deleted once`,
    evidence,
  );
}

async function dc6(ctx: ScenarioContext): Promise<Verdict> {
  const started = await startWithActive(ctx);
  if (started.fail) return started.fail;
  const { rig, active: broken, alternate: working } = started;
  ctx.note("runner", `${broken} is cut`);
  const cutAt = performance.now();
  await rig.server.cut(broken);
  const moved = await rig.sendUntilOn(working);
  if (!moved.reached) {
    return ctx.fail(
      `traffic to move to ${working} once ${broken} was cut`,
      `${list(moved.ids)} did not go over it`,
      rig.evidence(),
    );
  }
  // Every connection attempt shows: the channel accepts, then resets.
  ctx.note(
    "runner",
    `${broken} accepts connections again but resets each one (RST)`,
  );
  rig.server.channel(broken).faults.set({ reset: {} });
  await rig.server.channel(broken).settled();
  const tries = dcSoon(ctx, 2);
  await ctx.until(() => rig.connections(broken, cutAt).length >= 2, tries);
  const attempts = rig.connections(broken, cutAt);
  if (attempts.length < 2) {
    return ctx.fail(
      `${broken} tried again every ${
        msText(ctx.timing.retryMs)
      } while it was broken`,
      `the client made ${attempts.length} connection attempt(s) on ${broken} in ${
        msText(performance.now() - cutAt)
      } after it broke`,
      rig.evidence(),
    );
  }
  ctx.note("runner", `${broken} works again`);
  const backAt = performance.now();
  await rig.server.restore(broken);
  if (!await rig.untilSpeaking(broken, backAt)) {
    return ctx.fail(
      `the client to connect on ${broken} again once it worked`,
      `nothing came on ${broken} in ${msText(dcSoon(ctx, 1))}`,
      rig.evidence(),
    );
  }
  // Time for a client that would switch back to do so.
  await ctx.observe(ctx.timing.watchdogPeriodMs * 3);
  const later = await rig.sendSome(3, broken);
  const evidence = rig.evidence();
  if (later.on.length > 0) {
    return ctx.fail(
      `data to stay on ${working} when ${broken} came back (${broken} the alternate, no switch back by itself)`,
      `${list(later.on)} went over ${broken}`,
      evidence,
    );
  }
  if (later.missing.length > 0) {
    return ctx.fail(
      `${list(later.ids)} delivered over ${working}`,
      `${list(later.missing)} never reached the server`,
      evidence,
    );
  }
  return ctx.pass(
    `${broken} was tried ${attempts.length} times while broken and came back as the alternate: ${
      list(later.ids)
    } stayed on ${working}`,
    evidence,
  );
}

/** One run of a client with a preference; see {@linkcode preferencePhase}. */
interface PhasePlan {
  /** What the client is told. */
  preference: PreferenceSetting;
  /** The channel that must be active. */
  preferred: Channel;
  /** Also cut the preferred channel and bring it back (DC-7). */
  comeBack?: boolean;
}

/**
 * Starts a client with a preference, the preferred channel refusing at
 * first so that the other connects first. Then: the preferred channel comes
 * up, and traffic must move to it; the other channel is cut and comes back,
 * and traffic must stay (a client that makes the last channel to connect
 * active would move); with `comeBack`, the preferred channel is cut
 * (traffic moves away) and comes back (traffic must move back).
 * Returns a fail verdict, or a line for the pass summary.
 */
async function preferencePhase(
  ctx: ScenarioContext,
  rig: DualChannelRig,
  plan: PhasePlan,
): Promise<{ fail?: Verdict; line: string }> {
  const { preferred, preference } = plan;
  const other = otherChannel(preferred);
  const what = `${preferred}, the preferred channel (${
    describePreference(preference)
  })`;
  const since = performance.now();
  const fail = (expected: string, observed: string) => ({
    fail: ctx.fail(expected, observed, rig.evidence(undefined, since)),
    line: "",
  });
  const notMoved = (ids: string[], from: Channel) => {
    const last = ids.at(-1)!;
    return rig.arrivals(last).length === 0
      ? `${last} never reached the server`
      : `${list(ids)} went over ${from}`;
  };
  ctx.note(
    "runner",
    `${preferred} refuses connections at first, so ${other} connects first`,
  );
  await rig.server.cut(preferred);
  await rig.startClient(preference);
  if (!await rig.untilConnected([other], since)) {
    return fail(
      `the client to connect on ${other} while ${preferred} refuses`,
      `it did not in ${msText(dcSoon(ctx, 3))}`,
    );
  }
  const first = await rig.sendData();
  if (!await rig.untilArrived(first)) {
    return fail(
      `${first} over ${other}, the only channel up`,
      `it never reached the server in ${msText(dcSoon(ctx, 1))}`,
    );
  }
  ctx.note("runner", `${preferred} comes up`);
  const upAt = performance.now();
  await rig.server.restore(preferred);
  if (!await rig.untilConnected([preferred], upAt)) {
    return fail(
      `the client to connect on ${preferred} once it came up`,
      `it did not in ${msText(dcSoon(ctx, 3))}`,
    );
  }
  const moved = await rig.sendUntilOn(preferred);
  if (!moved.reached) {
    return fail(
      `traffic to move to ${what} once it worked`,
      notMoved(moved.ids, other),
    );
  }
  ctx.note("runner", `${other} is cut and comes back`);
  await rig.server.cut(other);
  const backAt = performance.now();
  await rig.server.restore(other);
  await rig.untilSpeaking(other, backAt);
  await ctx.observe(ctx.timing.watchdogPeriodMs * 3);
  const stay = await rig.sendSome(2, other);
  if (stay.on.length > 0) {
    return fail(
      `traffic to stay on ${what} when ${other} came back`,
      `${list(stay.on)} went over ${other}`,
    );
  }
  if (stay.missing.length > 0) {
    return fail(
      `${list(stay.ids)} over ${what}`,
      `${list(stay.missing)} never reached the server`,
    );
  }
  if (plan.comeBack) {
    ctx.note("runner", `${preferred} is cut`);
    await rig.server.cut(preferred);
    const away = await rig.sendUntilOn(other);
    if (!away.reached) {
      return fail(
        `traffic to move to ${other} while ${preferred} was cut`,
        notMoved(away.ids, preferred),
      );
    }
    ctx.note("runner", `${preferred} comes back`);
    const againAt = performance.now();
    await rig.server.restore(preferred);
    if (!await rig.untilConnected([preferred], againAt)) {
      return fail(
        `the client to connect on ${preferred} again once it came back`,
        `it did not in ${msText(dcSoon(ctx, 3))}`,
      );
    }
    const back = await rig.sendUntilOn(preferred);
    if (!back.reached) {
      return fail(
        `traffic to move back to ${what} when it came back`,
        notMoved(back.ids, other),
      );
    }
    return {
      line: `with ${
        describePreference(preference)
      }, traffic moved to ${preferred} when it came up (${
        moved.ids.at(-1)
      }), stayed there while ${other} bounced, and moved back to it after a cut (${
        back.ids.at(-1)
      })`,
    };
  }
  return {
    line: `with ${
      describePreference(preference)
    }, traffic moved to ${preferred} once it worked (${
      moved.ids.at(-1)
    }) and stayed there while ${other} bounced`,
  };
}

/** Runs phases one after another, each with a fresh client. */
async function phases(
  ctx: ScenarioContext,
  plans: PhasePlan[],
): Promise<Verdict> {
  const rig = await DualChannelRig.start(ctx);
  const lines: string[] = [];
  for (const [index, plan] of plans.entries()) {
    if (index > 0) {
      ctx.note("runner", "the client is stopped; a new one starts");
      await ctx.client.stop();
      await rig.server.restore("A");
      await rig.server.restore("B");
    }
    const result = await preferencePhase(ctx, rig, plan);
    if (result.fail) return result.fail;
    lines.push(result.line);
  }
  return ctx.pass(lines.join("; "), rig.evidence(undefined, 0, 32));
}

async function dc7(ctx: ScenarioContext): Promise<Verdict> {
  return await phases(ctx, [
    { preference: { netNr: 2 }, preferred: "B", comeBack: true },
  ]);
}

async function dc8(ctx: ScenarioContext): Promise<Verdict> {
  return await phases(ctx, [
    { preference: { netAddr: "127.0.2.0" }, preferred: "B" },
    { preference: { netNr: 1 }, preferred: "A" },
  ]);
}

async function dc9(ctx: ScenarioContext): Promise<Verdict> {
  return await phases(ctx, [
    // Both set, the address matches A only: the address wins.
    { preference: { netAddr: "127.0.1.0", netNr: 2 }, preferred: "A" },
    // The address matches both channels: the number decides.
    { preference: { netAddr: "127.0.0.0", netNr: 2 }, preferred: "B" },
  ]);
}

async function dc10(ctx: ScenarioContext): Promise<Verdict> {
  const started = await startWithActive(ctx);
  if (started.fail) return started.fail;
  const { rig, active, alternate } = started;
  const t = ctx.timing;
  // Within the timeout, give or take a period for the first unanswered
  // watchdog to go out, and slack for a loaded machine.
  const limit = 2 * t.watchdogTimeoutMs + 2 * t.watchdogPeriodMs + 250;
  const wait = Math.max(limit, dcSoon(ctx, 2));

  ctx.note(
    "runner",
    `the alternate ${alternate} goes silent: TCP stays open, nothing is echoed`,
  );
  const quietAt = performance.now();
  rig.server.blackHole(alternate);
  await ctx.until(
    () => rig.closedByClient(alternate, quietAt).length > 0,
    wait,
  );
  const evidence = () => rig.evidence(trafficAndWatchdogs, quietAt - 50);
  /** When the client dropped `channel`, silent since `since`: ms after it. */
  const dropMs = (channel: Channel, since: number): number | undefined => {
    const closed = rig.closedByClient(channel, since)[0];
    return closed && closed.time - since;
  };
  /** A fail verdict unless the client dropped the silent channel in time. */
  const notDropped = (
    role: "alternate" | "active",
    channel: Channel,
    since: number,
    unanswered: string,
  ): Verdict | undefined => {
    const ms = dropMs(channel, since);
    if (ms === undefined) {
      return ctx.fail(
        `the client to drop the ${role} ${channel} once ${unanswered} went unanswered for ${
          msText(t.watchdogTimeoutMs)
        }`,
        `${channel} stayed open and silent for ${
          msText(performance.now() - since)
        }`,
        evidence(),
      );
    }
    if (ms > limit) {
      return ctx.fail(
        `the client to drop the silent ${role} ${channel} within its ${
          msText(t.watchdogTimeoutMs)
        } timeout (allowing ${msText(limit)})`,
        `it dropped it only after ${msText(ms)}`,
        evidence(),
      );
    }
    return undefined;
  };
  const alternateFail = notDropped(
    "alternate",
    alternate,
    quietAt,
    "its watchdogs",
  );
  if (alternateFail) return alternateFail;

  ctx.note("runner", `${alternate} answers again`);
  const backAt = performance.now();
  await rig.server.restore(alternate);
  const answered = await ctx.until(
    () => rig.echoes(alternate, backAt).length > 0,
    dcSoon(ctx, 1),
  );
  if (!answered) {
    return ctx.fail(
      `the client to connect on ${alternate} again and get a watchdog echo`,
      `no echo went out on ${alternate} in ${msText(dcSoon(ctx, 1))}`,
      evidence(),
    );
  }
  await ctx.observe(t.watchdogPeriodMs * 2);

  ctx.note(
    "runner",
    `the active ${active} goes silent; a message is sent on it`,
  );
  const silentAt = performance.now();
  rig.server.blackHole(active);
  const id = await rig.sendData();
  await ctx.until(
    () => rig.closedByClient(active, silentAt).length > 0 && rig.acked(id),
    wait,
  );
  const activeFail = notDropped(
    "active",
    active,
    silentAt,
    `${id} and its watchdogs`,
  );
  if (activeFail) return activeFail;
  if (!rig.acked(id)) {
    return ctx.fail(
      `${id} delivered over ${alternate} once ${active} was dropped`,
      "the server never ACKed it",
      evidence(),
    );
  }
  return ctx.pass(
    `the silent alternate ${alternate} was dropped after ${
      msText(dropMs(alternate, quietAt)!)
    }, the silent active ${active} after ${
      msText(dropMs(active, silentAt)!)
    } (timeout ${msText(t.watchdogTimeoutMs)}), and ${id} was ACKed on ${
      rig.acks({ id })[0].channel
    }`,
    evidence(),
  );
}

/** The dual-channel scenarios, one per behaviour ID. */
export const DUAL_CHANNEL_SCENARIOS: readonly Scenario[] = numberedScenarios(
  "DC",
  [dc1, dc2, dc3, dc4, dc5, dc6, dc7, dc8, dc9, dc10],
);
