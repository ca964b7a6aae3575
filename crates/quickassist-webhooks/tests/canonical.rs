//! The canonical form's rules, one behaviour per test.

use quickassist_webhooks::canonical::{
    canonicalize, canonicalize_into, CanonicalError, CanonicalErrorKind, MAX_DEPTH,
};

fn canon(input: &str) -> String {
    let out = canonicalize(input.as_bytes()).expect("input is valid JSON");
    String::from_utf8(out).expect("the canonical form is UTF-8")
}

fn error(input: &[u8]) -> CanonicalError {
    canonicalize(input).expect_err("input is not valid JSON")
}

#[test]
fn whitespace_between_tokens_is_removed() {
    assert_eq!(
        canon(" {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : { } } \n"),
        r#"{"a":[1,2],"b":{}}"#
    );
}

#[test]
fn any_value_may_be_the_top_level() {
    assert_eq!(canon(" \"x\" "), "\"x\"");
    assert_eq!(canon("1.0"), "1");
    assert_eq!(canon("null"), "null");
}

#[test]
fn numbers_are_printed_as_ecmascript_does() {
    assert_eq!(
        canon("[1.0, -0, 1e21, 1e-7, 1e400, -1e400, 12345678901234567890, 0.1, 1E2]"),
        "[1,0,1e+21,1e-7,null,null,12345678901234567000,0.1,100]"
    );
}

