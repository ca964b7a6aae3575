//! A deterministic generator of JSON texts built from the parts that make canonicalisation hard:
//! numbers of every shape, duplicate and array-index keys, escapes, surrogates, non-ASCII,
//! nesting, whitespace, and mutations that break (or subtly keep) validity.

#![allow(dead_code)] // each test binary uses a different part

/// Inputs with a known verdict that a generator rarely hits exactly.
pub(crate) const EDGE_INPUTS: &[&str] = &[
    "",
    " ",
    "\t\n\r ",
    "[1,]",
    "{\"a\":1,}",
    "[,1]",
    "{,}",
    "//c\n1",
    "/*c*/1",
    "1 //c",
    "'a'",
    "{'a':1}",
    "01",
    "-01",
    "00",
    "+1",
    ".5",
    "1.",
    "-.5",
    "1.e3",
    "NaN",
    "Infinity",
    "-Infinity",
    "\u{feff}1",
    "1\u{feff}",
    "[1 2]",
    "{\"a\" 1}",
    "{a:1}",
    "{\"a\":1 \"b\":2}",
    "\"\\x\"",
    "\"\\'\"",
    "\"\u{1}\"",
    "\"\u{1f}\"",
    "\"\u{7f}\"",
    "tru",
    "nul",
    "fals",
    "True",
    "NULL",
    "true false",
    "[",
    "]",
    "{",
    "}",
    "[}",
    "{]",
    "\"\\ud800\\u\"",
    "\"\\u12\"",
    "\"\\uGGGG\"",
    "1e",
    "1e+",
    "1E-",
    "-",
    "--1",
    "0x10",
    "1_000",
    "\"abc",
    "[\"a\"\"b\"]",
    "\u{a0}1",
    "\u{2028}1",
    "\u{b}1",
    "\u{c}1",
    "1\u{0}",
    "\"a\"\n",
    "\n\"a\"",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "\"\"",
    "[]",
    "{}",
    "[[]]",
    "{\"\":{}}",
    " [ ] ",
    "{\"__proto__\":1}",
    "{\"__proto__\":{\"a\":1},\"b\":2}",
    "{\"a\":1,\"a\":2}",
    "{\"b\":1,\"a\":2,\"b\":3}",
    "{\"1\":1,\"0\":0}",
    "{\"a\":1,\"0\":0}",
    "{\"4294967295\":1,\"4294967294\":2,\"01\":3,\"1\":4,\"-1\":5}",
    "{\"a\":{\"1\":1,\"0\":0},\"a\":{\"z\":0,\"y\":1}}",
    "\"\\ud83d\\ude00\"",
    "\"\\ude00\\ud83d\"",
    "\"\\uD83D\\uDE00\"",
    "\"\\ud83d\"",
    "\"\\ud83dx\"",
    "\"\\/\"",
    "\"\\u2028\\u2029\"",
    "[1e21,1e-7,1e400,-1e400,-0,0.1,100,1E2,123456789012345678901234567890]",
    "1e99999999999999999999999",
    "1e-99999999999999999999999",
    "0e99999999999999999999999",
    "-0e-0",
    "[0.0000001, 0.000001, 1e-6, 1e-5]",
    "2.4703282292062327e-324",
    "2.4703282292062328e-324",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
];

/// xorshift64*: small, deterministic, good enough to spread a corpus.
#[derive(Debug, Clone)]
pub(crate) struct Corpus {
    state: u64,
}

const KEYS: &[&str] = &[
    "\"0\"",
    "\"1\"",
    "\"2\"",
    "\"9\"",
    "\"10\"",
    "\"42\"",
    "\"4294967294\"",
    "\"4294967295\"",
    "\"4294967296\"",
    "\"01\"",
    "\"-1\"",
    "\"00\"",
    "\"1.0\"",
    "\"1e3\"",
    "\"__proto__\"",
    "\"a\"",
    "\"b\"",
    "\"c\"",
    "\"\"",
    "\"\\u0030\"",
    "\"\\u0031\\u0030\"",
    "\"\\u0061\"",
    "\"１\"",
    "\"constructor\"",
    "\"length\"",
    "\" 1\"",
    "\"a\\u0000\"",
    "\"\\ud800\"",
    "\"é\"",
    "\"e\\u0301\"",
    "\"\\u00e9\"",
    "\"9007199254740993\"",
    "\"18446744073709551616\"",
    "\"webhookId\"",
    "\"event\"",
    "\"data\"",
];

