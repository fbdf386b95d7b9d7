//! In-process timings for the benchmark scripts. Not a test: benchmarks
//! print numbers and ratios, they never assert.
//!
//!     overread-bench [--repeat N] FILE...   decode, arrived-whole check and preview medians, one JSON line per file
//!     overread-bench audit [ROWS]           audit log: bulk record, export, verify, commit latency
//!     overread-bench triage MODEL [N]       background triage of N phantom studies, 2 workers
//!     overread-bench overhead MODEL FILE [N] end-to-end medians on one file, 1 thread (JSON)
//!     overread-bench evaluate MODEL [N]     sensitivity and false positives on N phantoms
//!     overread-bench store [ROWS] [WS]      department store: sync, COPY, latency, governance
//!     overread-bench remote MODEL URL [N]   device against an inference server, 1/4/16 at once
//!     overread-bench stats [N]              a validation's statistics alone on N cases (ms)

mod bench_remote;
mod bench_store;

use std::path::PathBuf;
use std::time::Instant;

use overread_core::dicom::{Limits, open};

/// The exit code of a subcommand: 0, or 2 with the error on one line.
fn finish(result: Result<(), String>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("overread-bench: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

fn main() -> std::process::ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let model_arg = |i: usize| {
        args.get(i)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("models/demo"))
    };
    let number =
        |i: usize, default: u64| args.get(i).and_then(|n| n.parse().ok()).unwrap_or(default);
    match args.first().map(String::as_str) {
        Some("overhead") => {
            let (Some(model), Some(file)) = (args.get(1), args.get(2)) else {
                return finish(Err("usage: overhead MODEL FILE [N]".into()));
            };
            return finish(overhead(
                std::path::Path::new(model),
                std::path::Path::new(file),
                number(3, 15) as usize,
            ));
        }
        Some("evaluate") => return finish(evaluate(&model_arg(1), number(2, 100) as u32)),
        Some("triage") => return finish(triage(&model_arg(1), number(2, 150) as u32)),
        Some("audit") => return finish(audit(number(1, 1_000_000))),
        Some("stats") => return finish(stats(number(1, 1000) as usize)),
        Some("remote") => {
            let Some(url) = args.get(2) else {
                return finish(Err("usage: remote MODEL URL [IMAGES]".into()));
            };
            return finish(bench_remote::remote(
                &model_arg(1),
                url,
                number(3, 48) as usize,
            ));
        }
        Some("store") => {
            return finish(bench_store::run(number(1, 1_000_000), number(2, 5).max(1)));
        }
        _ => {}
    }
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
        // Full decode to display values; the proof that it arrived whole
        // (what a retrieval runs); the reduced preview where there is one.
        let full = median(repeat, || {
            open(&file, &limits)
                .and_then(|i| i.display(0, None))
                .map(drop)
        });
        let check = median(repeat, || {
            open(&file, &limits).and_then(|i| i.check_complete())
        });
        let preview = median(repeat, || {
            open(&file, &limits)
                .and_then(|i| i.reduced_frame(0, overread_core::pixels::PREVIEW_SIDE))
                .and_then(|f| f.map(drop).ok_or(overread_core::dicom::Error::NoPixelData))
        });
        let (full, check) = match (full, check) {
            (Ok(full), Ok(check)) => (full, check),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("overread-bench: {}: {e}", file.display());
                return std::process::ExitCode::from(2);
            }
        };
        println!(
            "{{\"path\":{:?},\"median_ms\":{full:.3},\"check_ms\":{check:.3},\"preview_ms\":{}}}",
            file.display().to_string(),
            preview.map_or("null".into(), |p| format!("{p:.3}"))
        );
    }
    std::process::ExitCode::SUCCESS
}

