import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { REMOVED_DEPLOY_VARIABLES, REMOVED_VARIABLES } from '../shared/domain/doctor/removed-variables';
import { envSchema } from '../shared/runtime/env';

/**
 * `npm run docs:config`: writes docs/configuration.md from the environment schema (shared/runtime/env.ts: each
 * entry's doc comment, its `@readBy` and `@default` tags, and the schema's own default), from s.yaml (every
 * `${env('YIKE_…')}` it reads, its default, and what it sets) and from the removed variables' list
 * (shared/domain/doctor/removed-variables.ts). test/docs/configuration.test.ts fails when the page is stale, so a
 * variable added to the schema without regenerating the page is caught.
 */
const READERS = ['oss-submit', 'http-submit', 'job-watcher', 'budget-renewal', 'yike-submit', 'yike-backfill', 'yike-jobs'] as const;
type Reader = (typeof READERS)[number];

export interface DocumentedVariable {
  name: string;
  description: string;
  /** The default as markdown (a value in backticks, or the @default tag's words), or undefined (unset). */
  defaultValue?: string;
  readBy: 'all' | Reader[];
}

export interface DeployVariable {
  name: string;
  /** The second argument of env(), as written in s.yaml; undefined when s.yaml requires it. */
  defaultValue?: string;
  /** What it sets (a function's variable, or an s.yaml field), each with the resources it sets it in. */
  sets: { target: string; resources: string[] }[];
}

const ENV_FILE = join('shared', 'runtime', 'env.ts');

/** The schema's entries in source order, each with its doc comment and tags. */
export function documentedVariables(root: string): DocumentedVariable[] {
  const path = join(root, ENV_FILE);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  const shape = schemaShapeLiteral(source);
  const schemaShape = envSchema.shape as Record<string, { safeParse(value: unknown): { success: boolean; data?: unknown } }>;
  return shape.properties.filter(ts.isPropertyAssignment).map((property) => {
    const name = property.name.getText(source);
    const docs = ts.getJSDocCommentsAndTags(property).filter(ts.isJSDoc);
    if (docs.length === 0) throw new Error(`${ENV_FILE}: ${name} has no doc comment (its description on docs/configuration.md)`);
    const doc = docs[docs.length - 1]!;
    const tag = (tagName: string) => doc.tags?.find((candidate) => candidate.tagName.text === tagName);
    const readByText = oneLine(ts.getTextOfJSDocComment(tag('readBy')?.comment) ?? '');
    if (!readByText) throw new Error(`${ENV_FILE}: ${name} has no @readBy tag`);
    const readBy = readByText === 'all' ? 'all' : readByText.split(/,\s*/).map((reader) => asReader(reader, name));
    const defaultTag = tag('default');
    return {
      name,
      description: oneLine(ts.getTextOfJSDocComment(doc.comment) ?? ''),
      defaultValue: defaultTag ? asWritten(oneLine(ts.getTextOfJSDocComment(defaultTag.comment) ?? '')) : schemaDefault(schemaShape[name]),
      readBy,
    };
  });
}

function schemaShapeLiteral(source: ts.SourceFile): ts.ObjectLiteralExpression {
  let found: ts.ObjectLiteralExpression | undefined;
  source.forEachChild(function visit(node): void {
    if (ts.isVariableDeclaration(node) && node.name.getText(source) === 'envSchema' && node.initializer && ts.isCallExpression(node.initializer)) {
      const [shape] = node.initializer.arguments;
      if (shape && ts.isObjectLiteralExpression(shape)) found = shape;
    }
    node.forEachChild(visit);
  });
  if (!found) throw new Error(`${ENV_FILE}: no envSchema = z.object({...}) found`);
  return found;
}

function asReader(value: string, variable: string): Reader {
  if (!(READERS as readonly string[]).includes(value)) throw new Error(`${ENV_FILE}: ${variable}: @readBy names "${value}", not one of ${READERS.join(', ')}`);
  return value as Reader;
}

/** What the schema gives an unset variable, written back as a user would set it. */
function schemaDefault(schema: { safeParse(value: unknown): { success: boolean; data?: unknown } } | undefined): string | undefined {
  const parsed = schema?.safeParse(undefined);
  if (!parsed?.success || parsed.data === undefined) return undefined;
  const value = parsed.data;
  if (Array.isArray(value)) return value.length > 0 ? `\`${value.join(',')}\`` : undefined;
  if (typeof value === 'object' && value !== null) return `\`${JSON.stringify(value)}\``;
  return `\`${String(value)}\``;
}

