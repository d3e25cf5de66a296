// The floor for the REST API bench: a bare node:http server answering a /status-sized JSON body, in its own
// process (as the sim-manager's API is). Prints its URL.
import http from 'node:http';

const body = JSON.stringify({
  runId: 'run-0123456789',
  state: 'running',
  requested: null,
  currentIteration: 42,
  segments: { total: 200, pending: 20, running: 2, complete: 178, failed: 0 },
  workers: [{ node: 'n', alive: true, slots: 2 }],
});
const srv = http.createServer((_q, s) => {
  s.setHeader('content-type', 'application/json');
  s.end(body);
});
srv.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${srv.address().port}\n`));
