// A second local endpoint for bench/run.sh, on Node.js's event loop: the
// Python one serves a connection per thread under one lock, which favours a
// client that asks one request at a time. Same paths and body as server.py;
// writes its port to the file named by its first argument.
const http = require('http');
const fs = require('fs');
const BODY = '{"status": "ok", "uptime": 12345.5}';
const server = http.createServer((req, res) => {
  const send = () => { res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': BODY.length}); res.end(BODY); };
  if (req.url.startsWith('/slow')) setTimeout(send, 200); else send();
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(server.address().port)));
