import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import { archiverSql, parseArchiver } from '../../../src/probes/archiver';
import { parsePsqlTable } from '../../../src/probes/psql-table';
import { upperCased, valueOf } from './fixture';

// Rows as node-pg gives them on PostgreSQL 15 (bigints and numerics as text).
const FAILING = {
  archived_count: '41',
  last_archived_wal: '000000010000000000000029',
  last_archived_epoch: '1763683200.250000',
  failed_count: '3',
  last_failed_wal: '00000001000000000000002A',
  last_failed_epoch: '1763683260.000000',
  archive_mode: 'on',
};

describe('archiver', () => {
  it("reads the dialect's archiver view and archive_mode from its settings view", () => {
    expect(archiverSql(pg).sql).toMatch(/from pg_stat_archiver a$/);
    expect(archiverSql(pg).sql).toContain("from pg_settings s where s.name = 'archive_mode'");
    expect(archiverSql(kb).sql).toMatch(/from sys_stat_archiver a$/);
    expect(archiverSql(kb).sql).toContain('from sys_settings s');
    expect(archiverSql(kb).sql).not.toContain('pg_');
  });

  it('gives counts, WAL names and ISO times of the last success and failure', () => {
    expect(valueOf(parseArchiver([FAILING]))).toEqual({
      archiveMode: 'on',
      archivedCount: 41,
      failedCount: 3,
      lastArchivedWal: '000000010000000000000029',
      lastArchivedAt: '2025-11-21T00:00:00.250Z',
      lastFailedWal: '00000001000000000000002A',
      lastFailedAt: '2025-11-21T00:01:00.000Z',
    });
  });

  it('reads a server that never archived (archive_mode off): nulls where nothing happened', () => {
    const text = [
      ' archived_count | last_archived_wal | last_archived_epoch | failed_count | last_failed_wal | last_failed_epoch | archive_mode ',
      '----------------+-------------------+---------------------+--------------+-----------------+-------------------+--------------',
      '              0 |                   |                     |            0 |                 |                   | off',
      '(1 row)',
    ].join('\n');
    expect(valueOf(parseArchiver(upperCased(parsePsqlTable(text))))).toEqual({
      archiveMode: 'off',
      archivedCount: 0,
      failedCount: 0,
      lastArchivedWal: null,
      lastArchivedAt: null,
      lastFailedWal: null,
      lastFailedAt: null,
    });
  });

  it('says what it could not read rather than guess', () => {
    expect(parseArchiver([])).toEqual({ ok: false, reason: 'the archiver view returned no row' });
    expect(parseArchiver([{ ...FAILING, archive_mode: null }])).toEqual({
      ok: false,
      reason: 'archive_mode is not among the server settings',
    });
    expect(parseArchiver([{ ...FAILING, failed_count: 'many' }])).toEqual({
      ok: false,
      reason: 'failed_count is "many"',
    });
    expect(parseArchiver([{ ...FAILING, last_failed_epoch: 'yesterday' }])).toEqual({
      ok: false,
      reason: 'last_failed_time is "yesterday", not a time',
    });
    const { archived_count: _, ...without } = FAILING;
    expect(parseArchiver([without])).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^the archiver query has no archived_count column/),
    });
  });
});
