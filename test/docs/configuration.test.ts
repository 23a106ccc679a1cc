import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIGURATION_PAGE, deployVariables, documentedVariables, renderConfigurationPage } from '../../scripts/config-docs';
import { REMOVED_VARIABLES } from '../../shared/domain/doctor/removed-variables';
import { envSchema } from '../../shared/runtime/env';
import { tempDir } from '../helpers/local-cloud';

const ROOT = join(__dirname, '..', '..');
const temps: { remove: () => void }[] = [];
afterEach(() => {
  for (const temp of temps.splice(0)) temp.remove();
});

/** A copy of the two sources the page is made from, to change without touching the repository. */
function sourcesCopy(): string {
  const temp = tempDir('yike-config-docs-');
  temps.push(temp);
  const root = temp.path;
  mkdirSync(join(root, 'shared', 'runtime'), { recursive: true });
  copyFileSync(join(ROOT, 'shared', 'runtime', 'env.ts'), join(root, 'shared', 'runtime', 'env.ts'));
  copyFileSync(join(ROOT, 's.yaml'), join(root, 's.yaml'));
  return root;
}

describe('docs/configuration.md, generated from the environment schema and s.yaml', () => {
  it('is what `npm run docs:config` writes today (regenerate it after changing shared/runtime/env.ts or s.yaml)', () => {
    // Act
    const rendered = renderConfigurationPage(ROOT);

    // Assert
    expect(readFileSync(join(ROOT, CONFIGURATION_PAGE), 'utf8')).toBe(rendered);
  });

  it('documents every variable of the schema, in schema order, with a description and its readers', () => {
    // Act
    const documented = documentedVariables(ROOT);

    // Assert
    expect(documented.map((variable) => variable.name)).toEqual(Object.keys(envSchema.shape));
    expect(documented.filter((variable) => variable.description.length < 10 || (variable.readBy !== 'all' && variable.readBy.length === 0))).toEqual([]);
    expect(documented.find((variable) => variable.name === 'ICE_REGION')).toEqual({
      name: 'ICE_REGION',
      description:
        "ICE region; the endpoint is `ice.<region>.aliyuncs.com`. Also the buckets' region (ICE reads OSS only in its own region) and the FC region of the functions the tools invoke.",
      defaultValue: '`cn-shanghai`',
      readBy: 'all',
    });
    expect(documented.find((variable) => variable.name === 'RECORDS_BUCKET')?.defaultValue).toBe("the upload's bucket (HTTP: the first `ALLOWED_BUCKETS`)");
    expect(documented.find((variable) => variable.name === 'JOB_RESULTS')?.defaultValue).toBe('`copy,object`');
    expect(documented.find((variable) => variable.name === 'IMAGE_SUFFIXES')?.defaultValue).toBe('`.jpg,.jpeg,.png,.webp`');
  });

  it('has at most 30 rows in its environment table besides the variables the issues name, and a row for each removed variable saying what it became', () => {
    // Arrange: the public contracts issues 25-28 add (WEBHOOK_ALLOWED_HOSTS: per-job webhooks, issue 25).
    const issueNamed = ['WEBHOOK_ALLOWED_HOSTS', 'RETENTION_DAYS', 'TICKET_SECRET', 'CONSENT_VERSION', 'SHARE_DAYS'];

    // Act
    const page = renderConfigurationPage(ROOT);
    const section = (heading: string) => page.split(`\n## ${heading}\n`)[1]!.split('\n## ')[0]!;
    const rows = (text: string) => text.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| variable') && !line.startsWith('| removed'));

    // Assert
    expect(rows(section('Environment variables')).filter((row) => !issueNamed.some((name) => row.includes(`\`${name}\` |`))).length).toBeLessThanOrEqual(30);
    expect(rows(section('Removed variables'))).toEqual(Object.entries(REMOVED_VARIABLES).map(([name, became]) => `| \`${name}\` | ${became} |`));
    expect(rows(section('Removed variables'))).toContain('| `WATCH_BUCKETS` | the watcher reads `RECORDS_BUCKET` and every `ALLOWED_BUCKETS` |');
    expect(rows(section('Removed variables'))).toContain('| `ICE_RETRY_BASE_MS` | constant: 200 ms |');
  });

  it('goes stale when a variable is added to the schema without regenerating the page', () => {
    // Arrange
    const root = sourcesCopy();
    const envFile = join(root, 'shared', 'runtime', 'env.ts');
    const source = readFileSync(envFile, 'utf8');
    writeFileSync(
      envFile,
      source.replace(
        'export const envSchema = z.object({\n',
        'export const envSchema = z.object({\n  /** A new knob. @readBy oss-submit */\n  NEW_KNOB: optionalString,\n',
      ),
    );

    // Act
    const rendered = renderConfigurationPage(root);

    // Assert
    expect(rendered).toContain('| <a id="new_knob"></a>`NEW_KNOB` | — | oss-submit | A new knob. |');
    expect(readFileSync(join(ROOT, CONFIGURATION_PAGE), 'utf8')).not.toBe(rendered);
  });

  it('refuses a schema entry without a doc comment or @readBy tag, naming it', () => {
    // Arrange
    const root = sourcesCopy();
    const envFile = join(root, 'shared', 'runtime', 'env.ts');
    const source = readFileSync(envFile, 'utf8');
    writeFileSync(envFile, source.replace('export const envSchema = z.object({\n', 'export const envSchema = z.object({\n  UNDOCUMENTED: optionalString,\n'));

    // Act, Assert
    expect(() => documentedVariables(root)).toThrow('shared/runtime/env.ts: UNDOCUMENTED has no doc comment (its description on docs/configuration.md)');
  });

  it('lists each YIKE_* variable s.yaml reads with its default and the function variables it sets', () => {
    // Act
    const deploy = deployVariables(ROOT);

    // Assert
    expect(deploy.find((variable) => variable.name === 'YIKE_AUTH_TOKENS')).toEqual({
      name: 'YIKE_AUTH_TOKENS',
      defaultValue: undefined,
      sets: [{ target: 'AUTH_TOKENS', resources: ['http-submit', 'oss-submit', 'oss-submit-eventbridge', 'budget-renewal'] }],
    });
    expect(deploy.find((variable) => variable.name === 'YIKE_PRECHECK')).toEqual({
      name: 'YIKE_PRECHECK',
      defaultValue: 'on',
      sets: [{ target: 'PRECHECK', resources: ['http-submit', 'oss-submit', 'oss-submit-eventbridge', 'budget-renewal'] }],
    });
    const setsUnknownVariable = deploy
      .flatMap((variable) => variable.sets)
      .filter(({ target }) => /^[A-Z][A-Z0-9_]+$/.test(target) && !(target in envSchema.shape));
    expect(setsUnknownVariable).toEqual([]);
  });
});
