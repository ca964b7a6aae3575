//! `qa-webhooks canonical [FILE]`: exactly the bytes the provider signs.

use quickassist_webhooks::canonical::{canonicalize, CanonicalError};

use super::write_stdout;
use crate::{
    failure::{Failure, Outcome},
    input::InputArg,
};

/// Arguments of `canonical`.
#[derive(Debug, clap::Args)]
#[command(
    long_about = "Write exactly the bytes the provider signs, JSON.stringify(JSON.parse(input)), \
                  with no trailing newline. Input that is not JSON exits 1 with the parse error \
                  and its position."
)]
pub(crate) struct CanonicalArgs {
    #[command(flatten)]
    input: InputArg,
}

pub(crate) fn run(args: &CanonicalArgs) -> Outcome {
    let body = args.input.read()?;
    let canonical = canonicalize(&body).map_err(|error| not_json(&body, error))?;
    write_stdout(&canonical)
}

/// "input is not JSON: Unexpected token '}' at position 7 (line 1, column 8)".
pub(crate) fn not_json(body: &[u8], error: CanonicalError) -> Failure {
    let (line, column) = line_column(body, error.offset());
    Failure::negative(format!(
        "input is not JSON: {error} (line {line}, column {column})"
    ))
}

/// 1-based line and column (in bytes) of byte `offset`.
fn line_column(body: &[u8], offset: usize) -> (usize, usize) {
    let before = body.get(..offset).unwrap_or(body);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    (line, before.len() - line_start + 1)
}

#[cfg(test)]
mod tests {
    use super::line_column;

    #[test]
    fn positions_count_lines_and_columns_from_one() {
        assert_eq!(line_column(b"{}", 0), (1, 1));
        assert_eq!(line_column(b"{\n  \"a\": ,\n}", 9), (2, 8));
        assert_eq!(line_column(b"[", 1), (1, 2));
        assert_eq!(line_column(b"[", 99), (1, 2));
    }
}
