//! A PACS configuration file: any text gives a checked configuration or
//! a one-line error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(config) = overread_pacs::PacsConfig::parse(text) {
            let _ = config.warnings();
        }
    }
});
