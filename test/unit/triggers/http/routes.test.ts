import { routeFor } from '../../../../shared/triggers/http/routes';

describe("http-submit's route table", () => {
  it('picks the route by method and path, aliases included', () => {
    // Act
    const names = [
      routeFor('GET', '/index.html'),
      routeFor('POST', '/jobs/'),
      routeFor('GET', '/jobs/by-object'),
      routeFor('GET', '/jobs/j-1'),
      routeFor('GET', '/openapi.json'),
      routeFor('GET', '/jobs'),
      routeFor('DELETE', '/jobs/j-1'),
      routeFor('GET', '/jobs/j-1/content'),
    ].map((found) => found.route?.name);

    // Assert
    expect(names).toEqual([
      'GET /',
      'POST /jobs',
      'GET /jobs/by-object',
      'GET /jobs/{jobId}',
      'GET /openapi.json',
      'GET /jobs',
      'DELETE /jobs/{jobId}',
      'GET /jobs/{jobId}/content',
    ]);
  });

  it('says which methods a path takes, each once, when the method is not one of them, and none for a path no route takes', () => {
    // Act
    const wrongMethod = routeFor('PUT', '/jobs');
    const twoRoutesOnePath = routeFor('POST', '/jobs/by-object');
    const unknown = routeFor('GET', '/nope');

    // Assert
    expect([wrongMethod.route, wrongMethod.allow]).toEqual([undefined, ['POST', 'GET']]);
    expect([twoRoutesOnePath.route, twoRoutesOnePath.allow]).toEqual([undefined, ['GET', 'DELETE']]);
    expect([unknown.route, unknown.allow, unknown.onPath]).toEqual([undefined, [], []]);
  });
});
