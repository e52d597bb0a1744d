import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReference, withReference } from '../../../src/config/config-reference';

describe('the README configuration reference', () => {
  it('is the one generated from the schemas (run npm run docs:config after changing them)', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    expect(withReference(readme)).toBe(readme);
  });

  it('lists every field with its default and marks secrets as references', () => {
    const ref = configReference();
    expect(ref).toContain('| `clusters.<name>.db.password` | `{ env: NAME }` or `{ file: /path }` | yes |');
    expect(ref).toContain('| `clusters.<name>.manager.nodes[].pcpPort` | port |  | `9898` |');
    expect(ref).toContain('| `clusters.<name>.nodes[].hostKeys` | list of string |');
    expect(ref).toContain('| `LOG_LEVEL` | `info` |');
    expect(ref).toContain('| `reports.<name>.cron` | string | yes |');
    expect(ref).toContain('| `reports.<name>.timezone` | string |  | `"UTC"` |');
    expect(ref).toMatch(
      /\| `reports\.<name>\.thresholds\.lagBytes\.warn` \| number or string \|.*default 16MB \|/,
    );
  });

  it('refuses a README without the markers', () => {
    expect(() => withReference('# no markers')).toThrow(/config-reference markers/);
  });
});
