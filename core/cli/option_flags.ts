/**
 * One zod schema per server's own options, from which its command-line flags
 * (with their help text) and its lab topology fields are derived: each field
 * carries its description (`.describe()`) and, when the command line sets it,
 * its flag ({@linkcode withFlag}).
 *
 * @module
 */
import { z } from "zod";
import { CliError, type FlagTable, type FlagValues } from "./cli.ts";

/** How one option is given on the command line. */
export interface OptionFlag {
  /** The flag's long name (`no-packet-ack`). */
  name: string;
  /** The value's form in `--help` (`N`); none for a boolean flag. */
  value?: string;
  /** A boolean flag that sets the option to false when given. */
  negates?: boolean;
  /** The flag's help text, when it is not the option's description. */
  description?: string;
  /** The default shown in `--help`. */
  default?: string;
}

const flags = z.registry<OptionFlag>();

/**
 * Marks an option schema as set by a flag; returns the schema.
 *
 * @example Usage
 * ```ts
 * import { z } from "zod";
 * import { withFlag } from "./option_flags.ts";
 * const schema = z.object({
 *   ack: withFlag(z.boolean().optional().describe("ACK records"), { name: "ack" }),
 * });
 * ```
 */
export function withFlag<T extends z.ZodType>(schema: T, flag: OptionFlag): T {
  flags.add(schema, flag);
  return schema;
}

/** The flags of an options schema, with their help text. */
export function optionFlags(schema: z.ZodObject): FlagTable {
  const table: FlagTable = {};
  for (const field of Object.values(schema.shape) as z.ZodType[]) {
    const flag = flags.get(field);
    if (!flag) continue;
    table[flag.name] = {
      type: flag.value ? "string" : "boolean",
      description: flag.description ?? field.description ?? flag.name,
      ...(flag.value ? { value: flag.value } : {}),
      ...(flag.default ? { default: flag.default } : {}),
    };
  }
  return table;
}

/**
 * Reads an options schema's flags from parsed flag values into options,
 * validated by the schema; throws a {@linkcode CliError} naming the flag.
 */
export function optionsFromFlags(
  schema: z.ZodObject,
  values: FlagValues,
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (
    const [key, field] of Object.entries(schema.shape) as [
      string,
      z.ZodType,
    ][]
  ) {
    const flag = flags.get(field);
    const given = flag ? values[flag.name] : undefined;
    if (!flag || given === undefined) continue;
    const raw = flag.value
      ? (Array.isArray(given) ? given[given.length - 1] : given)
      : flag.negates
      ? !given
      : given;
    const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
    const result = field.safeParse(
      typeof raw === "string" && inner instanceof z.ZodNumber
        ? coerce(raw)
        : raw,
    );
    if (!result.success) {
      throw new CliError(
        `Invalid --${flag.name} "${raw}": ${result.error.issues[0].message}`,
      );
    }
    options[key] = result.data;
  }
  return options;
}

function coerce(text: string): unknown {
  const number = Number(text);
  return text.trim() !== "" && Number.isFinite(number) ? number : text;
}

/**
 * `true` when two option types are the same, `never` otherwise: a server
 * states `const _agree: OptionsAgree<z.infer<typeof Schema>, Pick<...>> =
 * true` so that its TypeScript options and its schema cannot drift apart
 * (`deno check` fails when they do).
 */
export type OptionsAgree<A, B> = [A] extends [B]
  ? ([B] extends [A] ? true : never)
  : never;
