/**
 * The registry: every fault, in the order docs, `--help` and the admin API
 * list them. Adding a fault is one file in this folder plus one line here.
 *
 * @module
 */
import { z } from "zod";
import { blackHole } from "./black_hole.ts";
import { closeAfter } from "./close_after.ts";
import { corruptAck } from "./corrupt_ack.ts";
import { delayAck } from "./delay_ack.ts";
import { down } from "./down.ts";
import { dropAck } from "./drop_ack.ts";
import { duplicateAck } from "./duplicate_ack.ts";
import type { FaultDefinition } from "./fault.ts";
import { nackAck } from "./nack_ack.ts";
import { noAccept } from "./no_accept.ts";
import { noRead } from "./no_read.ts";
import { refuse } from "./refuse.ts";
import { rejectLogin } from "./reject_login.ts";
import { reset } from "./reset.ts";
import { resetAfter } from "./reset_after.ts";
import { trickle } from "./trickle.ts";

/** Every fault definition, in listing order. */
export const FAULT_DEFINITIONS = [
  dropAck,
  delayAck,
  duplicateAck,
  corruptAck,
  nackAck,
  rejectLogin,
  refuse,
  reset,
  blackHole,
  down,
  closeAfter,
  noRead,
  trickle,
  noAccept,
  resetAfter,
] as const;

/** The type of any registered fault definition. */
export type RegisteredFault = typeof FAULT_DEFINITIONS[number];

/** The name of one kind of fault. */
export type FaultKind = RegisteredFault["kind"];

/** Every fault, by kind: absent means not set. See `docs/faults.md`. */
export type Faults = {
  [D in RegisteredFault as D["kind"]]?: D extends
    FaultDefinition<string, infer R> ? R
    : never;
};

/** A change to the faults: a kind set to `null` is removed. */
export type FaultsPatch = { [K in FaultKind]?: Faults[K] | null };

/** The names of every kind of fault. */
export const FAULT_KINDS: readonly FaultKind[] = FAULT_DEFINITIONS.map((
  definition,
) => definition.kind);

/** A fault's definition by kind. */
export function faultDefinition(
  kind: FaultKind,
): FaultDefinition<FaultKind, unknown> {
  return FAULT_DEFINITIONS.find((definition) =>
    definition.kind === kind
  ) as unknown as FaultDefinition<FaultKind, unknown>;
}

const shape = Object.fromEntries(
  FAULT_DEFINITIONS.map((definition) => [
    definition.kind,
    (definition.schema as z.ZodType).optional(),
  ]),
);

/** The zod schema of {@linkcode Faults}: strict, every value range-checked. */
export const FaultsSchema: z.ZodType<Faults, unknown> = z.object(shape)
  .strict() as unknown as z.ZodType<Faults, unknown>;

/** The zod schema of {@linkcode FaultsPatch}. */
export const FaultsPatchSchema: z.ZodType<FaultsPatch, unknown> = z.object(
  Object.fromEntries(
    FAULT_DEFINITIONS.map((definition) => [
      definition.kind,
      (definition.schema as z.ZodType).nullable().optional(),
    ]),
  ),
).strict() as unknown as z.ZodType<FaultsPatch, unknown>;
