import { newFcRequestId } from '../../../local/fc/request-id';
import { REQUEST_ID_PATTERN } from './harness';

describe('newFcRequestId', () => {
  it('starts with the hex epoch seconds like the documented "1-64f6cd87-…" ids', () => {
    // Act
    const id = newFcRequestId(new Date(1693896071895));

    // Assert
    expect(id).toMatch(REQUEST_ID_PATTERN);
    expect(id.startsWith('1-64f6cd87-')).toBe(true);
  });
});
