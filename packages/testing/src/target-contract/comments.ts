// The data dictionary: every table and column the target makes carries its description as a comment, read back from the database.
import { describe, expect, it } from 'vitest';
import type { HardeningContext } from './hardening.js';
import { record, state, text } from './lines.js';

const described = (properties: Record<string, unknown>, description?: string) =>
  JSON.stringify({
    type: 'SCHEMA',
    stream: 'attempts',
    key_properties: ['id'],
    schema: { type: 'object', ...(description === undefined ? {} : { description }), properties },
  });

export function defineCommentCases(context: HardeningContext): void {
  const { load } = context;
  const comments = (table: string) => {
    const read = context.place().comments;
    if (read === undefined) throw new Error(`${context.harness.name}: the harness cannot read comments`);
    return read(table);
  };

  describe('comments: the data dictionary', () => {
    it("comments the table with the schema's description (and its owner line) and each column with its property's description or the metadata column's meaning", async () => {
      await load(
        text(
          described(
            {
              id: { type: 'integer', description: 'The attempt id, as the vendor numbers it.' },
              score: { type: ['number', 'null'], description: "Points scored (the vendor's 'points_scored')." },
              plain: { type: ['string', 'null'] },
            },
            'One row per candidate attempt.',
          ),
          record('attempts', { id: 1, score: 7.5, plain: 'x' }),
          state({ done: 1 }),
        ),
      );
      const read = await comments('attempts');
      expect(read.table).toBe('One row per candidate attempt.\ntapline stream: "attempts"');
      expect(read.columns.id).toBe('The attempt id, as the vendor numbers it.');
      expect(read.columns.score).toBe("Points scored (the vendor's 'points_scored').");
      expect(read.columns.plain ?? null).toBeNull();
      expect(read.columns._sdc_extracted_at).toMatch(/^When the tap read the record/);
      expect(read.columns._sdc_deleted_at).toMatch(/^When the row was found deleted at the source/);
    });

    it('updates descriptions that changed, comments columns added later, and keeps a comment nobody describes', async () => {
      await load(text(described({ id: { type: 'integer', description: 'old' } }, 'old table'), record('attempts', { id: 1 })));
      await context.place().execute(`COMMENT ON COLUMN ${context.place().qualify('attempts')}."_sdc_sequence" IS 'an analyst wrote this'`);
      await load(
        text(
          described(
            { id: { type: 'integer', description: 'new' }, added: { type: ['string', 'null'], description: 'A column added later.' } },
            'new table',
          ),
          record('attempts', { id: 2, added: 'y' }),
        ),
        { add_record_metadata: false },
      );
      const read = await comments('attempts');
      expect(read.table).toBe('new table\ntapline stream: "attempts"');
      expect(read.columns.id).toBe('new');
      expect(read.columns.added).toBe('A column added later.');
      expect(read.columns._sdc_sequence).toBe('an analyst wrote this'); // not in this run's layout: left alone
    });

    it("keeps a description on a column whose values need exact decimals beyond the database's numbers", async () => {
      const big = `1${'0'.repeat(45)}.5`;
      await load(
        text(
          described({
            id: { type: 'integer' },
            amount: { type: ['string', 'null'], format: 'x-singer.decimal', description: 'The amount, exact.' },
          }),
          record('attempts', { id: 1, amount: big }),
        ),
      );
      const read = await comments('attempts');
      expect(read.columns.amount).toBe('The amount, exact.');
      expect(await context.place().columns('attempts')).toMatchObject({ amount: 'decimal' });
      expect((await context.place().rows('attempts', ['id']))[0]).toMatchObject({ amount: big });
    });
  });
}
