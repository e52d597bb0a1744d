import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withReference } from '../src/config/config-reference';

// npm run docs:config — rewrite the README's configuration reference from the zod schemas.
const path = join(__dirname, '..', 'README.md');
const before = readFileSync(path, 'utf8');
const after = withReference(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(
  after === before ? 'README.md reference already current\n' : 'README.md reference updated\n',
);
