// Public API of @tapline/target-kit.
export type * from './dialect.js';
export { META, METADATA_COLUMNS } from './metadata.js';
