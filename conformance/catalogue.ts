/**
 * The catalogue of documented behaviours, by ID. The conformance suite names
 * its checks by these IDs; `docs/behaviours.md` is generated from this file
 * (`deno run conformance/catalogue.ts > docs/behaviours.md`).
 *
 * @module
 */

/** The suites of the conformance runner. */
export type SuiteName = "two-servers" | "failover" | "dual-channel" | "agent";

/** Every suite name, and `all`. */
export const SUITE_NAMES: readonly (SuiteName | "all")[] = [
  "two-servers",
  "failover",
  "dual-channel",
  "agent",
  "all",
];

/** Whether the source says so, or the toolkit chose a reading. */
export type BehaviourKind = "documented" | "interpretation";

/** One documented behaviour. */
export interface Behaviour {
  /** The ID, such as `TS-4`. */
  id: string;
  /** The suite that checks it. */
  suite: SuiteName;
  /** Documented by the source, or the toolkit's interpretation. */
  kind: BehaviourKind;
  /** What the client must do. */
  text: string;
}

const SUITE_TITLES: Record<SuiteName, string> = {
  "two-servers":
    'Telematics device, "Two servers" ticked (mirror mode): IP1 ACKs, IP2 gets a copy',
  failover:
    'Telematics device, "Two servers" not ticked (failover mode): IP1, then IP2',
  "dual-channel":
    "SCADA client with two TCP channels over two networks, kept alive by WATCHDOG messages",
  agent:
    "Messaging agent with a primary and alternate servers over one shared message store",
};

const SOURCES: Record<SuiteName, string> = {
  "two-servers": "a tracker vendor's note on its Two servers setting",
  failover: "a tracker vendor's note on its Two servers setting",
  "dual-channel": "a SCADA system's description of DUAL TCP/IP redundancy",
  agent: "a messaging agent's documentation of MobiLink failover (-fr, -fd)",
};

