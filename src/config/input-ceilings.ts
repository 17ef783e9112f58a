/**
 * The most any request may carry, whatever the config says: the API schemas' bounds and the
 * maxima of the config's `limits`, in one place so the two cannot disagree. A site lowers
 * (or raises, up to these) its own limits in the config.
 */
const MiB = 1024 * 1024;

export const CEILINGS = {
  bodyBytes: 256 * MiB,
  scriptBytes: 64 * MiB,
  argvItems: 100_000,
  argvBytes: 64 * MiB,
  /** one argument or environment string: Linux's MAX_ARG_STRLEN */
  stringBytes: 131_072,
  environmentItems: 100_000,
  environmentBytes: 64 * MiB,
  /** an environment variable's name */
  environmentNameChars: 1024,
  nameChars: 1024,
} as const;

/** The defaults of the config's `limits`: SLURM's and Linux's where they have one. */
export const DEFAULT_LIMITS = {
  bodyBytes: 8 * MiB,
  // SLURM's default max_script_size
  scriptBytes: 4 * MiB,
  argvItems: 10_000,
  // argv and environment share exec's ARG_MAX (2 MiB with the usual 8 MiB stack): half each
  argvBytes: 1 * MiB,
  environmentItems: 4096,
  environmentBytes: 1 * MiB,
  nameChars: 200,
} as const;