const SPECIAL_NUMBERS: &[&str] = &[
    "1e21",
    "1e20",
    "999999999999999999999",
    "1e-7",
    "0.000001",
    "0.0000001",
    "123e-20",
    "5e-324",
    "2.4703282292062327e-324",
    "2.4703282292062328e-324",
    "1.7976931348623157e308",
    "1.7976931348623158e308",
    "1.7976931348623159e308",
    "1e309",
    "9007199254740993",
    "9007199254740992",
    "9007199254740991",
    "4294967295",
    "1e99999999999999999999",
    "1e-99999999999999",
    "0.1",
    "0.2",
    "0.30000000000000004",
    "100",
    "1E+2",
    "1e+0",
    "123456789012345678901234567890",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.000000000000000111022302462515654042363166809082031250000000000000001",
    "0.1e1",
    "10e-1",
    "-0",
    "-0.0",
    "0e0",
    "-0E-0",
    "0.0e-999",
    "1234567890123456",
    "123456789012345",
    "999999999999999",
    "9999999999999999",
    "4.35",
    "0.000001234",
    "1.5e-7",
    "2e-7",
    "1e-6",
    "1.2e+21",
    "1.2e21",
    "12e20",
];

const LITERAL_CHARS: &[&str] = &[
    "é",
    "日本",
    "😀",
    "\u{2028}",
    "\u{2029}",
    "\u{7f}",
    "\u{80}",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "ß",
    " ",
    "'",
    "/",
    "<>&",
    "\u{a0}",
];

const MUTATION_TOKENS: &[&str] = &[
    ",", "}", "]", "{", "[", "\"", ":", "0", "1", "-", ".", "e", "E", "+", " ", "\\", "/", "'",
    "\u{1}", "\u{feff}", "x", "n", "\\u", "\\ud800", "01", "\n", "\t",
];

impl Corpus {
    /// A generator seeded with `seed` (zero is replaced by a fixed non-zero value).
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: if seed == 0 {
                0x9e37_79b9_7f4a_7c15
            } else {
                seed
            },
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn digits(&mut self, n: usize, out: &mut String) {
        for _ in 0..n {
            out.push(char::from(b'0' + self.below(10) as u8));
        }
    }

    fn nonzero_digit(&mut self) -> char {
        char::from(b'1' + self.below(9) as u8)
    }

