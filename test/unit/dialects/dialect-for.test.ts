import { dialectFor } from '../../../src/dialects/dialect-for';
import { kingbaseV8r3Dialect } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect } from '../../../src/dialects/postgresql';

describe('dialectFor', () => {
  it('gives the dialect of each inventory id', () => {
    expect(dialectFor('kingbase-v8r3')).toBe(kingbaseV8r3Dialect);
    expect(dialectFor('postgresql')).toBe(postgresqlDialect);
    expect(dialectFor('kingbase-v8r3').id).toBe('kingbase-v8r3');
    expect(dialectFor('postgresql').id).toBe('postgresql');
  });

  it('gives dialects that agree on their password encoding and capability', () => {
    for (const d of [dialectFor('kingbase-v8r3'), dialectFor('postgresql')]) {
      expect(d.conninfoPasswordEncoding === 'base64').toBe(d.caps.base64ConninfoPassword);
    }
  });
});
