// Types for scripts/repository.mjs, for the tests that import it.
export function repositoryUrl(): string;
export function packageLinks(
  dir: string,
  web?: string,
): { repository: { type: 'git'; url: string; directory: string }; homepage: string; bugs: { url: string } };
export function workspaceDirs(): string[];
