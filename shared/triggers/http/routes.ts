/**
 * http-submit's routes, each by its name, `<METHOD> <path>` (the path as the OpenAPI document writes it): the method a
 * request must use is the name's first word, `pattern` is the path the router takes (aliases included), and `open`
 * routes need no bearer token (they hold no data). Each route has its operation in openapi/operations.ts, which the
 * compiler enforces: a route without one does not build.
 */
export const ROUTES = [
  { name: 'GET /', pattern: /^\/(?:index\.html)?$/, open: true },
  { name: 'GET /healthz', pattern: /^\/healthz$/, open: true },
  { name: 'GET /openapi.json', pattern: /^\/openapi\.json$/, open: true },
  { name: 'GET /apps', pattern: /^\/apps$/ },
  { name: 'GET /usage', pattern: /^\/usage$/ },
  { name: 'POST /uploads', pattern: /^\/uploads\/?$/ },
  { name: 'POST /jobs', pattern: /^\/jobs\/?$/ },
  { name: 'GET /jobs', pattern: /^\/jobs\/?$/ },
  { name: 'GET /jobs/by-object', pattern: /^\/jobs\/by-object$/ },
  { name: 'GET /jobs/{jobId}', pattern: /^\/jobs\/([^/]+)$/ },
  { name: 'DELETE /jobs/{jobId}', pattern: /^\/jobs\/([^/]+)$/ },
  { name: 'GET /jobs/{jobId}/content', pattern: /^\/jobs\/([^/]+)\/content$/ },
  { name: 'GET /doctor', pattern: /^\/doctor$/ },
  { name: 'POST /tickets', pattern: /^\/tickets\/?$/ },
  { name: 'POST /jobs/{jobId}/share', pattern: /^\/jobs\/([^/]+)\/share$/ },
  { name: 'GET /v/{token}', pattern: /^\/v\/([^/]+)$/, open: true },
] as const;

export type Route = (typeof ROUTES)[number];
export type RouteName = Route['name'];

/** The routes an upload ticket may call (tickets/ticket-routes.ts): any other is 403 TICKET_SCOPE for it. */
export const TICKET_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>([
  'POST /uploads',
  'GET /jobs/{jobId}',
  'GET /jobs/{jobId}/content',
  'GET /jobs/by-object',
  'DELETE /jobs/{jobId}',
  'POST /jobs/{jobId}/share',
]);

const methodOf = (route: Route): string => route.name.split(' ')[0]!;

/** Whether the route answers without a bearer token. */
export const isOpen = (route: Route): route is Extract<Route, { open: true }> => 'open' in route && route.open;

/**
 * The route a request names (the first whose path and method match), and the methods the routes on its path take:
 * none is a 404, some without this method a 405 with them in Allow. Two routes may share a path (GET and DELETE).
 */
export function routeFor(method: string, path: string): { route?: Route; onPath: Route[]; allow: string[] } {
  const onPath = ROUTES.filter((route) => route.pattern.test(path));
  return { route: onPath.find((route) => methodOf(route) === method), onPath, allow: [...new Set(onPath.map(methodOf))] };
}
