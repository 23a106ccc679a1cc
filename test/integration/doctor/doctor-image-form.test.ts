import { lineStatuses, startDoctorCloud, type DoctorCloud, type DoctorRow } from './harness';

/**
 * The image form's fault alone: ICE takes only media ids, after the demo upload's discovery found yike-asset. A file
 * of its own, so the findings this process caches (per FC instance) start empty, as in a fresh instance.
 */
describe('npx yike-doctor when ICE stops taking the form the finding holds', () => {
  let world: DoctorCloud;

  beforeAll(async () => {
    world = await startDoctorCloud();
  });
  afterAll(() => world.close());

  it('flips only the image-form line when ICE takes only media ids after the finding said yike-asset, and replaces the finding', async () => {
    // Arrange: the demo upload found yike-asset; the healthy cloud's lines; then ICE takes media ids only.
    const healthy = lineStatuses((await world.doctor(['--json'])).report!.checks);
    const flipped = (checks: readonly DoctorRow[]) => Object.fromEntries(Object.entries(lineStatuses(checks)).filter(([id, status]) => healthy[id] !== status));
    world.cloud.ice.setAccepts('media-id');

    // Act
    const first = await world.doctor(['--json']);
    const second = await world.doctor(['--json']);

    // Assert
    expect(first.code).toBe(1);
    expect(flipped(first.report!.checks)).toEqual({ 'image-mode': 'fail' });
    const [line] = first.report!.checks.filter((check) => check.id === 'image-mode' && check.status === 'fail');
    expect(line!.detail).toMatch(
      /^sys-ao-smith-1: the finding said yike-asset \(.+\), which ICE now refuses; media-id passes and is the finding now \(yike-asset Failed ImageCheckFailed, media-id Success\)/,
    );
    expect(line!.fix).toBe('nothing to do: auto replaced the finding (refused uploads meanwhile tried the other forms too); run the doctor again to see ✔');
    expect(second.code).toBe(0);
    expect(flipped(second.report!.checks)).toEqual({});
  }, 60_000);
});

describe('npx yike-doctor with a fixed IMAGE_URL_MODE that ICE refuses (the old default, public)', () => {
  let world: DoctorCloud;

  beforeAll(async () => {
    world = await startDoctorCloud({ env: { IMAGE_URL_MODE: 'public' } });
  });
  afterAll(() => world.close());

  it('fails the image-form line with ICE’s answer for the form, and says to set auto', async () => {
    // Act
    const { code, report } = await world.doctor(['--json', '--functions', 'yike-oss-submit']);

    // Assert
    expect(code).toBe(1);
    const failed = report!.checks.filter((check) => check.status === 'fail');
    expect(failed.map((check) => check.id)).toEqual(['image-mode']);
    expect(failed[0]!.detail).toBe(
      'sys-ao-smith-1: ICE refused oss://yike-uploads/uploads/female/demo.png in public (public Failed ImageCheckFailed); sys-ao-smith-2: ICE refused oss://yike-uploads/uploads/female/demo.png in public (public Failed ImageCheckFailed)',
    );
    expect(failed[0]!.fix).toBe('set YIKE_IMAGE_URL_MODE=auto (it finds the form ICE takes) or another form, and deploy');
  }, 60_000);
});
