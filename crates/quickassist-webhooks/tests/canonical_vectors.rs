//! `canonicalize` against vectors Node generated (`tests/vectors/generate.js`); no node needed.

use quickassist_webhooks::canonical::canonicalize;
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    input: String,
    /// Node's `JSON.stringify(JSON.parse(input))`, or `None` where `JSON.parse` throws.
    output: Option<String>,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str(include_str!("vectors/canonical.json")).expect("vectors parse")
}

#[test]
fn every_node_vector_is_reproduced_byte_for_byte() {
    let vectors = vectors();
    assert!(vectors.len() > 500, "{} vectors", vectors.len());
    let mut failures = Vec::new();
    for v in &vectors {
        let ours = canonicalize(v.input.as_bytes());
        let agree = match (&ours, &v.output) {
            (Ok(ours), Some(node)) => ours == node.as_bytes(),
            (Err(_), None) => true,
            _ => false,
        };
        if !agree {
            failures.push(format!(
                "input {:?}: node {:?}, ours {:?}",
                v.input,
                v.output,
                ours.map(|o| String::from_utf8_lossy(&o).into_owned())
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn vectors_cover_accepted_and_rejected_inputs() {
    let vectors = vectors();
    let rejected = vectors.iter().filter(|v| v.output.is_none()).count();
    assert!(rejected > 100, "{rejected} rejected");
    assert!(
        vectors.len() - rejected > 300,
        "{} accepted",
        vectors.len() - rejected
    );
}
