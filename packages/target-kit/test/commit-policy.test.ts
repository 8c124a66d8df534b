// When a STATE is a commit point, by default and under a held-bytes cap (a database whose commit costs per table).
import { describe, expect, it } from 'vitest';
import { CommitPolicy } from '../src/commit-policy.js';

const nothingHeld = () => 0;

describe('the default commit policy', () => {
  it('commits at the STATE after batch_size_rows rows arrived, over all streams', () => {
    const policy = new CommitPolicy(100);
    policy.recordsReceived(99);
    expect(policy.stateArrived('{"at":99}', nothingHeld)).toBe(false);
    policy.recordsReceived(1);
    expect(policy.stateArrived('{"at":100}', nothingHeld)).toBe(true);
    expect(policy.committing()).toBe('{"at":100}');
    expect(policy.rowsSinceCommit).toBe(0);
  });

  it('commits at the STATE after 200 tables were written or changed', () => {
    const policy = new CommitPolicy(1_000_000);
    for (let i = 0; i < 199; i++) policy.tableChanged(`main.t${i}`);
    expect(policy.stateArrived('{}', nothingHeld)).toBe(false);
    policy.rowsWrittenTo('main.t199', 1, false);
    expect(policy.stateArrived('{}', nothingHeld)).toBe(true);
  });
});

describe('a commit policy holding rows up to a byte cap', () => {
  it('does not commit for rows that only arrived, however many, while they are held below the cap', () => {
    const policy = new CommitPolicy(100, { heldBytesPerCommit: 1000 });
    policy.recordsReceived(500);
    expect(policy.stateArrived('{"at":500}', () => 999)).toBe(false);
  });

  it('commits once the held rows pass the cap, or batch_size_rows rows were written', () => {
    const capped = new CommitPolicy(100, { heldBytesPerCommit: 1000 });
    capped.recordsReceived(10);
    expect(capped.stateArrived('{}', () => 1000)).toBe(true);
    const written = new CommitPolicy(100, { heldBytesPerCommit: 1000 });
    written.rowsWrittenTo('main.big', 100, false);
    expect(written.stateArrived('{}', nothingHeld)).toBe(true);
  });

  it('keeps the pending STATE committable alone only while no row after it reached the database', () => {
    const policy = new CommitPolicy(100, { heldBytesPerCommit: 1000 });
    policy.recordsReceived(3);
    policy.stateArrived('{"at":3}', nothingHeld);
    policy.recordsReceived(2);
    policy.rowsWrittenTo('main.a', 4, false); // rows before the STATE: fine
    expect(policy.pendingStateIsClean).toBe(true);
    expect(policy.rowsAfterPendingState).toBe(2);
    policy.rowsWrittenTo('main.b', 2, true);
    expect(policy.pendingStateIsClean).toBe(false);
  });
});
