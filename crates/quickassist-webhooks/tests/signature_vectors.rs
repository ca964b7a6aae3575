//! Signatures Node's `crypto` computed (`tests/vectors/generate_signatures.js`): `sign` and
//! `Verifier` must agree with them byte for byte, for raw and `JSON.stringify` forms.

use quickassist_webhooks::{canonical::canonicalize, sign, Secret, SignedForm, Verifier};
use serde::Deserialize;

#[derive(Deserialize)]
struct Vector {
    secret: String,
    body: String,
    /// hex HMAC of the body as sent.
    raw: String,
    /// hex HMAC of `JSON.stringify(JSON.parse(body))`: what the provider's receiver checks.
    canonical: String,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str(include_str!("vectors/signatures.json")).expect("vectors parse")
}

#[test]
fn sign_matches_node_crypto() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 24);
    for v in &vectors {
        let secret = Secret::from(v.secret.as_str());
        assert_eq!(sign(&secret, v.body.as_bytes()), v.raw, "{}", v.body);
        let canonical = canonicalize(v.body.as_bytes()).unwrap();
        assert_eq!(sign(&secret, &canonical), v.canonical, "{}", v.body);
    }
}

#[test]
fn verifier_accepts_both_node_signatures_and_says_which_form() {
    for v in vectors() {
        let verifier = Verifier::new(v.secret.as_str());
        let raw = verifier.verify(Some(&v.raw), v.body.as_bytes()).unwrap();
        assert_eq!(raw.form(), SignedForm::Raw);
        let documented = verifier
            .verify(Some(&v.canonical), v.body.as_bytes())
            .unwrap();
        let expected = if v.raw == v.canonical {
            SignedForm::Raw
        } else {
            SignedForm::Canonical
        };
        assert_eq!(documented.form(), expected, "{}", v.body);
        assert!(Verifier::new("wrong")
            .verify(Some(&v.canonical), v.body.as_bytes())
            .is_err());
    }
}
