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
    ].map((found) => found.route?.name);

    // Assert
    expect(names).toEqual(['GET /', 'POST /jobs', 'GET /jobs/by-object', 'GET /jobs/{jobId}', 'GET /openapi.json']);
  });

  it('says which methods a path takes, each once, when the method is not one of them, and none for a path no route takes', () => {
    // Act
    const wrongMethod = routeFor('DELETE', '/jobs');
    const twoRoutesOnePath = routeFor('POST', '/jobs/by-object');
    const unknown = routeFor('GET', '/nope');

    // Assert
    expect([wrongMethod.route, wrongMethod.allow]).toEqual([undefined, ['POST']]);
    expect([twoRoutesOnePath.route, twoRoutesOnePath.allow]).toEqual([undefined, ['GET']]);
    expect([unknown.route, unknown.allow, unknown.onPath]).toEqual([undefined, [], []]);
  });
});
