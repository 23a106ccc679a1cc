import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');

interface SizedProps {
  functionName: string;
  memorySize?: number;
  cpu?: number;
}

describe('instance sizes in s.yaml (s preview, offline)', () => {
  let resources: Record<string, { props: SizedProps }>;

  beforeAll(async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules', '@serverless-devs', 's', 'bin', 's'), 'preview', '-o', 'json'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, YIKE_ACCOUNT_ID: '123456789012', YIKE_AUTH_TOKENS: 'deploy-test-token' },
      timeout: 60_000,
    });
    resources = JSON.parse(stdout.slice(stdout.indexOf('{'))).resources;
  }, 70_000);

  it('gives every function a memorySize fc3 accepts and a cpu within FC 3.0 vCPU:memory limits', () => {
    // Arrange
    const sizes = Object.values(resources).map(({ props }) => ({ name: props.functionName, memorySize: props.memorySize, cpu: props.cpu }));

    // Act
    const problems = sizes.flatMap(({ name, memorySize, cpu }) => {
      const found: string[] = [];
      if (typeof memorySize !== 'number' || !Number.isInteger(memorySize) || memorySize % 64 !== 0 || memorySize < 128)
        found.push(`${name}: memorySize ${memorySize}`);
      // cpu is set explicitly: fc3's default (0.35 vCPU) is outside the 1:1..1:4 ratio for small memory sizes.
      if (typeof cpu !== 'number' || cpu < 0.05 || Math.abs(cpu / 0.05 - Math.round(cpu / 0.05)) > 1e-9) found.push(`${name}: cpu ${cpu}`);
      else if (typeof memorySize === 'number' && (memorySize / 1024 < cpu || memorySize / 1024 > cpu * 4))
        found.push(`${name}: ${memorySize} MB for ${cpu} vCPU`);
      return found;
    });

    // Assert
    expect(sizes.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
