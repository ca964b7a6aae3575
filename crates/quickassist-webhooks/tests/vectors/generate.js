#!/usr/bin/env node
// Generates canonical.json: inputs with Node's `JSON.stringify(JSON.parse(input))`, or null where
// JSON.parse rejects the input. Deterministic (fixed seed): rerunning it must not change the file.
//
//   node crates/quickassist-webhooks/tests/vectors/generate.js
//
// The Rust test `tests/canonical_vectors.rs` checks every vector without needing node.
'use strict';
const fs = require('fs');
const path = require('path');

// mulberry32: a tiny seeded PRNG, so the vectors are reproducible.
let seed = 0x5eed2024;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const below = (n) => Math.floor(random() * n);
const pick = (items) => items[below(items.length)];
const digits = (n) => Array.from({ length: n }, () => String(below(10))).join('');
const nonzero = () => String(1 + below(9));
const hex4 = (unit) => {
  const h = unit.toString(16).padStart(4, '0');
  return random() < 0.3 ? h.toUpperCase() : h;
};

const HAND = [
  // Whitespace, top-level values, literals.
  '', ' ', 'null', 'true', 'false', ' \t\n\r1 \t\n\r', '"x"', '0', '[]', '{}', ' [ ] ', '{ }',
  'tru', 'nul', 'True', 'NULL', 'true false', '[', ']', '{', '}', '[}', '{]', '\ufeff1',
  '1\ufeff', '\u00a01', '\u20281', '\u000b1', '\u000c1', '1\u0000',
  // Syntax JSON.parse rejects.
  '[1,]', '{"a":1,}', '[,1]', '{,}', '//c\n1', '/*c*/1', "'a'", "{'a':1}", '{a:1}',
  '[1 2]', '{"a" 1}', '{"a":1 "b":2}', '["a""b"]', '0x10', '1_000', 'NaN', 'Infinity', '-Infinity',
  // Numbers.
  '01', '-01', '00', '+1', '.5', '1.', '-.5', '1.e3', '1e', '1e+', '1E-', '-', '--1',
  '-0', '-0.0', '0e0', '-0E-0', '1.0', '1.50', '100', '1E2', '1e+0', '1e21', '1e20',
  '999999999999999999999', '1e-7', '0.000001', '0.0000001', '1.5e-7', '123e-20', '1e400',
  '-1e400', '1e-400', '-1e-400', '1e99999999999999999999999', '1e-99999999999999999999999',
  '0e99999999999999999999999', '12345678901234567890', '123456789012345678901234567890',
  '9007199254740993', '9007199254740992', '9007199254740991', '4294967295', '5e-324',
  '2.4703282292062327e-324', '2.4703282292062328e-324', '1.7976931348623157e308',
  '1.7976931348623158e308', '1.7976931348623159e308', '1e309', '0.1', '0.30000000000000004',
  '1.00000000000000011102230246251565404236316680908203125',
  '1.00000000000000011102230246251565404236316680908203125' + '0'.repeat(800),
  '1.00000000000000011102230246251565404236316680908203125' + '0'.repeat(800) + '1',
  '0.' + '0'.repeat(400) + '1', '1' + '0'.repeat(400), '1' + '0'.repeat(308),
  '[1e21,1e-7,1e400,-1e400,-0,0.1,100,1E2]',
  // Strings.
  '"\\x"', "\"\\'\"", '"\u0001"', '"\u001f"', '"\u007f"', '"\\u12"', '"\\uGGGG"', '"abc',
  '"\\ud800\\u"', '"\\/"', '"\\u00e9"', '"\\u0041\\u0000\\u001F\\b\\f\\n\\r\\t"', '"\\u0022\\u005c"',
  '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"', '"\\ude00\\ud83d"', '"\\ud83d"', '"\\ud83dx"',
  '"\\ud83d\\u0041"', '"\\udfff\\udbff\\udfff"', '"\\u2028\\u2029"', '"\u2028\u2029"',
  '"caf\u00e9 \u65e5\u672c \ud83d\ude00 \u{10ffff}"', '"\\"\\\\"',
  // Objects: duplicates, array-index keys, __proto__.
  '{"a":1,"a":2}', '{"b":1,"a":2,"b":3}', '{"1":1,"0":0}', '{"a":1,"0":0}',
  '{"4294967295":1,"4294967294":2,"01":3,"1":4,"-1":5,"4294967296":6,"00":7,"0":8}',
  '{"\\u0030":1,"1.0":2,"1e3":3,"\\u0031\\u0030":4,"\uff11":5," 1":6}',
  '{"a":{"1":1,"0":0},"a":{"z":0,"y":1}}', '{"__proto__":1}',
  '{"__proto__":{"a":1},"b":2,"__proto__":[]}', '{"constructor":1,"toString":2,"length":3}',
  '{"2":[],"10":{},"9":null,"1":true}', '{"a\\u0000":1,"a":2,"a\\u0000":3}',
  '{"\\ud800":1,"\\udc00":2,"\\ud800":3}',
  '[' + '['.repeat(100) + ']'.repeat(100) + ']',
];

