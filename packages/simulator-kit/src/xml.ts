// XML bodies for simulators of APIs that also answer in XML (entity-escaped, no declaration).
import { XMLBuilder } from 'fast-xml-parser';

const builder = new XMLBuilder({ ignoreAttributes: true, format: false, suppressEmptyNode: false });

/**
 * Serialises `value` under a `<root>` element. Arrays repeat their parent tag
 * (`{results: {result: [a, b]}}` → `<results><result>a</result><result>b</result></results>`);
 * null/undefined and "" become empty elements; `&`, `<`, `>` are escaped.
 */
export function toXml(root: string, value: Record<string, unknown>): string {
  return builder.build({ [root]: value }) as string;
}
