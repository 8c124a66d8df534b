// tapline.yml's `receivers:` section: one webhook receiver per entry, served at /hooks/<name>.
import { z } from 'zod';

export const RECEIVER_TYPES = ['classmarker', 'testpress'] as const;
export type ReceiverType = (typeof RECEIVER_TYPES)[number];

const receiverSchema = z.strictObject({
  /** Whose webhook this is. */
  type: z.enum(RECEIVER_TYPES),
  /** ClassMarker: the webhook's secret phrase; Testpress: the institute's private key. Write it as `${ENV_VAR}`. */
  secret: z.string().min(1, 'must not be empty'),
  /** Testpress only: the institute's public key; a payload whose `key` differs is refused. */
  public_key: z.string().min(1).optional(),
  /** A target of tapline.yml (duckdb or postgres) the deliveries land in. */
  target: z.string().min(1),
  /** The schema they land in (default: the receiver's type, as `tapline run <type> <target>` uses). */
  schema: z.string().min(1).optional(),
});

export const receiversSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_-]+$/, 'a receiver name is letters, digits, - and _ (it is a URL path segment)'),
  receiverSchema,
);

export type ReceiverSettings = z.infer<typeof receiverSchema>;
