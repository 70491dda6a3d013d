/**
 * What a toxic is: a fault of the engine acting at the bytes stage of one
 * direction of a proxy link (`bytesIn` upstream, `bytesOut` downstream),
 * with Toxiproxy's name, attributes and units. A proxy sets each toxic as a
 * named instance of the engine ({@linkcode FaultEngine.addInstance}): its
 * attributes are the rule, its toxicity is drawn once per connection. Each
 * toxic is one file in this folder; {@linkcode TOXICS} lists them.
 *
 * @module
 */
import { z } from "zod";
import type {
  ByteSink,
  FaultDefinition,
  FaultTools,
  PipeSetup,
} from "./fault.ts";

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

/** A toxic's attributes, by name: its rule. */
export type ToxicAttributes = Record<string, number>;

/** A toxic: a byte fault with Toxiproxy's attributes. */
export interface ToxicDefinition
  extends FaultDefinition<string, ToxicAttributes> {
  /** Its attributes, in Toxiproxy's order. */
  attributes: readonly ToxicAttribute[];
  /** Whether Toxiproxy has it (false for this toolkit's own). */
  toxiproxy: boolean;
}

/** What {@linkcode defineToxic} takes. */
export interface ToxicOptions {
  /** The type name, as in Toxiproxy (`latency`): the fault's kind. */
  kind: string;
  /** What it does, in one sentence. */
  summary: string;
  /** Its attributes, in Toxiproxy's order. */
  attributes: readonly ToxicAttribute[];
  /** Whether Toxiproxy has it (default true). */
  toxiproxy?: boolean;
  /**
   * Makes its step of one link's pipe, in either direction. `rule` is the
   * attributes in force, changed in place on update (read it when needed).
   */
  step(rule: ToxicAttributes, tools: FaultTools, setup: PipeSetup): ByteSink;
}

/**
 * Declares a toxic: a fault acting at the bytes stage of the direction it
 * is aimed at, with a schema made from its attributes.
 */
export function defineToxic(options: ToxicOptions): ToxicDefinition {
  const shape: Record<string, z.ZodType<number | undefined>> = {};
  for (const attribute of options.attributes) {
    shape[attribute.name] = z.number().int().min(attribute.min ?? 0).max(
      attribute.max,
    ).optional().describe(`${attribute.description} (${attribute.unit})`);
  }
  return {
    kind: options.kind,
    stage: "bytesOut",
    summary: options.summary,
    schema: z.object(shape).strict().describe(options.summary) as never,
    attributes: options.attributes,
    toxiproxy: options.toxiproxy ?? true,
    hooks: { bytesIn: options.step, bytesOut: options.step },
  };
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