/** A @default tag's words; a bare variable name (ICE_REGION) is set in code. */
function asWritten(text: string): string {
  return /^[A-Z][A-Z0-9_]*$/.test(text) ? `\`${text}\`` : text;
}

/**
 * Every YIKE_* variable s.yaml reads, with its default and what it ends up setting; s.eventbridge.yaml's resources
 * (it extends s.yaml) count as s.yaml's. A default that is another var (`vars.defaultRole`) is shown as that var's value.
 */
export function deployVariables(root: string): DeployVariable[] {
  const extension = existsSync(join(root, 's.eventbridge.yaml')) ? readFileSync(join(root, 's.eventbridge.yaml'), 'utf8').split('\n') : [];
  const lines = [...readFileSync(join(root, 's.yaml'), 'utf8').split('\n'), ...extension.slice(extension.indexOf('resources:'))];
  const paths = yamlKeyPaths(lines);
  const variables = new Map<string, DeployVariable>();
  lines.forEach((line, index) => {
    if (line.trimStart().startsWith('#')) return;
    for (const match of line.matchAll(/env\('(YIKE_[A-Z0-9_]+)'(?:,\s*((?:'[^']*')|(?:[a-z]+\('[^']*'\))|(?:env\([^)]*\))|(?:vars\.[A-Za-z]+)))?\)/g)) {
      const name = match[1]!;
      const entry = variables.get(name) ?? { name, defaultValue: undefined, sets: [] };
      const fallback = match[2];
      if (fallback !== undefined && entry.defaultValue === undefined)
        entry.defaultValue = fallback.startsWith("'") ? fallback.slice(1, -1) : varValue(fallback, lines);
      for (const { target, resource } of targetsOf(paths[index]!, paths, lines)) {
        const set = entry.sets.find((candidate) => candidate.target === target) ?? entry.sets[entry.sets.push({ target, resources: [] }) - 1]!;
        if (resource && !set.resources.includes(resource)) set.resources.push(resource);
      }
      variables.set(name, entry);
    }
  });
  return [...variables.values()];
}

/** `vars.name`'s value as s.yaml writes it; anything else as it is. */
function varValue(fallback: string, lines: string[]): string {
  const name = /^vars\.([A-Za-z]+)$/.exec(fallback)?.[1];
  const line = name ? lines.find((candidate) => candidate.startsWith(`  ${name}: `)) : undefined;
  return line ? line.slice(line.indexOf(': ') + 2).trim() : fallback;
}

/** The key path of every line ("vars.environment.ICE_REGION", "resources.http-submit.props.environmentVariables.HTTP_AUTH"). */
function yamlKeyPaths(lines: string[]): string[] {
  const stack: { indent: number; key: string }[] = [];
  return lines.map((line) => {
    const match = /^(\s*)(- )?([A-Za-z0-9_.-]+):/.exec(line);
    const path = () =>
      stack
        .map((entry) => entry.key)
        .join('.')
        .replace(/\.\[\]/g, '[]');
    if (!match || line.trimStart().startsWith('#')) return path();
    const indent = match[1]!.length;
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    // "- key: value" opens a list item whose keys sit two columns further in.
    if (match[2]) stack.push({ indent, key: '[]' });
    stack.push({ indent: indent + (match[2] ? 2 : 0), key: match[3]! });
    return path();
  });
}

/** A vars.* entry stands for every line that uses it; a resource's own line says what it sets there. */
function targetsOf(path: string, paths: string[], lines: string[]): { target: string; resource?: string }[] {
  if (path.startsWith('vars.')) {
    // `${vars.x}`, or vars.x inside an expression: env('YIKE_ROLE_ARN', vars.defaultRole).
    const reference = new RegExp(`\\b${path.replace(/\./g, '\\.')}\\b(?![.A-Za-z0-9_])`);
    const uses = lines.flatMap((line, index) => (reference.test(line) && paths[index] !== path && !line.trimStart().startsWith('#') ? [paths[index]!] : []));
    return uses.length > 0 ? uses.flatMap((use) => targetsOf(use, paths, lines)) : [{ target: path }];
  }
  const resource = /^resources\.([^.]+)\.props\.(.+)$/.exec(path);
  if (!resource) return [{ target: path }];
  const variable = /^environmentVariables\.([A-Z0-9_]+)$/.exec(resource[2]!);
  return [{ target: variable ? variable[1]! : resource[2]!, resource: resource[1] }];
}

