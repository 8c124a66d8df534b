// `exams`: the account's exams from task=api.getExams, full table.
import { offsetPaging } from '@tapline/http';
import { coerce } from '@tapline/tap-kit';
import { z } from 'zod';
import { INDEX_PHP, legacyQuery, oem } from '../api.js';

export const exams = oem.stream({
  name: 'exams',
  description: 'Exams of the account (task=api.getExams).',
  path: INDEX_PHP,
  query: legacyQuery('api.getExams'),
  key: ['eid'],
  // Exams can be deleted in OnlineExamMaker: ACTIVATE_VERSION lets the target drop or mark them. An
  // exam deleted mid-run shifts the start/limit pages, and no total is sent: each page starts at the
  // last exam of the one before, so a shift is noticed and ACTIVATE_VERSION waits for a whole listing.
  activateVersion: true,
  pagination: offsetPaging({ limit: 100, offsetParam: 'start', limitParam: 'limit', stopOnShortPage: false, overlap: true }),
  record: z.object({
    eid: coerce.integer().describe("OnlineExamMaker's exam id."),
    title: coerce.text().describe("The exam's title."),
    img: coerce.emptyAsNull(coerce.text()).optional().describe("Link to the exam's cover image."),
    url: coerce.emptyAsNull(coerce.text()).optional().describe('Link to take the exam.'),
    createTime: coerce.isoFromUnixSeconds().describe('When the exam was created (sent as UNIX seconds).'),
    available: coerce.booleanFromYesNo().describe('Whether the exam can be taken (sent as 1 or 0).'),
    times: coerce.integer().optional().describe('How many times the exam was taken.'),
    category: coerce.emptyAsNull(coerce.text()).optional().describe("The exam's category name; null when blank or not sent."),
  }),
});
