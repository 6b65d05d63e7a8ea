// The seed guide's stack at its fastest: Node's http + crypto, the same work as the others.
// Usage: node node-peer.js PORT SECRET
const http = require('http');
const crypto = require('crypto');
const port = Number(process.argv[2] || 8082);
const secret = process.argv[3] || 'benchmark-secret';

http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/message/added') { res.statusCode = 404; return res.end(); }
  if (req.headers['webhooktoken'] !== 'abcdefg') { res.statusCode = 401; return res.end(); }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const expected = Buffer.from('sha1=' + crypto.createHmac('sha1', secret).update(body).digest('hex'));
    const given = Buffer.from(req.headers['x-hub-signature'] || '');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      res.statusCode = 401; return res.end();
    }
    const event = JSON.parse(body);
    res.statusCode = typeof event.orgId === 'number' ? 200 : 400;
    res.end('OK\n');
  });
}).listen(port, '127.0.0.1');
