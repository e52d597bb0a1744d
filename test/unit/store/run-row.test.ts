import { eventColumns, iso, toStoredEvent } from '../../../src/store/run-row';

describe('run-row mapping', () => {
  test('timestamps become ISO strings whether the driver gives a Date or text', () => {
    expect(iso(new Date('2025-01-02T03:04:05.678Z'))).toBe('2025-01-02T03:04:05.678Z');
    expect(iso('2025-01-02 04:04:05.678+01')).toBe('2025-01-02T03:04:05.678Z');
  });

  test('an event splits into columns and comes back whole, with a numeric id', () => {
    const entry = {
      runId: 'r1',
      cluster: 'c1',
      actor: 'U-a',
      event: { type: 'lock', action: 'refused', heldByRun: 'r0' },
    } as const;
    const [runId, cluster, actor, type, data] = eventColumns(entry);
    expect([runId, cluster, actor, type]).toEqual(['r1', 'c1', 'U-a', 'lock']);
    const stored = toStoredEvent({
      id: '42', // node-postgres returns bigint as text
      run_id: 'r1',
      cluster: 'c1',
      at: new Date('2025-01-02T03:04:05.678Z'),
      actor: 'U-a',
      type: 'lock',
      data: JSON.parse(data as string),
    });
    expect(stored).toEqual({ ...entry, id: 42, at: '2025-01-02T03:04:05.678Z' });
  });
});