/** The behaviours, in catalogue order. */
export const BEHAVIOURS: readonly Behaviour[] = [
  [
    "TS-1",
    "two-servers",
    "documented",
    "Each record goes to IP1 and a copy goes to IP2.",
  ],
  [
    "TS-2",
    "two-servers",
    "documented",
    "A record is delivered, and leaves device memory, only when IP1 ACKs it; after that ACK it is never sent again, to either server.",
  ],
  [
    "TS-3",
    "two-servers",
    "documented",
    "A record IP1 does not ACK in time is sent to IP1 again, until IP1 ACKs it: delivery is guaranteed to IP1 only.",
  ],
  [
    "TS-4",
    "two-servers",
    "documented",
    "IP2 gets each record at most once: a missing ACK from IP2 causes no resend, and a resend to IP1 is not copied to IP2.",
  ],
  [
    "TS-5",
    "two-servers",
    "documented",
    "Only records go to IP2; packets of other kinds (transparent channel, tachograph, SD card, Garmin) go to IP1 only.",
  ],
  [
    "TS-6",
    "two-servers",
    "documented",
    "While there is no connection to IP1, the device does not connect to IP2 either.",
  ],
  [
    "TS-7",
    "two-servers",
    "documented",
    "If IP2 is unavailable when IP1's ACK comes, the record is deleted anyway (IP2 misses it) and delivery to IP1 goes on.",
  ],
  [
    "TS-8",
    "two-servers",
    "documented",
    "Mirror mode about doubles the bytes sent: IP1 + IP2 is about twice IP1 alone.",
  ],
  [
    "FO-1",
    "failover",
    "documented",
    "While IP1 ACKs, records go to IP1 only; IP2 gets nothing.",
  ],
  [
    "FO-2",
    "failover",
    "documented",
    "When IP1 does not ACK a record (after the ACK timeout and the configured resends, 0 by default), every further record goes to IP2 only.",
  ],
  [
    "FO-3",
    "failover",
    "documented",
    "Once on IP2 and IP2 ACKs, the device stays on IP2 for good: IP1 coming back does not bring it back.",
  ],
  [
    "FO-4",
    "failover",
    "documented",
    "If IP2 does not ACK either, the device tries IP1 again, and so on, alternating.",
  ],
  [
    "FO-5",
    "failover",
    "documented",
    "A restart starts again from IP1, and unacknowledged records survive it.",
  ],
  [
    "FO-6",
    "failover",
    "interpretation",
    "An ACK from the server in use deletes the record: none is lost, each is ACKed at least once, and none is sent again after its ACK.",
  ],
  [
    "DC-1",
    "dual-channel",
    "documented",
    "The client connects to the server over both channels.",
  ],
  [
    "DC-2",
    "dual-channel",
    "documented",
    "The first channel to connect becomes the active one; the other is the alternate.",
  ],
  [
    "DC-3",
    "dual-channel",
    "documented",
    "Data flows over the active channel only.",
  ],
  [
    "DC-4",
    "dual-channel",
    "documented",
    "The alternate is kept ready and watched with periodic WATCHDOG messages, which the server echoes.",
  ],
  [
    "DC-5",
    "dual-channel",
    "documented",
    "When the active channel fails, traffic moves to the alternate automatically, with no message lost or duplicated to the application.",
  ],
  [
    "DC-6",
    "dual-channel",
    "documented",
    "A broken channel is retried periodically; when it comes back it is the alternate (no switch back by itself).",
  ],
  [
    "DC-7",
    "dual-channel",
    "documented",
    "A preferred channel, when set and working, is always the active one: when it comes back, traffic moves back to it.",
  ],
  [
    "DC-8",
    "dual-channel",
    "documented",
    "The preference is set by network address (PreferredNetAddr) or by adapter number (PreferredNetNr).",
  ],
  [
    "DC-9",
    "dual-channel",
    "documented",
    "If both are set, the network address wins; if it is unset or matches both channels, the adapter number decides.",
  ],
  [
    "DC-10",
    "dual-channel",
    "interpretation",
    "A channel has failed when its TCP connection closes or errors, or when no watchdog echo (or data ACK) comes back within the timeout: open but silent counts as failed.",
  ],
  [
    "QA-1",
    "agent",
    "documented",
    "The agent takes an ordered list of servers: the first is its primary, the rest alternates; each agent may have its own primary.",
  ],
  [
    "QA-2",
    "agent",
    "documented",
    "By default, when the primary cannot be reached, the agent tries an alternate at once.",
  ],
  [
    "QA-3",
    "agent",
    "documented",
    "With -fr N the agent retries the primary N more times, -fd apart, before an alternate; these options apply to the primary only.",
  ],
  [
    "QA-4",
    "agent",
    "documented",
    "Each alternate is tried once, in list order; if none can be reached, the agent reports an error.",
  ],
  [
    "QA-5",
    "agent",
    "documented",
    "Whatever server the agent is on, every message waiting for it in the shared store is delivered to it.",
  ],
  [
    "QA-6",
    "agent",
    "documented",
    "Push notifications reach the agent only while it is connected to its primary.",
  ],
  [
    "QA-7",
    "agent",
    "documented",
    "The shared store is a single point of failure: while it is down no messaging happens, through any server.",
  ],
  [
    "QA-8",
    "agent",
    "interpretation",
    "No message is lost: outgoing messages stay in the client store until a server ACKs them into the shared store, and incoming ones stay in the shared store until the agent ACKs them.",
  ],
  [
    "QA-9",
    "agent",
    "interpretation",
    "Every new connection attempt (next transmission) starts again from the primary.",
  ],
].map(([id, suite, kind, text]) => ({ id, suite, kind, text }) as Behaviour);

/** The behaviours of one suite, or of all. */
export function behavioursOf(suite: SuiteName | "all"): Behaviour[] {
  return BEHAVIOURS.filter((b) => suite === "all" || b.suite === suite);
}

/** A behaviour by ID; throws naming the known IDs when there is none. */
export function behaviour(id: string): Behaviour {
  const found = BEHAVIOURS.find((b) => b.id === id.toUpperCase());
  if (!found) {
    throw new RangeError(
      `Cannot find behaviour "${id}": expected an ID such as TS-4, FO-2, DC-10 or QA-3`,
    );
  }
  return found;
}

/** Renders the catalogue as the Markdown page `docs/behaviours.md`. */
export function catalogueMarkdown(): string {
  const lines = [
    "# Documented behaviours",
    "",
    "<!-- Generated from conformance/catalogue.ts: deno run conformance/catalogue.ts > docs/behaviours.md -->",
    "",
    "Each behaviour has an ID. The conformance runner names its checks by these IDs and the",
    "reference clients implement all of them. **documented** means the source says so;",
    "**interpretation** means the source is silent and the toolkit picked a reading (a report keeps",
    "the two apart, and the reference clients expose the choice as an option where it matters).",
  ];
  for (const suite of Object.keys(SUITE_TITLES) as SuiteName[]) {
    lines.push(
      "",
      `## ${suite}: ${SUITE_TITLES[suite]}`,
      "",
      `Source: ${SOURCES[suite]}.`,
      "",
      "| ID | kind | behaviour |",
      "|---|---|---|",
    );
    for (const b of behavioursOf(suite)) {
      lines.push(`| ${b.id} | ${b.kind} | ${b.text} |`);
    }
  }
  return lines.join("\n") + "\n";
}

if (import.meta.main) console.log(catalogueMarkdown().trimEnd());
