// Coercions OnlineExamMaker's fields need that @tapline/tap-kit's `coerce` does not offer.
import { z } from 'zod';

/**
 * `tid`, the attempt id: 812 or "812" (or an id with letters) -> "812". Kept as text so no spelling a
 * deployment uses is refused or rounded; "" and null -> null.
 */
export function attemptId() {
  return z
    .unknown()
    .transform((value, ctx): string | null => {
      if (value === null || value === undefined) return null;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
      const lossless = typeof value === 'object' && (value as { isLosslessNumber?: unknown }).isLosslessNumber === true;
      if (lossless) return String((value as { value: unknown }).value);
      if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
      ctx.addIssue({ code: 'custom', message: `expected an attempt id (a whole number or text), got ${JSON.stringify(value)}`, input: value });
      return z.NEVER;
    })
    .pipe(z.string().nullable());
}
