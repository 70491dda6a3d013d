/**
 * The registry of toxics: every kind a proxy accepts, by type name.
 *
 * @module
 */
import { bandwidthToxic } from "./bandwidth.ts";
import { latencyToxic } from "./latency.ts";
import { limitDataToxic } from "./limit_data.ts";
import { resetPeerToxic } from "./reset_peer.ts";
import { slicerToxic } from "./slicer.ts";
import { slowCloseToxic } from "./slow_close.ts";
import { timeoutToxic } from "./timeout.ts";
import type { ToxicDefinition } from "./toxic.ts";

/** Every toxic a proxy accepts, by type name. */
export const TOXICS: ReadonlyMap<string, ToxicDefinition> = new Map(
  [
    latencyToxic,
    bandwidthToxic,
    slowCloseToxic,
    timeoutToxic,
    resetPeerToxic,
    slicerToxic,
    limitDataToxic,
  ].map((toxic) => [toxic.kind, toxic]),
);
