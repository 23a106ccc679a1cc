// npm run deploy:template: writes deploy/infrastructure.json from cli/deploy/template.ts (test/integration/deploy/
// infrastructure.test.ts fails while the file differs from what the code builds).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { templateText } from '../cli/deploy/template';

const file = join(process.cwd(), 'deploy', 'infrastructure.json');
writeFileSync(file, templateText());
process.stdout.write(`wrote ${file}\n`);
