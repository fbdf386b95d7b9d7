//! What a hostile peer's bytes go through (overread_pacs::fuzzing::multipart):
//! errors are fine; panics, hangs and unbounded allocations are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    overread_pacs::fuzzing::multipart(data);
});