#[test]
fn duplicate_keys_keep_the_last_value_at_the_first_position() {
    assert_eq!(canon(r#"{"b":1,"a":2,"b":3}"#), r#"{"b":3,"a":2}"#);
    assert_eq!(canon(r#"{"a":{"x":1},"a":[2]}"#), r#"{"a":[2]}"#);
    // Escaped and literal spellings of one key are the same key.
    assert_eq!(canon(r#"{"\u0061":1,"a":2}"#), r#"{"a":2}"#);
}

#[test]
fn array_index_keys_come_first_in_ascending_order() {
    assert_eq!(
        canon(r#"{"z":0,"10":1,"2":2,"4294967295":3,"4294967294":4,"01":5,"-1":6,"0":7}"#),
        r#"{"0":7,"2":2,"10":1,"4294967294":4,"z":0,"4294967295":3,"01":5,"-1":6}"#
    );
}

#[test]
fn objects_nested_in_a_reordered_object_keep_their_own_order() {
    assert_eq!(
        canon(r#"{"b":{"1":1,"0":0},"0":{"y":1,"x":2,"y":3},"a":[{"1":0,"a":1,"0":2}]}"#),
        r#"{"0":{"y":3,"x":2},"b":{"0":0,"1":1},"a":[{"0":2,"1":0,"a":1}]}"#
    );
}

#[test]
fn every_level_of_nested_reordered_objects_is_reordered() {
    let depth = 300;
    let input = format!(
        "{}\"x\"{}",
        r#"{"a":0,"b":{"1":1,"0":0},"1":"#.repeat(depth),
        r#","b":{"y":0},"a":2}"#.repeat(depth)
    );
    let expected = format!(
        "{}\"x\"{}",
        r#"{"1":"#.repeat(depth),
        r#","a":2,"b":{"y":0}}"#.repeat(depth)
    );
    assert_eq!(canon(&input), expected);
}

#[test]
fn large_objects_find_duplicates_too() {
    let mut text = String::from("{");
    for k in 0..100 {
        text.push_str(&format!("\"k{k}\":{k},"));
    }
    text.push_str("\"k7\":\"last\",\"50\":true}");
    let mut expected = String::from("{\"50\":true,");
    for k in 0..100 {
        if k == 7 {
            expected.push_str("\"k7\":\"last\",");
        } else {
            expected.push_str(&format!("\"k{k}\":{k},"));
        }
    }
    expected.pop();
    expected.push('}');
    assert_eq!(canon(&text), expected);
}

#[test]
fn proto_is_an_ordinary_key() {
    assert_eq!(
        canon(r#"{"__proto__":{"a":1},"b":2,"__proto__":null}"#),
        r#"{"__proto__":null,"b":2}"#
    );
}

#[test]
fn strings_escape_only_what_stringify_escapes() {
    assert_eq!(
        canon(r#""\/ \u00e9 \u0041 \u001f \u007f \b\f\n\r\t \" \\ \u2028""#),
        "\"/ é A \\u001f \u{7f} \\b\\f\\n\\r\\t \\\" \\\\ \u{2028}\""
    );
}

#[test]
fn surrogate_pairs_join_and_lone_surrogates_stay_escaped_in_lowercase() {
    assert_eq!(canon(r#""\uD83D\uDE00""#), "\"😀\"");
    assert_eq!(canon(r#""\uDE00\uD83D""#), r#""\ude00\ud83d""#);
    assert_eq!(canon(r#""\uD800x""#), r#""\ud800x""#);
}

#[test]
fn what_json_parse_rejects_is_an_error() {
    for bad in [
        "",
        " ",
        "\u{feff}{}",
        "[1,]",
        "{\"a\":1,}",
        "// c\n1",
        "/* c */ 1",
        "'a'",
        "01",
        "+1",
        ".5",
        "1.",
        "NaN",
        "Infinity",
        "[1 2]",
        "{a:1}",
        "\"\u{1}\"",
        "\"\\x\"",
        "tru",
        "1 2",
        "\u{a0}1",
        "\"unterminated",
    ] {
        assert!(
            canonicalize(bad.as_bytes()).is_err(),
            "{bad:?} was accepted"
        );
    }
}

#[test]
fn invalid_utf8_is_an_error_at_the_first_bad_byte() {
    let err = error(b"[\"ab\xff\"]");
    assert_eq!(err.kind(), CanonicalErrorKind::InvalidUtf8);
    assert_eq!(err.offset(), 4);
    // A lone surrogate encoded in UTF-8 (CESU) is not UTF-8 either.
    assert_eq!(
        error(b"\"\xed\xa0\x80\"").kind(),
        CanonicalErrorKind::InvalidUtf8
    );
}

#[test]
fn errors_name_the_position_and_only_the_offending_character() {
    let err = error(br#"{"secret":"hunter2",}"#);
    assert_eq!(err.offset(), 20);
    assert_eq!(err.kind(), CanonicalErrorKind::UnexpectedToken('}'));
    let message = err.to_string();
    assert_eq!(message, "Unexpected token '}' at position 20");
    assert!(!message.contains("hunter2"));

    assert_eq!(error(b"[1").kind(), CanonicalErrorKind::UnexpectedEnd);
    assert_eq!(error(b"[1").offset(), 2);
    assert_eq!(
        error(b"1 x").kind(),
        CanonicalErrorKind::TrailingCharacters('x')
    );
    assert_eq!(
        error(b"\"a\nb\"").kind(),
        CanonicalErrorKind::BadControlCharacter
    );
    assert_eq!(error(b"-x").kind(), CanonicalErrorKind::NoNumberAfterMinus);
    // Control characters are escaped in messages, never written raw into a log line.
    assert_eq!(
        error(b"\x07").to_string(),
        "Unexpected token '\\u{7}' at position 0"
    );
}

#[test]
fn nesting_up_to_max_depth_is_accepted_and_deeper_is_refused() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert_eq!(canon(&ok), ok);
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    let err = error(deep.as_bytes());
    assert_eq!(err.kind(), CanonicalErrorKind::TooDeep);
    assert_eq!(err.offset(), MAX_DEPTH);
    // Far deeper input neither overflows the stack nor allocates without bound.
    let abyss = "[{\"a\":".repeat(1_000_000);
    assert_eq!(error(abyss.as_bytes()).kind(), CanonicalErrorKind::TooDeep);
}

#[test]
fn canonicalize_into_appends_and_leaves_the_buffer_untouched_on_error() {
    let mut out = b"prefix:".to_vec();
    canonicalize_into(b"[1.0]", &mut out).unwrap();
    assert_eq!(out, b"prefix:[1]");
    assert!(canonicalize_into(br#"{"a":[1,2,{"b":"c"}"#, &mut out).is_err());
    assert_eq!(out, b"prefix:[1]");
}

#[test]
fn output_size_stays_within_a_small_multiple_of_the_input() {
    // `1e20` (4 bytes) prints as 21 digits: the worst expansion there is.
    let input = format!("[{}1e20]", "1e20,".repeat(10_000));
    let out = canonicalize(input.as_bytes()).unwrap();
    assert!(
        out.len() <= input.len() * 6,
        "{} from {}",
        out.len(),
        input.len()
    );
}
