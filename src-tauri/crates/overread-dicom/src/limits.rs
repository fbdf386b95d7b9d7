//! Bounds on what a file may make us allocate.
//!
//! Every length read from a file is checked against the bytes that are really
//! there and against these limits before anything is allocated for it.

/// Resource limits for opening and decoding one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file we read into memory.
    pub max_file_bytes: u64,
    /// Largest data set a deflated file may inflate to.
    pub max_inflated_bytes: u64,
    /// Largest decoded pixel buffer (all frames, bytes as allocated).
    pub max_decoded_bytes: u64,
    /// Largest Rows or Columns.
    pub max_dimension: u32,
    /// Largest Number of Frames.
    pub max_frames: u32,
    /// Deepest sequence nesting.
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 2 << 30,
            max_inflated_bytes: 1 << 30,
            max_decoded_bytes: 2 << 30,
            max_dimension: 65_535,
            max_frames: 100_000,
            max_depth: 32,
        }
    }
}
