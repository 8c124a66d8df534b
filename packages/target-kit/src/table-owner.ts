// Which stream owns a table: recorded in the table's comment, so two streams never share a table by accident.

/** The line of a table comment that names its owning stream: `tapline stream: "<raw stream name as JSON>"`. */
const MARKER = 'tapline stream: ';

/** The stream recorded as the table's owner, or null (no comment, or one we did not write). */
export function ownerOf(comment: string | null): string | null {
  if (comment === null) return null;
  for (const line of comment.split('\n')) {
    if (!line.startsWith(MARKER)) continue;
    try {
      const owner = JSON.parse(line.slice(MARKER.length)) as unknown;
      if (typeof owner === 'string') return owner;
    } catch {
      // a hand-written line that only looks like ours: not an owner
    }
  }
  return null;
}

/**
 * The comment that records `stream` as the owner, after the stream's `description` (its SCHEMA's,
 * the data dictionary). Without a description, a comment someone else wrote (a table made by hand)
 * is kept, with the owner line added after it; a description replaces it.
 */
export function commentWithOwner(comment: string | null, stream: string, description: string | null = null): string {
  const line = `${MARKER}${JSON.stringify(stream)}`;
  if (description !== null) return `${description}\n${line}`;
  if (comment === null || comment === '') return line;
  const others = comment.split('\n').filter((text) => !text.startsWith(MARKER));
  return [...others, line].join('\n');
}