    fn ws(&mut self) -> &'static str {
        match self.below(10) {
            0 => " ",
            1 => "\n  ",
            2 => "\t",
            3 => "\r\n",
            _ => "",
        }
    }

    /// A whole document: any value, possibly wrapped in whitespace.
    pub(crate) fn document(&mut self) -> String {
        let value = self.value(0);
        format!("{}{}{}", self.ws(), value, self.ws())
    }

    /// Any JSON value, nesting at most a few levels below `depth`.
    pub(crate) fn value(&mut self, depth: usize) -> String {
        let choice = if depth >= 5 {
            30 + self.below(70)
        } else {
            self.below(100)
        };
        match choice {
            0..=19 => self.object(depth + 1),
            20..=29 => self.array(depth + 1),
            30..=54 => self.string(),
            55..=89 => self.number(),
            90..=93 => "true".into(),
            94..=96 => "false".into(),
            _ => "null".into(),
        }
    }

    /// An object whose keys often repeat and often are array indices.
    pub(crate) fn object(&mut self, depth: usize) -> String {
        let members = if self.chance(10) {
            17 + self.below(30)
        } else {
            self.below(8)
        };
        let mut out = String::from("{");
        out.push_str(self.ws());
        for k in 0..members {
            if k > 0 {
                out.push_str(self.ws());
                out.push(',');
                out.push_str(self.ws());
            }
            let key = if self.chance(80) {
                self.pick(KEYS).to_owned()
            } else {
                self.string()
            };
            out.push_str(&key);
            out.push_str(self.ws());
            out.push(':');
            out.push_str(self.ws());
            let value = self.value(depth);
            out.push_str(&value);
        }
        out.push_str(self.ws());
        out.push('}');
        out
    }

    /// An array of any values.
    pub(crate) fn array(&mut self, depth: usize) -> String {
        let items = self.below(7);
        let mut out = String::from("[");
        for k in 0..items {
            if k > 0 {
                out.push(',');
            }
            out.push_str(self.ws());
            let value = self.value(depth);
            out.push_str(&value);
            out.push_str(self.ws());
        }
        out.push(']');
        out
    }

    /// A number literal of one of many shapes (always valid JSON number grammar).
    pub(crate) fn number(&mut self) -> String {
        let mut out = String::new();
        if self.chance(30) {
            out.push('-');
        }
        match self.below(10) {
            0 => out.push_str(&self.below(1000).to_string()),
            1 => {
                out.push(self.nonzero_digit());
                let n = 14 + self.below(16);
                self.digits(n, &mut out);
            }
            2 | 3 => {
                if self.chance(40) {
                    out.push('0');
                } else {
                    out.push(self.nonzero_digit());
                    let n = self.below(20);
                    self.digits(n, &mut out);
                }
                out.push('.');
                let n = 1 + self.below(40);
                self.digits(n, &mut out);
            }
            4 | 5 => {
                out.push(self.nonzero_digit());
                if self.chance(50) {
                    out.push('.');
                    let n = 1 + self.below(20);
                    self.digits(n, &mut out);
                }
                out.push_str(self.pick(&["e", "E", "e+", "e-", "E+", "E-"]));
                let exponent = match self.below(4) {
                    0 => self.below(25),
                    1 => 290 + self.below(40),
                    2 => 300 + self.below(30),
                    _ => self.below(400),
                };
                if self.chance(10) {
                    out.push('0');
                }
                out.push_str(&exponent.to_string());
            }
            6 => {
                // A random finite double, in Rust's shortest round-trip text.
                let value = loop {
                    let v = f64::from_bits(self.next());
                    if v.is_finite() {
                        break v.abs();
                    }
                };
                if self.chance(50) {
                    out.push_str(&format!("{value:e}"));
                } else {
                    out.push_str(&format!("{value:?}"));
                }
            }
            7 => {
                // A long mantissa: rounding must look at every digit.
                out.push(self.nonzero_digit());
                let n = if self.chance(20) {
                    700 + self.below(200)
                } else {
                    17 + self.below(60)
                };
                let point = self.below(n + 1);
                for k in 0..n {
                    if k == point && k > 0 {
                        out.push('.');
                    }
                    let d = if self.chance(70) {
                        '0'
                    } else {
                        char::from(b'0' + self.below(10) as u8)
                    };
                    out.push(d);
                }
                if self.chance(40) {
                    out.push_str(&format!("e-{}", self.below(330)));
                }
            }
            _ => out.push_str(self.pick(SPECIAL_NUMBERS)),
        }
        // `--0` and friends are not generated: strip a doubled sign from the special list.
        out.replace("--", "-")
    }

    fn hex4(&mut self, unit: u32) -> String {
        let hex = format!("{unit:04x}");
        if self.chance(30) {
            hex.to_uppercase()
        } else {
            hex
        }
    }

    /// A string literal mixing plain text, every escape, surrogates and non-ASCII.
    pub(crate) fn string(&mut self) -> String {
        let mut out = String::from("\"");
        for _ in 0..self.below(7) {
            match self.below(12) {
                0 | 1 => {
                    for _ in 0..1 + self.below(12) {
                        out.push(char::from(b'a' + self.below(26) as u8));
                    }
                }
                2 => out.push_str(
                    self.pick(&["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]),
                ),
                3 => {
                    let unit = self.below(0x20) as u32;
                    out.push_str(&format!("\\u{}", self.hex4(unit)));
                }
                4 => {
                    let unit = self.below(0x10000) as u32;
                    out.push_str(&format!("\\u{}", self.hex4(unit)));
                }
                5 => {
                    let unit = 0xD800 + self.below(0x800) as u32;
                    out.push_str(&format!("\\u{}", self.hex4(unit)));
                }
                6 => {
                    let high = 0xD800 + self.below(0x400) as u32;
                    let low = 0xDC00 + self.below(0x400) as u32;
                    out.push_str(&format!("\\u{}\\u{}", self.hex4(high), self.hex4(low)));
                }
                7 => {
                    let high = 0xD800 + self.below(0x400) as u32;
                    let low = 0xDC00 + self.below(0x400) as u32;
                    out.push_str(&format!("\\u{}\\u{}", self.hex4(low), self.hex4(high)));
                }
                8 => {
                    let high = 0xD800 + self.below(0x400) as u32;
                    let other = self.below(0x10000) as u32;
                    out.push_str(&format!("\\u{}\\u{}", self.hex4(high), self.hex4(other)));
                }
                9 => {
                    let high = 0xD800 + self.below(0x400) as u32;
                    out.push_str(&format!("\\u{}", self.hex4(high)));
                    out.push_str(self.pick(LITERAL_CHARS));
                }
                10 => out.push_str(&"x".repeat(self.below(40))),
                _ => out.push_str(self.pick(LITERAL_CHARS)),
            }
        }
        out.push('"');
        out
    }

    /// `doc` with one random edit: usually invalid afterwards, sometimes still valid.
    pub(crate) fn mutate(&mut self, doc: &str) -> String {
        let mut bounds: Vec<usize> = doc.char_indices().map(|(i, _)| i).collect();
        bounds.push(doc.len());
        let at = bounds[self.below(bounds.len())];
        let next = bounds
            .iter()
            .copied()
            .find(|&b| b > at)
            .unwrap_or(doc.len());
        match self.below(4) {
            0 => format!("{}{}", &doc[..at], &doc[next..]),
            1 => format!("{}{}{}", &doc[..at], self.pick(MUTATION_TOKENS), &doc[at..]),
            2 => doc[..at].to_owned(),
            _ => format!(
                "{}{}{}",
                &doc[..at],
                self.pick(MUTATION_TOKENS),
                &doc[next..]
            ),
        }
    }
}
