const { createServer } = require('node:http');
const { handler } = require('./dist/http-submit/index.js');
const heap = () => { gc(); gc(); return Math.round(process.memoryUsage().heapUsed / 104857.6) / 10; };
(async () => {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ RequestId: 'R', JobId: 'abcdef0123456789abcdef0123456789' })); }); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  Object.assign(process.env, { ICE_ENDPOINT: `http://127.0.0.1:${server.address().port}`, ALLOWED_BUCKETS: 'yike-uploads', AUTH_TOKENS: 't', DEFAULT_APP: 'female', LOG_LEVEL: 'error', ICE_READ_TIMEOUT_MS: process.argv[2], ICE_CONNECT_TIMEOUT_MS: process.argv[2] });
  const ev = Buffer.from(JSON.stringify({ version: 'v1', rawPath: '/jobs', body: '{"app":"female","image":{"bucket":"yike-uploads","key":"a.jpg"}}', isBase64Encoded: false, headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' }, queryParameters: {}, requestContext: { requestId: 'r', http: { method: 'POST', path: '/jobs' } } }));
  const ctx = { requestId: 'x', credentials: { accessKeyId: 'STS.a', accessKeySecret: 'b', securityToken: 'c' }, function: { name: 'f', timeout: 60 } };
  const pts = []; const t0 = Date.now();
  for (let r = 0; r < 6; r++) { for (let i = 0; i < 1000; i++) { await handler(ev, ctx); } pts.push(heap()); }
  const wait = Number(process.argv[2]) + 500; await new Promise((r) => setTimeout(r, wait)); pts.push('after wait ' + heap());
  console.log(`timeout ${process.argv[2]}:`, pts.join(', '), `${Date.now() - t0}ms`);
  server.close(); server.closeAllConnections();
})();
