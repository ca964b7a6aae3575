//! The `qa-webhooks` command.

fn main() {}
