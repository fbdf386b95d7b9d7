//! In-process timings for scripts/bench-decode.sh: for each file, the median
//! of N runs of open → decode → display-ready 16-bit, as one JSON line.
//! Not a test: benchmarks print numbers and ratios, they never assert.

use std::path::PathBuf;
use std::time::Instant;

use overread_core::dicom::{Limits, open};

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let repeat = match args.iter().position(|a| a == "--repeat") {
        Some(i) if i + 1 < args.len() => {
            let n = args[i + 1].parse().unwrap_or(7);
            args.drain(i..=i + 1);
            n
        }
        _ => 7usize,
    };
    let limits = Limits::default();
    for file in args.into_iter().map(PathBuf::from) {
        let mut times = Vec::with_capacity(repeat);
        for _ in 0..repeat {
            let start = Instant::now();
            let result = open(&file, &limits).and_then(|i| i.display(0, None));
            match result {
                Ok(image) => std::hint::black_box(image),
                Err(e) => {
                    eprintln!("overread-bench: {}: {e}", file.display());
                    return std::process::ExitCode::from(2);
                }
            };
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{{\"path\":{:?},\"median_ms\":{:.3}}}",
            file.display().to_string(),
            times[times.len() / 2]
        );
    }
    std::process::ExitCode::SUCCESS
}