/// The median time of `repeat` runs of `f`, or its first error.
fn median<E>(repeat: usize, mut f: impl FnMut() -> Result<(), E>) -> Result<f64, E> {
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn decision(n: u64) -> overread_core::audit_log::DecisionEvent {
    use overread_core::audit_log::{Decision, DecisionEvent, ModelRef, Reader, StudyRef};
    DecisionEvent {
        reader: Reader {
            id: format!("reader{}", n % 7),
            display_name: format!("Reader {}", n % 7),
            role: "radiologist".into(),
        },
        workstation_id: "bench-ws".into(),
        study: StudyRef {
            patient_id: format!("OVR-PH-{n:07}"),
            accession_number: format!("ACC{n:07}"),
            study_uid: format!("2.25.{}1", n + 1),
            series_uid: format!("2.25.{}2", n + 1),
            sop_uid: format!("2.25.{}3", n + 1),
        },
        model: Some(ModelRef {
            name: "demo".into(),
            version: "1.0.0".into(),
            sha256: "ab".repeat(32),
        }),
        execution_provider: Some("cpu".into()),
        finding: ["nodule", "consolidation", "effusion"][(n % 3) as usize].into(),
        ai_score: Some((n % 100) as f64 / 100.0),
        threshold: Some(0.5),
        ai_flagged: true,
        decision: if n.is_multiple_of(4) {
            Decision::Dismiss
        } else {
            Decision::Confirm
        },
        region: None,
        reason: n.is_multiple_of(10).then(|| "reviewed with prior".into()),
        display_to_decision_ms: Some(800 + n % 5000),
        supersedes: None,
    }
}

fn audit(rows: u64) -> Result<(), String> {
    use overread_core::audit_log::{ExportOptions, Verification};
    let dir = std::env::temp_dir().join(format!("overread-bench-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        let mut log =
            overread_core::audit::open(&dir.join("audit.sqlite3")).map_err(|e| e.to_string())?;
        // Commit latency first, on a small log: one decision per transaction.
        let mut latencies = Vec::new();
        for n in 0..500 {
            let event = decision(n);
            let start = Instant::now();
            log.record_decision(&event).map_err(|e| e.to_string())?;
            latencies.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        latencies.sort_by(f64::total_cmp);
        let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
        let start = Instant::now();
        let mut n = 500;
        while n < rows {
            let batch: Vec<_> = (n..(n + 10_000).min(rows)).map(decision).collect();
            log.record_decisions(&batch).map_err(|e| e.to_string())?;
            n += batch.len() as u64;
        }
        let fill = start.elapsed().as_secs_f64();
        let options = ExportOptions {
            workstation_id: "bench-ws".into(),
            ..Default::default()
        };
        // Each export three times, alternating plain and de-identified.
        let mut plain = Vec::new();
        let mut deid = Vec::new();
        let mut exported = 0;
        for round in 0..6 {
            let deidentify = round % 2 == 1;
            let start = Instant::now();
            let summary = log
                .export_csv(
                    &dir.join("export.csv"),
                    &ExportOptions {
                        deidentify,
                        ..options.clone()
                    },
                )
                .map_err(|e| e.to_string())?;
            let t = start.elapsed().as_secs_f64();
            if deidentify {
                deid.push(t)
            } else {
                plain.push(t)
            }
            exported = summary.rows;
        }
        plain.sort_by(f64::total_cmp);
        deid.sort_by(f64::total_cmp);
        let (export, deid) = (plain[1], deid[1]);
        let start = Instant::now();
        let verified = matches!(
            log.verify().map_err(|e| e.to_string())?,
            Verification::Ok { .. }
        );
        let verify = start.elapsed().as_secs_f64();
        println!("### Audit log ({exported} rows, synchronous=FULL, WAL; exports: median of 3)\n");
        println!("| measure | value | goal | ratio to goal |");
        println!("|---|---:|---:|---:|");
        println!(
            "| export to CSV (integrity_check + write + fsync) | {export:.2} s | 3 s | {:.2} |",
            export / 3.0
        );
        println!(
            "| de-identified export to CSV | {deid:.2} s | 3 s | {:.2} |",
            deid / 3.0
        );
        println!(
            "| commit latency p50 (one decision per COMMIT) | {:.2} ms | | |",
            pct(0.5)
        );
        println!("| commit latency p99 | {:.2} ms | | |", pct(0.99));
        println!(
            "| verify the whole chain | {verify:.2} s{} | | |",
            if verified { "" } else { " (BROKEN)" }
        );
        println!(
            "| bulk record, 10,000 per transaction | {:.0} rows/s | | |",
            (rows - 500) as f64 / fill
        );
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn triage(model_dir: &std::path::Path, n: u32) -> Result<(), String> {
    use overread_core::inference::{EpChoice, Model};
    use overread_core::triage::{Job, ResultCache, TriageResult, triage};
    let dir = std::env::temp_dir().join(format!("overread-bench-triage-{}", std::process::id()));
    let result = (|| {
        let paths = overread_core::demo::generate(&dir, n, 1024, 11).map_err(|e| e.to_string())?;
        let jobs: Vec<Job> = paths.into_iter().map(Job::file).collect();
        let workers = 2;
        let start = Instant::now();
        let mut models = (0..workers)
            .map(|_| Model::load(model_dir, None, EpChoice::Cpu, 1))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let load = start.elapsed().as_secs_f64();
        let cancel = std::sync::atomic::AtomicBool::new(false);
        let cache = ResultCache::default();
        let start = Instant::now();
        let results = triage(
            &jobs,
            &mut models,
            &cache,
            &cancel,
            None,
            &overread_core::triage::Reading::default(),
            &|_| {},
        );
        let wall = start.elapsed().as_secs_f64();
        let done = results
            .iter()
            .filter(|(_, r)| matches!(r, TriageResult::Done(_)))
            .count();
        let start = Instant::now();
        let again = triage(
            &jobs,
            &mut models,
            &cache,
            &cancel,
            None,
            &overread_core::triage::Reading::default(),
            &|_| {},
        );
        let cached = start.elapsed().as_secs_f64();
        let hits = again
            .iter()
            .filter(|(_, r)| matches!(r, TriageResult::Cached(_)))
            .count();
        println!(
            "### Background triage: {n} phantom studies (1024×1024 CR/DX), {workers} workers × 1 intra-op thread, CPU\n"
        );
        println!("| measure | value | goal | ratio to goal |");
        println!("|---|---:|---:|---:|");
        println!(
            "| triage wall time ({done} inferred) | {wall:.1} s | 60 s | {:.2} |",
            wall / 60.0
        );
        println!("| per study | {:.0} ms | | |", wall * 1000.0 / f64::from(n));
        println!("| sessions created (once per worker) | {:.2} s | | |", load);
        println!("| second pass, all from the cache ({hits} hits) | {cached:.2} s | | |");
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Medians of N runs: decode → display → preprocess → infer → post on one
/// file, with one intra-op thread, as JSON for scripts/bench/infer.py.
fn overhead(model_dir: &std::path::Path, file: &std::path::Path, n: usize) -> Result<(), String> {
    use overread_core::inference::{EpChoice, GrayImage, Model};
    let mut model = Model::load(model_dir, None, EpChoice::Cpu, 1).map_err(|e| e.to_string())?;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mut e2e, mut decode, mut pre, mut inf, mut post) =
        (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n.max(1) {
        let start = Instant::now();
        let image = open(file, &Limits::default())
            .and_then(|i| i.display(0, None))
            .map_err(|e| e.to_string())?;
        let decoded = start.elapsed().as_secs_f64() * 1000.0;
        let result = model
            .infer(GrayImage {
                width: image.width as usize,
                height: image.height as usize,
                pixels: &image.data,
            })
            .map_err(|e| e.to_string())?;
        e2e.push(start.elapsed().as_secs_f64() * 1000.0);
        decode.push(decoded);
        pre.push(result.ms.preprocess);
        inf.push(result.ms.infer);
        post.push(result.ms.post);
    }
    println!(
        "{{\"e2e_ms\":{:.3},\"decode_ms\":{:.3},\"preprocess_ms\":{:.3},\"infer_ms\":{:.3},\"post_ms\":{:.3}}}",
        median(e2e),
        median(decode),
        median(pre),
        median(inf),
        median(post)
    );
    Ok(())
}

/// The demo model on N demo-worklist phantoms (1024², about two thirds with
/// 1–3 opacities): image-level sensitivity and specificity, lesion-level
/// sensitivity (heatmap above threshold at the opacity's centre), and false
/// positive regions per image (connected regions above threshold that hold
/// no opacity centre).
fn evaluate(model_dir: &std::path::Path, n: u32) -> Result<(), String> {
    use overread_core::inference::{EpChoice, GrayImage, Model};
    let mut model = Model::load(model_dir, None, EpChoice::Cpu, 1).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("overread-bench-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let studies = overread_core::phantom::demo_studies(n, 1024, 1024, 2027);
    let (mut pos, mut tp, mut neg, mut tn, mut lesions, mut found, mut fp_regions) =
        (0, 0, 0, 0, 0, 0, 0);
    for study in &studies {
        let path = study.write(&dir).map_err(|e| e.to_string())?;
        let image = open(&path, &Limits::default())
            .and_then(|i| i.display(0, None))
            .map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&path);
        let result = model
            .infer(GrayImage {
                width: image.width as usize,
                height: image.height as usize,
                pixels: &image.data,
            })
            .map_err(|e| e.to_string())?;
        let finding = &result.findings[0];
        let opacities = &study.spec.opacities;
        if opacities.is_empty() {
            neg += 1;
            tn += usize::from(!finding.flagged);
        } else {
            pos += 1;
            tp += usize::from(finding.flagged);
        }
        let hm = &result.heatmaps[0];
        let to_hm = |x: f64, y: f64| {
            let (ix, iy) = result.placement.to_input(x, y);
            let (sx, sy) = (
                hm.width as f64 / result.placement.input_width as f64,
                hm.height as f64 / result.placement.input_height as f64,
            );
            (
                ((ix * sx) as usize).min(hm.width - 1),
                ((iy * sy) as usize).min(hm.height - 1),
            )
        };
        let centres: Vec<(usize, usize)> = opacities.iter().map(|o| to_hm(o.x, o.y)).collect();
        for &(x, y) in &centres {
            lesions += 1;
            found += usize::from(hm.values[y * hm.width + x] >= finding.threshold);
        }
        // Connected regions above threshold without an opacity centre.
        let mut seen = vec![false; hm.values.len()];
        for start in 0..hm.values.len() {
            if seen[start] || hm.values[start] < finding.threshold {
                continue;
            }
            let mut stack = vec![start];
            seen[start] = true;
            let mut holds_lesion = false;
            while let Some(i) = stack.pop() {
                let (x, y) = (i % hm.width, i / hm.width);
                holds_lesion |= centres.contains(&(x, y));
                for (nx, ny) in [
                    (x.wrapping_sub(1), y),
                    (x + 1, y),
                    (x, y.wrapping_sub(1)),
                    (x, y + 1),
                ] {
                    if nx < hm.width && ny < hm.height {
                        let j = ny * hm.width + nx;
                        if !seen[j] && hm.values[j] >= finding.threshold {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
            fp_regions += usize::from(!holds_lesion);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "### Demo model on {n} synthetic phantoms (1024×1024; {pos} with opacities, {neg} without)\n"
    );
    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| image-level sensitivity | {:.2} ({tp}/{pos}) |",
        tp as f64 / pos.max(1) as f64
    );
    println!(
        "| image-level specificity | {:.2} ({tn}/{neg}) |",
        tn as f64 / neg.max(1) as f64
    );
    println!(
        "| lesion-level sensitivity | {:.2} ({found}/{lesions}) |",
        found as f64 / lesions.max(1) as f64
    );
    println!(
        "| false-positive regions per image | {:.2} ({fp_regions}/{n}) |",
        fp_regions as f64 / f64::from(n)
    );
    Ok(())
}

/// `overread model validate`'s statistics alone (ROC, AUC and its 2,000
/// bootstrap resamples, Wilson intervals, the target threshold,
/// calibration) on `n` cases with scores drawn like a good model's.
fn stats(n: usize) -> Result<(), String> {
    use overread_core::validation::{Options, measure, stats::Case};
    let mut rng = overread_core::phantom::Rng::new(5);
    let cases: Vec<Case> = (0..n)
        .map(|i| {
            let positive = i % 3 != 0;
            let score =
                (0.5 + if positive { 0.25 } else { -0.25 } + 0.2 * rng.normal()).clamp(0.0, 1.0);
            Case { score, positive }
        })
        .collect();
    let start = Instant::now();
    let report = measure("finding", &cases, 0.5, Options::default());
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{{\"cases\": {n}, \"ms\": {ms:.1}, \"auc\": {:.4}}}",
        report.auc.unwrap_or(f64::NAN)
    );
    Ok(())
}
