// Singer lines for the contract cases, written the way a tap writes them.

export const schema = (stream: string, properties: Record<string, unknown>, key: string[] = ['id']) =>
  JSON.stringify({ type: 'SCHEMA', stream, schema: { type: 'object', properties }, key_properties: key });
export const record = (stream: string, value: Record<string, unknown>) => JSON.stringify({ type: 'RECORD', stream, record: value });
export const state = (value: unknown) => JSON.stringify({ type: 'STATE', value });
/** The lines as one input, each ended by a newline. */
export const text = (...lines: string[]) => ({ text: `${lines.join('\n')}\n` });
