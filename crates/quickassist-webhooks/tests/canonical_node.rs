//! Differential test: `canonicalize` against real Node (`JSON.stringify(JSON.parse(text))`) over
//! a generated corpus of documents built from the tricky parts, their mutations, and inputs
//! both must reject. Node runs once for the whole corpus.
//!
//! Needs `node` on `PATH` (`scripts/test` installs it); without it this test fails, never skips.

mod canonical_corpus;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use canonical_corpus::Corpus;
use quickassist_webhooks::canonical::canonicalize;

/// Reads hex-encoded UTF-8 documents, one a line, and prints `ok <hex of the canonical form>` or
/// `err` for each.
const ORACLE: &str = r#"
const fs = require('fs');
// Each line is `h` + hex, so the empty document is a non-empty line.
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('h'));
const out = [];
for (const line of lines) {
  const text = Buffer.from(line.slice(1), 'hex').toString('utf8');
  try {
    out.push('ok ' + Buffer.from(JSON.stringify(JSON.parse(text)), 'utf8').toString('hex'));
  } catch (e) {
    out.push('err');
  }
}
fs.writeFileSync(process.argv[3], out.join('\n') + '\n');
"#;

/// Node's verdict on each document, in order: `Some(canonical bytes)` or `None` (rejected).
fn node_verdicts(docs: &[String]) -> Vec<Option<Vec<u8>>> {
    static BATCH: AtomicUsize = AtomicUsize::new(0);
    let batch = BATCH.fetch_add(1, Ordering::Relaxed);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("canonical-node-{}-{batch}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the oracle's temp dir");
    let script = dir.join("oracle.js");
    let corpus = dir.join("corpus.hex");
    let results = dir.join("results.txt");
    std::fs::write(&script, ORACLE).expect("write the oracle script");
    let mut file = std::fs::File::create(&corpus).expect("create the corpus file");
    for doc in docs {
        writeln!(file, "h{}", hex::encode(doc)).expect("write the corpus");
    }
    drop(file);

    let status = match Command::new("node")
        .arg(&script)
        .arg(&corpus)
        .arg(&results)
        .stdin(Stdio::null())
        .status()
    {
        Ok(status) => status,
        Err(e) => panic!(
            "cannot run `node` ({e}): the differential canonical test needs Node.js on PATH \
             (scripts/test installs it; or `apt-get install nodejs`)"
        ),
    };
    assert!(status.success(), "node oracle failed: {status}");
    let verdicts = std::fs::read_to_string(&results).expect("node wrote its results");
    std::fs::remove_dir_all(&dir).ok();
    let verdicts: Vec<_> = verdicts
        .lines()
        .map(|line| match line.strip_prefix("ok ") {
            Some(hex) => Some(hex::decode(hex).expect("node printed hex")),
            None => {
                assert_eq!(line, "err");
                None
            }
        })
        .collect();
    assert_eq!(verdicts.len(), docs.len(), "node answered every document");
    verdicts
}

/// Asserts `canonicalize` and Node agree on every document; returns how many Node accepted.
fn assert_agrees_with_node(docs: &[String]) -> usize {
    let verdicts = node_verdicts(docs);
    let mut disagreements: Vec<(&String, String, String)> = Vec::new();
    for (doc, node) in docs.iter().zip(&verdicts) {
        let ours = canonicalize(doc.as_bytes());
        let agree = match (&ours, node) {
            (Ok(ours), Some(node)) => ours == node,
            (Err(_), None) => true,
            _ => false,
        };
        if !agree {
            let node = match node {
                Some(n) => format!("{:?}", String::from_utf8_lossy(n)),
                None => "rejected".to_owned(),
            };
            let ours = match ours {
                Ok(o) => format!("{:?}", String::from_utf8_lossy(&o)),
                Err(e) => format!("rejected: {e}"),
            };
            disagreements.push((doc, node, ours));
        }
    }
    // The shortest disagreements are the easiest to read.
    disagreements.sort_by_key(|(doc, _, _)| doc.len());
    let shown: Vec<String> = disagreements
        .iter()
        .take(5)
        .map(|(doc, node, ours)| {
            let clip = |s: &str| s.chars().take(1500).collect::<String>();
            format!(
                "input {}\n  node: {}\n  ours: {}",
                clip(&format!("{doc:?}")),
                clip(node),
                clip(ours)
            )
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} of {} documents disagree with node; the shortest:\n{}",
        disagreements.len(),
        docs.len(),
        shown.join("\n")
    );
    let accepted = verdicts.iter().filter(|v| v.is_some()).count();
    accepted
}

#[test]
fn random_documents_and_their_mutations_match_node_exactly() {
    let mut corpus = Corpus::new(0x5eed_0001);
    let mut docs = Vec::new();
    for _ in 0..6000 {
        let doc = corpus.document();
        docs.push(corpus.mutate(&doc));
        docs.push(doc);
    }
    let accepted = assert_agrees_with_node(&docs);
    // Every unmutated document is valid; some mutations keep validity, most break it.
    assert!(accepted >= docs.len() / 2, "only {accepted} accepted");
    assert!(
        accepted < docs.len() * 3 / 4,
        "too few mutations rejected: {accepted}"
    );
}

#[test]
fn number_shapes_match_node_exactly() {
    let mut corpus = Corpus::new(0x5eed_0002);
    let mut docs: Vec<String> = (0..20_000).map(|_| corpus.number()).collect();
    // Inside containers too, where the number's end is found by the next token.
    docs.extend((0..2000).map(|_| format!("[{},{}]", corpus.number(), corpus.number())));
    let valid = docs.len();
    let mutated: Vec<String> = docs[..5000].iter().map(|d| corpus.mutate(d)).collect();
    docs.extend(mutated);
    let accepted = assert_agrees_with_node(&docs);
    assert!(
        accepted >= valid && accepted < docs.len(),
        "{accepted} of {}",
        docs.len()
    );
}

#[test]
fn string_shapes_and_keys_match_node_exactly() {
    let mut corpus = Corpus::new(0x5eed_0003);
    let mut docs: Vec<String> = (0..5000).map(|_| corpus.string()).collect();
    docs.extend((0..5000).map(|_| corpus.object(0)));
    let valid = docs.len();
    let mutated: Vec<String> = docs.iter().map(|d| corpus.mutate(d)).collect();
    docs.extend(mutated);
    let accepted = assert_agrees_with_node(&docs);
    assert!(
        accepted >= valid && accepted < docs.len(),
        "{accepted} of {}",
        docs.len()
    );
}

#[test]
fn known_invalid_and_edge_inputs_match_node() {
    let mut docs: Vec<String> = canonical_corpus::EDGE_INPUTS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    // Deep but within the limit: Node accepts and so do we.
    docs.push(format!("{}1{}", "[".repeat(512), "]".repeat(512)));
    docs.push(format!("{}{}", r#"{"a":"#.repeat(512), "}".repeat(512)).replace("{\"a\":}", "{}"));
    let accepted = assert_agrees_with_node(&docs);
    assert!(
        accepted > 30 && accepted < docs.len() - 50,
        "{accepted} of {}",
        docs.len()
    );
}
