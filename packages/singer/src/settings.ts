// What `--about` says about a setting beyond its JSON Schema type, shared by taps and targets.

/**
 * Zod `.meta()` for a setting that holds a secret (API secret, password, connection string):
 * `--about` shows it with `secret` and `writeOnly`, as the Meltano SDK does, so Meltano stores it
 * as sensitive and never prints it.
 */
export const SECRET_SETTING = { secret: true, writeOnly: true } as const;
