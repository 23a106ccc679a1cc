import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/local-cloud';

const run = promisify(execFile);
const START = join(__dirname, '..', '..', 'dist', 'local', 'start.js');

describe('npm start -- --once (the main job on the local cloud)', () => {
  it('uploads the demo image, prints its JobId and the commands to try, and exits 0', async () => {
    // Arrange: free ports and a fresh data folder, as on a new machine
    const data = tempDir('npm-start-');
    const env = { PATH: process.env.PATH, LOCAL_FC_PORT: '0', LOCAL_ICE_PORT: '0', LOCAL_OSS_PORT: '0', LOCAL_FC_API_PORT: '0', LOCAL_DATA_DIR: data.path };

    // Act
    const { stdout } = await run(process.execPath, [START, '--once', '--quiet'], { env, timeout: 30_000 });
    data.remove();

    // Assert
    expect(stdout).toMatch(/^Local cloud is up/);
    expect(stdout).toMatch(/Job submitted: JobId [0-9a-f]{32} \(app sys-ao-smith-1\); record yike-uploads\/\.yike-jobs\/objects\/yike-uploads\/uploads\/female\/demo-/);
    expect(stdout).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/jobs -H 'Content-Type: application\/json' -d '\{"app":"female","image":\{"bucket":"yike-uploads","key":"uploads\/female\/demo-[^"]+\.png"\}\}'/);
    expect(stdout).toContain('npx yike-submit --image');
    expect(stdout).toContain('npx yike-backfill --bucket yike-uploads --prefix uploads/');
  });
});