/** An env() fallback as a reader would say it. */
function fallbackText(fallback: string | undefined): string {
  if (fallback === undefined) return '— (required)';
  if (fallback === '') return '(empty)';
  const nested = /^env\('([A-Z0-9_]+)',\s*'([^']*)'\)$/.exec(fallback);
  if (nested) return `\`${nested[1]}\`, else \`${nested[2]}\``;
  const config = /^config\('([A-Za-z]+)'\)$/.exec(fallback);
  if (config) return `the \`${config[1]}\` of \`s config\``;
  return `\`${fallback}\``;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function renderConfigurationPage(root: string): string {
  const variables = documentedVariables(root);
  const deploy = deployVariables(root);
  const known = new Set(variables.map((variable) => variable.name));
  const rows = variables.map(
    (variable) =>
      `| <a id="${variable.name.toLowerCase()}"></a>\`${variable.name}\` | ${cell(variable.defaultValue ?? '—')} | ${
        variable.readBy === 'all' ? 'all' : variable.readBy.join(', ')
      } | ${cell(variable.description)} |`,
  );
  const deployRows = deploy.map((variable) => {
    const sets = variable.sets.map(({ target, resources }) => {
      const field = known.has(target) ? `[\`${target}\`](#${target.toLowerCase()})` : `\`${target}\``;
      return resources.length > 0 ? `${field} (${resources.join(', ')})` : field;
    });
    return `| \`${variable.name}\` | ${cell(fallbackText(variable.defaultValue))} | ${cell(sets.join('<br>'))} |`;
  });
  const removedRows = Object.entries(REMOVED_VARIABLES).map(([name, became]) => `| \`${name}\` | ${cell(became)} |`);
  const deployEntries = Object.entries(REMOVED_DEPLOY_VARIABLES);
  const renamedDeploy = deployEntries.flatMap(([name, instead]) => (instead ? [`\`${name}\` (export ${instead} instead)`] : []));
  const fixedDeploy = deployEntries.flatMap(([name, instead]) => (instead ? [] : [`\`${name}\``]));
  return [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs:config` from shared/runtime/env.ts, s.yaml and shared/domain/doctor/removed-variables.ts: edit those, not this page. -->',
    '',
    'Every environment variable the functions and the command-line tools read, and every `YIKE_*` variable `s.yaml` reads at deploy time. [← README](../README.md)',
    '',
    'An invalid value stops the function at its first invocation with `Invalid configuration: <VARIABLE>: <why>`; the log line carries the FC request id.',
    '"all" means every function (`oss-submit`, `http-submit`, `job-watcher`, `budget-renewal`) and every tool (`yike-submit`, `yike-backfill`, `yike-jobs`). `budget-renewal` submits deferred items through the upload path, so it also reads every variable `oss-submit` reads.',
    '',
    '## Environment variables',
    '',
    '| variable | default | read by | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    '## Credentials outside FC',
    '',
    "In FC the functions use their role's STS credentials from `context.credentials`, and nothing else. Outside FC (the CLI tools, the local cloud), and as a fallback inside it when the context carries none, they read `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and `ALIBABA_CLOUD_SECURITY_TOKEN` (see [Deploy](deploy.md)).",
    '',
    '## Deploy variables (`YIKE_*`, read by `s.yaml`)',
    '',
    '`s deploy` renders `s.yaml` with these; each sets the function variables and `s.yaml` fields listed, in the resources named.',
    '',
    '| variable | default | sets |',
    '|---|---|---|',
    ...deployRows,
    '',
    '## Removed variables',
    '',
    `Earlier versions read ${removedRows.length} more variables. Timeouts, retries, paces, limits and prefixes are now constants (\`shared/runtime/tuning.ts\`; tests pass other values through \`createHandler({ tuning })\`, never the environment); the rest are derived from, or merged into, the variables above. A removed variable still set is ignored, and \`yike-doctor\` names it.`,
    '',
    '| removed variable | what it became |',
    '|---|---|',
    ...removedRows,
    '',
    `\`s.yaml\` no longer reads ${renamedDeploy.join(', ')}, nor ${fixedDeploy.join(', ')} (their values are fixed now, as above).`,
    '',
  ].join('\n');
}

export const CONFIGURATION_PAGE = join('docs', 'configuration.md');

if (require.main === module) {
  const root = join(__dirname, '..', '..');
  writeFileSync(join(root, CONFIGURATION_PAGE), renderConfigurationPage(root));
  process.stdout.write(`wrote ${CONFIGURATION_PAGE}\n`);
}
