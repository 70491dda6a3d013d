/**
 * One zod schema per server's own options, from which its command-line flags
 * (with their help text) and its lab topology fields are derived: each field
 * carries its description (`.describe()`) and, when the command line sets it,
 * its flag ({@linkcode withFlag}). A field that is itself an object of fields
 * (the watchdog-echo server's `channels.A`) has the flags of its fields.
 *
 * @module
 */
import { z } from "zod";
import {
  CliError,
  type FlagDef,
  type FlagTable,
  type FlagValues,
  jsonFlag,
} from "./cli.ts";

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
  /**
   * How the flag's text becomes the option's value, before the schema checks
   * it (default: the text, or a number for a number option); what it throws
   * is reported as `Invalid --name "text": message`.
   */
  parse?: (text: string) => unknown;
  /**
   * The value is JSON: parsed, then checked by the schema, a problem reported
   * as `Invalid --name: path: message`.
   */
  json?: boolean;
  /**
   * The flag may be given more than once: its values (and its alias's) are
   * joined with commas and parsed as one list.
   */
  multiple?: boolean;
  /** Another flag that gives the same option (its values come after). */
  alias?: { name: string; value: string; description: string };
  /**
   * The flag means something only with another option of the same object
   * (and that value, when given): `{ option: "mode", value: "trickle" }`.
   * Given without it, the command line says
   * `Invalid --name: it needs --mode trickle`.
   */
  needs?: { option: string; value?: string };
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

/** The object schema inside an optional field, if it is one. */
function objectIn(field: z.ZodType): z.ZodObject | undefined {
  const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
  return inner instanceof z.ZodObject ? inner : undefined;
}

/** Every field of a schema, with its key and its flag (if any). */
function fieldsOf(
  schema: z.ZodObject,
): [string, z.ZodType, OptionFlag | undefined][] {
  return (Object.entries(schema.shape) as [string, z.ZodType][]).map((
    [key, field],
  ) => [key, field, flags.get(field)]);
}

function flagDef(flag: OptionFlag, field: z.ZodType): FlagDef {
  return {
    type: flag.value ? "string" : "boolean",
    description: flag.description ?? field.description ?? flag.name,
    ...(flag.value ? { value: flag.value } : {}),
    ...(flag.default ? { default: flag.default } : {}),
    ...(flag.multiple ? { multiple: true } : {}),
  };
}

/** The flags of an options schema, with their help text, in field order. */
export function optionFlags(schema: z.ZodObject): FlagTable {
  const table: FlagTable = {};
  for (const [, field, flag] of fieldsOf(schema)) {
    const nested = flag ? undefined : objectIn(field);
    if (nested) Object.assign(table, optionFlags(nested));
    if (!flag) continue;
    table[flag.name] = flagDef(flag, field);
    if (flag.alias) {
      table[flag.alias.name] = {
        type: "string",
        value: flag.alias.value,
        description: flag.alias.description,
      };
    }
  }
  return table;
}

/** The texts given for a flag (and its alias), last one wins unless multiple. */
function givenText(flag: OptionFlag, values: FlagValues): string | undefined {
  const texts = [flag.name, ...(flag.alias ? [flag.alias.name] : [])]
    .flatMap((name) => {
      const value = values[name];
      return Array.isArray(value)
        ? value
        : typeof value === "string"
        ? [value]
        : [];
    });
  if (texts.length === 0) return undefined;
  return flag.multiple ? texts.join(",") : texts[texts.length - 1];
}

function coerce(text: string): unknown {
  const number = Number(text);
  return text.trim() !== "" && Number.isFinite(number) ? number : text;
}

/** One flag's value, checked by its field's schema. */
function readFlag(
  field: z.ZodType,
  flag: OptionFlag,
  values: FlagValues,
): unknown {
  if (!flag.value) {
    const given = values[flag.name];
    if (given === undefined) return undefined;
    return checked(field, flag, flag.negates ? !given : given);
  }
  const text = givenText(flag, values);
  if (text === undefined) return undefined;
  if (flag.json) return jsonFlag(flag.name, text, field);
  let raw: unknown = text;
  try {
    const inner = field instanceof z.ZodOptional ? field.unwrap() : field;
    raw = flag.parse
      ? flag.parse(text)
      : inner instanceof z.ZodNumber
      ? coerce(text)
      : text;
  } catch (error) {
    throw new CliError(
      `Invalid --${flag.name} "${text}": ${(error as Error).message}`,
    );
  }
  return checked(field, flag, raw, text);
}

function checked(
  field: z.ZodType,
  flag: OptionFlag,
  raw: unknown,
  text = String(raw),
): unknown {
  const result = field.safeParse(raw);
  if (!result.success) {
    throw new CliError(
      `Invalid --${flag.name} "${text}": ${result.error.issues[0].message}`,
    );
  }
  return result.data;
}

/**
 * Reads an options schema's flags from parsed flag values into options,
 * each checked by its field's schema; throws a {@linkcode CliError} naming
 * the flag. Options whose flag is not given are left out.
 */
export function optionsFromFlags<S extends z.ZodObject>(
  schema: S,
  values: FlagValues,
): Partial<z.output<S>> {
  const options: Record<string, unknown> = {};
  const fields = fieldsOf(schema);
  for (const [key, field, flag] of fields) {
    const nested = flag ? undefined : objectIn(field);
    const value = flag
      ? readFlag(field, flag, values)
      : nested
      ? optionsFromFlags(nested, values)
      : undefined;
    if (
      value !== undefined &&
      !(nested && Object.keys(value as object).length === 0)
    ) options[key] = value;
  }
  for (const [key, , flag] of fields) {
    if (!flag?.needs || options[key] === undefined) continue;
    const { option, value } = flag.needs;
    const other = fields.find(([name]) => name === option)?.[2];
    if (
      options[option] === undefined ||
      (value !== undefined && options[option] !== value)
    ) {
      throw new CliError(
        `Invalid --${flag.name}: it needs --${other?.name ?? option}${
          value !== undefined ? ` ${value}` : ""
        }`,
      );
    }
  }
  return options as Partial<z.output<S>>;
}

/**
 * The type of the options schema of options `T`: a zod object with a field
 * for each option, optional where the option is, giving values the option
 * takes. A server declares its schema with it
 * (`const Schema: OptionsSchema<Pick<ServerOptions, "a" | "b">> =
 * z.object(...)`): its options are stated once, in its options type, and
 * `deno check` fails when the schema leaves one out or gives a value the
 * option does not take.
 */
export type OptionsSchema<T> = z.ZodObject<
  {
    [K in keyof T]-?: undefined extends T[K]
      ? z.ZodOptional<z.ZodType<Exclude<T[K], undefined>>>
      : z.ZodType<T[K]>;
  }
>;

/**
 * `true` when two option types are the same, `never` otherwise: a server
 * whose schema gives some options in other forms than its TypeScript options
 * (so that {@linkcode OptionsSchema} cannot type it) states `const _agree:
 * OptionsAgree<z.infer<typeof Schema>["a"], Options["a"]> = true` for the
 * others, so that they cannot drift apart (`deno check` fails when they do).
 */
export type OptionsAgree<A, B> = [A] extends [B]
  ? ([B] extends [A] ? true : never)
  : never;

/**
 * `true` when options of type `A` (what a schema gives) can be passed as
 * options of type `B` and both name the same options, `never` otherwise: for
 * a server whose TypeScript options take more forms than its schema gives
 * (a period as a number or a range).
 */
export type OptionsFit<A, B> = [A] extends [B]
  ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : never)
    : never)
  : never;
