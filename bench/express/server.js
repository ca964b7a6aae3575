// TheQuickAssist's documented webhook receiver (../../../shared/provider-webhooks.txt), verbatim
// in its logic: express.json() parses the body, the signature is checked over
// JSON.stringify(req.body) with createHmac, and the answer is 200. The reference point of the
// HTTP benchmarks; not a recommended receiver (no constant-time compare, no idempotency).
//
//   npm install --prefix bench/express && PORT=3999 QUICKASSIST_WEBHOOK_SECRET=... node bench/express/server.js
'use strict';
const crypto = require('crypto');
const express = require('express');

const WEBHOOK_SECRET = process.env.QUICKASSIST_WEBHOOK_SECRET;
if (!WEBHOOK_SECRET) {
  console.error('QUICKASSIST_WEBHOOK_SECRET is not set');
  process.exit(2);
}
const app = express();
app.use(express.json());
app.post('/webhooks/thequickassist', (req, res) => {
  const signature = req.headers['x-webhook-signature'];
  const payload = JSON.stringify(req.body);
  const expected = crypto.createHmac('sha256', WEBHOOK_SECRET).update(payload).digest('hex');
  if (signature !== expected) {
    return res.status(401).send('Invalid signature');
  }
  res.status(200).send('ok');
});
const port = Number(process.env.PORT || 3999);
app.listen(port, '127.0.0.1', () => console.error(`listening on http://127.0.0.1:${port}/webhooks/thequickassist`));
