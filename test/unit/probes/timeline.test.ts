import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import { parseTimeline, timelineSql } from '../../../src/probes/timeline';

describe('timeline', () => {
  it("asks the dialect's checkpoint function", () => {
    expect(timelineSql(pg).sql).toBe('select timeline_id from pg_control_checkpoint()');
    expect(timelineSql(kb).sql).toBe('select timeline_id from sys_control_checkpoint()');
  });

  it('reads the timeline as typed (node-pg) or as text in any column case (ksql)', () => {
    expect(parseTimeline([{ timeline_id: 1 }])).toEqual({ ok: true, value: 1 });
    expect(parseTimeline([{ TIMELINE_ID: '5' }])).toEqual({ ok: true, value: 5 });
  });

  it('refuses what is not a timeline', () => {
    expect(parseTimeline([])).toEqual({ ok: false, reason: 'the checkpoint query returned no row' });
    expect(parseTimeline([{ timeline_id: null }])).toEqual({ ok: false, reason: 'timeline_id is empty' });
    expect(parseTimeline([{ timeline_id: 0 }])).toEqual({ ok: false, reason: 'timeline_id is 0' });
    expect(parseTimeline([{ timeline_id: '1.5' }])).toEqual({ ok: false, reason: 'timeline_id is "1.5"' });
  });
});
