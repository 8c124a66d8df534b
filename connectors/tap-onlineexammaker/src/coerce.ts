// Coercions OnlineExamMaker's fields need that @tapline/tap-kit's `coerce` does not offer.
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';

/**
 * `sid`, the candidate id and part of the key: 19382 or "19382". A result without one (the document's
 * one-candidate shape, served for every candidate) cannot be keyed: candidates who started in the same
 * second would merge into one row. It is refused with that reason, so the kit sets it aside whole.
 */
export function candidateId() {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
        ctx.addIssue({
          code: 'custom',
          message:
            "the result has no sid (the document's one-candidate shape, sent for every candidate); sid is part of its key, and without it candidates who started in the same second would merge into one row",
          input: value,
        });
      }
    })
    .pipe(coerce.integer());
}

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
      ctx.addIssue({
        code: 'custom',
        message: `expected an attempt id (a whole number or text), got ${JSON.stringify(value)}`,
        input: value,
      });
      return z.NEVER;
    })
    .pipe(z.string().nullable());
}
