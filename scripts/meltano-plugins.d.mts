// Types for scripts/meltano-plugins.mjs, for the tests that import it.
export interface Plugin { kind: 'extractors' | 'loaders'; bin: string; packageName: string; dir: string }
export interface About {
  name: string;
  description: string;
  version: string;
  sdk_version: string;
  supported_python_versions: null;
  capabilities: string[];
  settings: { properties?: Record<string, Record<string, unknown>>; required?: string[] };
}
export const docsDir: string;
export function plugins(): Plugin[];
export function aboutOf(plugin: Plugin): About;
export function meltanoSetting(name: string, schema: Record<string, unknown>): Record<string, unknown>;
export function pluginDefinition(plugin: Plugin, about: About): Record<string, unknown>;
export function aboutOfAsync(plugin: Plugin): Promise<About>;
export function meltanoFiles(abouts?: About[]): Map<string, string>;
