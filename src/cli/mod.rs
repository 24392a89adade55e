//! Layer 6: argument parsing, configuration, progress, exit codes.

pub fn main() -> i32 {
    0
}
