//! Open and decode arbitrary bytes. Property, as in dicom-rs's pixeldata
//! fuzz target: whatever decodes has exactly rows × cols × samples values per
//! frame (so frames × that in all), and the display image has one value per
//! pixel and channel. Errors are fine; panics and unbounded allocations are not.
//!
//!     scripts/fuzz.sh open_decode
#![no_main]

use libfuzzer_sys::fuzz_target;
use overread_dicom::{Limits, from_bytes};

fuzz_target!(|data: &[u8]| {
    // Limits scaled down so a tiny input cannot claim gigabytes legitimately.
    let limits = Limits {
        max_decoded_bytes: 64 << 20,
        max_inflated_bytes: 16 << 20,
        ..Limits::default()
    };
    let Ok(instance) = from_bytes(data.to_vec(), &limits) else {
        return;
    };
    let Ok(image) = instance.image() else { return };
    let mut total = 0usize;
    for f in 0..image.frames.min(4) {
        let Ok(frame) = instance.frame(f) else { return };
        assert_eq!(frame.samples.len(), image.frame_samples());
        total += frame.samples.len();
        if let Ok(shown) = instance.display_frame(f, &frame, None) {
            assert_eq!(
                shown.data.len(),
                image.rows as usize * image.cols as usize * usize::from(shown.channels)
            );
        }
    }
    assert_eq!(total, image.frame_samples() * image.frames.min(4) as usize);
});