function number() {
  let s = random() < 0.3 ? '-' : '';
  switch (below(6)) {
    case 0: return s + below(1000);
    case 1: return s + nonzero() + digits(14 + below(12));
    case 2: return s + (random() < 0.4 ? '0' : nonzero() + digits(below(15))) + '.' + digits(1 + below(30));
    case 3: return s + nonzero() + (random() < 0.5 ? '.' + digits(1 + below(15)) : '') +
      pick(['e', 'E', 'e+', 'e-', 'E-']) + pick([below(25), 290 + below(40), below(400)]);
    case 4: return s + String(Math.abs((random() - 0.5) * Math.pow(10, below(600) - 300)));
    default: return s + nonzero() + '.' + digits(20 + below(60)) + (random() < 0.5 ? 'e-' + below(330) : '');
  }
}

const LITERAL = ['\u00e9', '\u65e5\u672c', '\ud83d\ude00', '\u2028', '\u007f', '\u0080', '\ufeff', '\u{10ffff}', '/', "'"];
function string() {
  let s = '"';
  for (let n = below(6); n > 0; n--) {
    switch (below(9)) {
      case 0: s += 'abcdefghij'.slice(0, 1 + below(10)); break;
      case 1: s += pick(['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t']); break;
      case 2: s += '\\u' + hex4(below(0x20)); break;
      case 3: s += '\\u' + hex4(below(0x10000)); break;
      case 4: s += '\\u' + hex4(0xd800 + below(0x800)); break;
      case 5: s += '\\u' + hex4(0xd800 + below(0x400)) + '\\u' + hex4(0xdc00 + below(0x400)); break;
      case 6: s += '\\u' + hex4(0xdc00 + below(0x400)) + '\\u' + hex4(0xd800 + below(0x400)); break;
      case 7: s += '\\u' + hex4(0xd800 + below(0x400)) + pick(LITERAL); break;
      default: s += pick(LITERAL);
    }
  }
  return s + '"';
}

const KEYS = ['"0"', '"1"', '"2"', '"10"', '"42"', '"4294967294"', '"4294967295"', '"01"', '"-1"',
  '"__proto__"', '"a"', '"b"', '""', '"\\u0030"', '"webhookId"', '"event"', '"data"'];
const ws = () => pick(['', '', '', ' ', '\n  ', '\t', '\r\n']);

function value(depth) {
  const r = depth >= 4 ? 0.3 + random() * 0.7 : random();
  if (r < 0.2) {
    const members = [];
    for (let n = below(7); n > 0; n--) {
      members.push(ws() + (random() < 0.8 ? pick(KEYS) : string()) + ws() + ':' + ws() + value(depth + 1));
    }
    return '{' + members.join(',') + ws() + '}';
  }
  if (r < 0.3) {
    const items = [];
    for (let n = below(6); n > 0; n--) items.push(ws() + value(depth + 1) + ws());
    return '[' + items.join(',') + ']';
  }
  if (r < 0.55) return string();
  if (r < 0.9) return number();
  return pick(['true', 'false', 'null']);
}

const TOKENS = [',', '}', ']', '{', '[', '"', ':', '0', '-', '.', 'e', '+', ' ', '\\', "'", '\u0001', '\ufeff', 'x'];
function mutate(doc) {
  const chars = Array.from(doc);
  const at = below(chars.length + 1);
  switch (below(4)) {
    case 0: chars.splice(at, 1); break;
    case 1: chars.splice(at, 0, pick(TOKENS)); break;
    case 2: chars.length = at; break;
    default: chars.splice(at, 1, pick(TOKENS));
  }
  return chars.join('');
}

const inputs = [...HAND];
for (let k = 0; k < 300; k++) {
  const doc = ws() + value(0) + ws();
  inputs.push(doc);
  if (k % 2 === 0) inputs.push(mutate(doc));
}

const lines = inputs.map((input) => {
  let output = null;
  try {
    output = JSON.stringify(JSON.parse(input));
  } catch (e) {
    output = null;
  }
  return JSON.stringify({ input, output });
});
const file = path.join(__dirname, 'canonical.json');
fs.writeFileSync(file, '[\n' + lines.join(',\n') + '\n]\n');
console.log(`wrote ${inputs.length} vectors to ${file}`);
