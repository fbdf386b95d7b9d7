//! `overread-bench remote MODEL URL [IMAGES]`: inference on the device
//! against the same model on an inference server (Open Inference Protocol
//! v2, on loopback), with 1, 4 and 16 studies at once, side by side in one
//! run: throughput and latency per image (preprocessing, the run, post-
//! processing; the images are decoded once beforehand).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use overread_core::inference::{EpChoice, GrayImage, Model};
use overread_core::phantom::PhantomSpec;
use overread_core::remote::{Server, load};

const SIDE: u16 = 1024;

fn images(n: usize) -> Vec<Vec<u16>> {
    (0..n)
        .map(|i| {
            PhantomSpec::random(i as u64 + 7, SIDE, SIDE, i % 3)
                .render()
                .iter()
                .map(|v| (v.clamp(0.0, 1.0) * 65535.0) as u16)
                .collect()
        })
        .collect()
}

/// Images per second and latency percentiles (ms) with `models.len()`
/// studies at once.
fn run(models: Vec<Model>, images: &[Vec<u16>]) -> Result<(f64, f64, f64), String> {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let latencies = std::thread::scope(|s| {
        let handles: Vec<_> = models
            .into_iter()
            .map(|mut m| {
                let next = &next;
                s.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(pixels) = images.get(i) else { break };
                        let t = Instant::now();
                        let r = m.infer(GrayImage {
                            width: SIDE as usize,
                            height: SIDE as usize,
                            pixels,
                        });
                        out.push(
                            r.map(|r| (t.elapsed().as_secs_f64() * 1000.0, r.execution_provider)),
                        );
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect::<Vec<_>>()
    });
    let wall = start.elapsed().as_secs_f64();
    let mut ms = Vec::new();
    for r in latencies {
        let (t, ep) = r.map_err(|e| e.to_string())?;
        if ep.contains("server down") {
            return Err("the server stopped answering during the run".into());
        }
        ms.push(t);
    }
    ms.sort_by(f64::total_cmp);
    let pct = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    Ok((ms.len() as f64 / wall, pct(0.5), pct(0.95)))
}

pub fn remote(model_dir: &Path, url: &str, n: usize) -> Result<(), String> {
    let images = images(n.max(16));
    let server = Server {
        url: url.to_string(),
        model: None,
        version: None,
    };
    println!(
        "### Remote (OIP v2 on loopback, Triton) against on-device inference: {} on {} phantom images ({SIDE}×{SIDE}), CPU, one run\n",
        model_dir
            .file_name()
            .map_or("model".into(), |n| n.to_string_lossy()),
        images.len()
    );
    println!(
        "| studies at once | device images/s | remote images/s | remote ÷ device | device p50 / p95 ms | remote p50 / p95 ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for c in [1usize, 4, 16] {
        let device = (0..c)
            .map(|_| Model::load(model_dir, None, EpChoice::Cpu, 1).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let remote = (0..c)
            .map(|_| load(model_dir, &server, None, EpChoice::Cpu, 1))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(why) = remote.iter().find_map(|m| m.fallback.clone()) {
            return Err(why);
        }
        let (dt, d50, d95) = run(device, &images)?;
        let (rt, r50, r95) = run(remote, &images)?;
        println!(
            "| {c} | {dt:.1} | {rt:.1} | {:.2} | {d50:.0} / {d95:.0} | {r50:.0} / {r95:.0} |",
            rt / dt
        );
    }
    Ok(())
}
