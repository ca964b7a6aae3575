//! `qa-webhooks canonical`: Node's `JSON.stringify(JSON.parse(input))`, byte for byte.

mod common;

use common::{assert_one_line, canonical_vectors, qa, stderr, temp_file};

#[test]
fn every_node_vector_is_reproduced_byte_for_byte_by_the_binary() {
    let vectors = canonical_vectors();
    assert!(vectors.len() > 500, "{} vectors", vectors.len());
    let mut failures = Vec::new();
    for vector in &vectors {
        let output = qa()
            .arg("canonical")
            .write_stdin(vector.input.as_bytes())
            .output()
            .unwrap();
        let agrees = match &vector.output {
            Some(node) => {
                output.status.code() == Some(0)
                    && output.stdout == node.as_bytes()
                    && output.stderr.is_empty()
            }
            None => {
                let message = stderr(&output);
                output.status.code() == Some(1)
                    && output.stdout.is_empty()
                    && message.starts_with("qa-webhooks: input is not JSON: ")
                    && message.contains("position")
                    && message.ends_with(")\n")
                    && message.matches('\n').count() == 1
            }
        };
        if !agrees {
            failures.push(format!(
                "input {:?}: node {:?}, exit {:?}, stdout {:?}, stderr {:?}",
                vector.input,
                vector.output,
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                stderr(&output)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn output_has_no_trailing_newline() {
    qa().arg("canonical")
        .write_stdin("{ \"b\" : [1.0, 2e0] }\n")
        .assert()
        .success()
        .stdout(r#"{"b":[1,2]}"#);
}

#[test]
fn reads_a_file_argument() {
    let file = temp_file("canonical.json", b"[ 1.50 ,\n \"\\u0041\" ]");
    qa().arg("canonical")
        .arg(&file)
        .assert()
        .success()
        .stdout(r#"[1.5,"A"]"#);
}

#[test]
fn a_parse_error_names_its_position_line_and_column() {
    let output = qa()
        .arg("canonical")
        .write_stdin("{\n  \"a\": 1,\n}")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr(&output),
        "qa-webhooks: input is not JSON: Unexpected token '}' at position 12 (line 3, column 1)\n"
    );
}

#[test]
fn empty_input_is_not_json() {
    let output = qa().arg("canonical").write_stdin("").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_one_line(&stderr(&output));
    assert!(stderr(&output).contains("Unexpected end of JSON input"));
}

#[test]
fn an_unreadable_file_exits_2() {
    let output = qa().args(["canonical", "/no/such/file"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_one_line(&stderr(&output));
}
