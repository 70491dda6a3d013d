/**
 * What a toxic is: a fault acting on the bytes of one direction of a proxy
 * link, with Toxiproxy's name, attributes and units. Each toxic is one file in
 * this folder; {@linkcode TOXICS} lists them.
 *
 * @module
 */
import type { ByteStage, LinkStream, StageOutput } from "../proxy_link.ts";
import type { SeededRandom } from "../random.ts";

/** One numeric attribute of a toxic (Toxiproxy's are all integers). */
export interface ToxicAttribute {
  /** Its name in the JSON body (`latency`, `average_size`). */
  name: string;
  /** Its unit, for docs (`ms`, `KB/s`, `bytes`, `µs`). */
  unit: string;
  /** What it does. */
  description: string;
  /** The least value accepted (default 0). */
  min?: number;
  /** The greatest value accepted. */
  max: number;
}

/** A toxic's attributes, by name. */
export type ToxicAttributes = Record<string, number>;

/** What a toxic's stage is given for one link and one direction. */
export interface ToxicContext {
  /** Where the stage writes to. */
  output: StageOutput;
  /** The attributes in force now (they can change while the link lives). */
  attributes(): ToxicAttributes;
  /** The seeded stream of this toxic and this connection. */
  random: SeededRandom;
  /** The direction the toxic acts on. */
  stream: LinkStream;
  /** Journals a decision or an effect of the toxic on this connection. */
  note(event: string, fields?: Record<string, unknown>): void;
}

/** A stage that can react to its toxic's attributes changing. */
export interface UpdatableStage extends ByteStage {
  /** The attributes changed (Toxiproxy restarts the toxic: timers restart). */
  updated?(): void;
}

/** A kind of toxic: its name, attributes and the stage it puts on a link. */
export interface ToxicDefinition {
  /** The type name, as in Toxiproxy (`latency`). */
  type: string;
  /** What it does, in one sentence. */
  summary: string;
  /** Its attributes, in Toxiproxy's order. */
  attributes: readonly ToxicAttribute[];
  /** Whether Toxiproxy has it (false for this toolkit's own). */
  toxiproxy: boolean;
  /** Makes the stage for one link and one direction. */
  stage(context: ToxicContext): UpdatableStage;
}

/** A toxic's attributes were of the wrong type or out of range. */
export class ToxicAttributeError extends RangeError {
  /** The attribute, as a path (`attributes.latency`). */
  readonly field: string;
  /** Makes the error. */
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "ToxicAttributeError";
    this.field = field;
  }
}

/**
 * Reads a toxic's attributes from a JSON value onto `base` (the defaults, or
 * the attributes in force for an update): unknown names are ignored, as
 * Toxiproxy ignores them; a known one must be an integer within its range.
 * Throws {@linkcode ToxicAttributeError}, changing nothing.
 */
export function parseToxicAttributes(
  definition: ToxicDefinition,
  value: unknown,
  base?: ToxicAttributes,
): ToxicAttributes {
  const result: ToxicAttributes = {};
  for (const attribute of definition.attributes) {
    result[attribute.name] = base?.[attribute.name] ?? 0;
  }
  if (value === undefined || value === null) return result;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ToxicAttributeError(
      "attributes",
      `expected an object, got ${
        Array.isArray(value) ? "an array" : typeof value
      }`,
    );
  }
  const input = value as Record<string, unknown>;
  for (const attribute of definition.attributes) {
    const given = input[attribute.name];
    if (given === undefined || given === null) continue;
    const field = `attributes.${attribute.name}`;
    if (typeof given !== "number") {
      throw new ToxicAttributeError(
        field,
        `expected an integer (${attribute.unit}), got ${typeof given}`,
      );
    }
    const min = attribute.min ?? 0;
    if (!Number.isInteger(given)) {
      throw new ToxicAttributeError(
        field,
        `expected an integer (${attribute.unit}), got ${given}`,
      );
    }
    if (given < min || given > attribute.max) {
      throw new ToxicAttributeError(
        field,
        `expected ${min} to ${attribute.max} ${attribute.unit}, got ${given}`,
      );
    }
    result[attribute.name] = given;
  }
  return result;
}
