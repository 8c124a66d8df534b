// Singer message shapes (SPEC 0.3 plus ACTIVATE_VERSION), validated with zod.
// Policy choices are documented in ../README.md ("Protocol policy").
import { z } from 'zod';

/** A JSON Schema as it arrives in a SCHEMA message: kept as a plain object, interpreted by ./json-schema. */
export type JsonSchema = { [key: string]: unknown };

const jsonObject = z.record(z.string(), z.unknown());

export const schemaMessageSchema = z.object({
  type: z.literal('SCHEMA'),
  stream: z.string().min(1),
  schema: jsonObject,
  // The spec requires key_properties, but the Meltano SDK (and its standard target tests) send
  // SCHEMA messages without it; we read a missing list as "no key" (see README, Protocol policy).
  key_properties: z.array(z.string()).optional(),
  bookmark_properties: z.array(z.string()).optional(),
});

export const recordMessageSchema = z.object({
  type: z.literal('RECORD'),
  stream: z.string().min(1),
  record: jsonObject,
  version: z.union([z.number(), z.bigint()]).optional(),
  time_extracted: z.string().optional(),
});

export const stateMessageSchema = z.object({
  type: z.literal('STATE'),
  value: z.unknown(),
});

export const activateVersionMessageSchema = z.object({
  type: z.literal('ACTIVATE_VERSION'),
  stream: z.string().min(1),
  version: z.union([z.number(), z.bigint()]),
});

export type SchemaMessage = z.infer<typeof schemaMessageSchema>;
export type RecordMessage = z.infer<typeof recordMessageSchema>;
export type StateMessage = z.infer<typeof stateMessageSchema>;
export type ActivateVersionMessage = z.infer<typeof activateVersionMessageSchema>;
export type SingerMessage = SchemaMessage | RecordMessage | StateMessage | ActivateVersionMessage;
export type SingerMessageType = SingerMessage['type'];
