//! A model folder's manifest.toml, as `overread model install` and the
//! app read it: any text gives a manifest or a one-line error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = overread_infer::Manifest::parse(text);
    }
});
