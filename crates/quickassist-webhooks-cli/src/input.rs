//! Reading a command's input: a FILE argument, or standard input when it is absent or `-`.

use std::{
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

use crate::failure::Failure;

/// The largest input read, in bytes: far above any webhook body (the provider's are under
/// 1 KiB), yet it keeps a mistaken `/dev/zero` from filling memory.
pub(crate) const MAX_INPUT: usize = 64 << 20;

/// Reads all of `path` (standard input for `None` or `-`), up to [`MAX_INPUT`] bytes.
pub(crate) fn read_input(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match path {
        None => read_bounded(io::stdin().lock(), "standard input"),
        Some(path) if path == Path::new("-") => read_bounded(io::stdin().lock(), "standard input"),
        Some(path) => {
            let name = path.display().to_string();
            let file = File::open(path)
                .map_err(|error| Failure::usage(format!("cannot open {name}: {error}")))?;
            read_bounded(file, &name)
        }
    }
}

fn read_bounded(reader: impl Read, name: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    // One byte more than the limit tells "exactly the limit" from "too large".
    reader
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| Failure::usage(format!("cannot read {name}: {error}")))?;
    if bytes.len() > MAX_INPUT {
        return Err(Failure::usage(format!(
            "{name} is larger than {} MiB",
            MAX_INPUT >> 20
        )));
    }
    Ok(bytes)
}

/// The FILE argument every input-reading command takes.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct InputArg {
    /// File to read; standard input when absent or `-`.
    #[arg(value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
}

impl InputArg {
    /// Reads the input.
    pub(crate) fn read(&self) -> Result<Vec<u8>, Failure> {
        read_input(self.file.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_over_the_limit_is_refused() {
        let big = io::repeat(b' ').take(MAX_INPUT as u64 + 10);
        let error = read_bounded(big, "big").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("larger than 64 MiB"), "{error}");
    }

    #[test]
    fn input_at_the_limit_is_read_whole() {
        let exact = io::repeat(b' ').take(MAX_INPUT as u64);
        assert_eq!(read_bounded(exact, "exact").unwrap().len(), MAX_INPUT);
    }
}
