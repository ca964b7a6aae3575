#!/usr/bin/env node
// Generates signatures.json: bodies as the provider (or a proxy) may deliver them, each with
// the signature the provider's documented receiver computes,
//   hex(HMAC-SHA256(secret, JSON.stringify(JSON.parse(body)))),
// and the signature of the raw bytes. Deterministic: rerunning it must not change the file.
//
//   node crates/quickassist-webhooks/tests/vectors/generate_signatures.js
//
// The Rust test `tests/signature_vectors.rs` checks every vector without needing node.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const hmac = (secret, text) => crypto.createHmac('sha256', secret).update(text).digest('hex');
const sample = {
  event: 'message.delivered',
  timestamp: '2024-01-15T10:30:00Z',
  data: {
    messageId: 'msg_123456789', recipient: '+1234567890', template: 'welcome_message',
    deliveredAt: '2024-01-15T10:30:00Z', deviceType: 'android',
  },
  webhookId: 'whk_abc123',
};
const bodies = [
  JSON.stringify(sample),
  JSON.stringify(sample, null, 2),
  JSON.stringify(sample, null, '\t') + '\n',
  '{"event":"message.read","timestamp":"2024-01-15T10:30:00Z","data":{"messageId":"m","n":1.0,"big":12345678901234567890,"tiny":1e-7},"webhookId":"w"}',
  '{"event":"template.status_update","timestamp":"2024-01-15T10:30:00Z","data":{"template":"t\u00e9\ud83d\ude00","status":"approved","2":"b","1":"a"},"webhookId":"w","webhookId":"w2"}',
  '{"event":"future.event","timestamp":"2024-01-15T10:30:00.123+02:00","data":{"s":"\\u00e9\\/\\ud800"},"webhookId":"w"}',
];
const secrets = ['whsec_test', 'a', 'x'.repeat(100), 'sécret🔑'];
const vectors = [];
for (const secret of secrets) {
  for (const body of bodies) {
    const canonical = JSON.stringify(JSON.parse(body));
    vectors.push({ secret, body, raw: hmac(secret, body), canonical: hmac(secret, canonical) });
  }
}
fs.writeFileSync(path.join(__dirname, 'signatures.json'), JSON.stringify(vectors, null, 1) + '\n');
