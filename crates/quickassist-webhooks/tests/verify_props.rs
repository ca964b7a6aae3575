//! Property tests: sign → verify round-trips, and any change is caught.

use proptest::prelude::*;
use quickassist_webhooks::{sign, Secret, SignedForm, Verifier, VerifyError};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_bodies_verify(secret in proptest::collection::vec(any::<u8>(), 0..80),
                            body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let signature = sign(&Secret::from(secret.clone()), &body);
        let verified = Verifier::new(secret).raw_only().verify(Some(&signature), &body).unwrap();
        prop_assert_eq!(verified.form(), SignedForm::Raw);
        prop_assert_eq!(verified.body(), &body[..]);
    }

    #[test]
    fn any_flipped_body_bit_is_rejected(body in proptest::collection::vec(any::<u8>(), 1..600),
                                        index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let signature = sign(&Secret::from("s"), &body);
        let mut tampered = body.clone();
        tampered[index.index(body.len())] ^= 1 << bit;
        // Canonical fallback on: a flipped bit in JSON whitespace must still fail, because the
        // signature is of the raw bytes, which changed.
        let result = Verifier::new("s").verify(Some(&signature), &tampered);
        prop_assert_eq!(result.unwrap_err(), VerifyError::InvalidSignature);
    }

    #[test]
    fn any_flipped_signature_bit_is_rejected(body in proptest::collection::vec(any::<u8>(), 0..200),
                                             index in 0usize..32, bit in 0u8..8) {
        let signature = sign(&Secret::from("s"), &body);
        let mut tag = hex::decode(&signature).unwrap();
        tag[index] ^= 1 << bit;
        let result = Verifier::new("s").verify(Some(&hex::encode(tag)), &body);
        prop_assert_eq!(result.unwrap_err(), VerifyError::InvalidSignature);
    }

    #[test]
    fn every_rotated_secret_verifies(secrets in proptest::collection::vec("[a-z0-9]{1,24}", 1..6),
                                     body in "[ -~]{0,200}") {
        let mut verifier = Verifier::new(secrets[0].as_str());
        for secret in &secrets[1..] {
            verifier = verifier.with_secret(secret.as_str());
        }
        for secret in &secrets {
            let signature = sign(&Secret::from(secret.as_str()), body.as_bytes());
            let verified = verifier.verify(Some(&signature), body.as_bytes()).unwrap();
            // The first secret equal to this one matched (duplicates are allowed).
            let first = secrets.iter().position(|s| s == secret).unwrap();
            prop_assert_eq!(verified.key_index(), first);
        }
    }

    #[test]
    fn verify_never_panics(header in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..100)),
                           body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Verifier::new("s").verify_bytes(header.as_deref(), &body);
    }
}
