//! The validation report as one self-contained HTML page: inline styles and
//! SVG plots (ROC curve, reliability diagram), no script, nothing fetched.

use std::fmt::Write;

use super::stats::{Calibration, Proportion, RocPoint};
use super::{LabelReport, Operating, Report};
use crate::governance::html::{STYLE, escape};

/// How many unmatched rows and problems are listed before "and N more".
const LISTED: usize = 50;

fn prop(p: &Option<Proportion>) -> String {
    p.as_ref().map_or("–".into(), |p| {
        format!(
            "{:.1}% ({:.1}–{:.1}) {}/{}",
            p.value * 100.0,
            p.low * 100.0,
            p.high * 100.0,
            p.k,
            p.n
        )
    })
}

/// The whole report as HTML.
pub fn render(r: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let m = &r.model;
    let use_ = if m.clinical {
        "clinical model"
    } else {
        "demonstration model, not for clinical use"
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Validation of {} {}</title><style>{STYLE}</style></head><body>\
         <h1>Local validation: {} {}</h1><p>{use_} · weights SHA-256 <code id=\"model-sha256\">{}</code><br>\
         Truth: {} ({} rows, SHA-256 <code>{}</code>)<br>\
         {} images given, {} inferred · {} truth rows without an inferred image · {} files not DICOM<br>\
         <span class=\"muted\">Generated {} on {} by {}. AUC interval: {} stratified bootstrap resamples (seed {}); \
         proportions with Wilson 95 % intervals; target sensitivity {:.0}%.</span></p>",
        escape(&m.name),
        escape(&m.version),
        escape(&m.name),
        escape(&m.version),
        escape(&m.sha256),
        escape(&r.truth.file),
        r.truth.rows,
        escape(&r.truth.sha256),
        r.images,
        r.inferred,
        r.unmatched.len(),
        r.not_dicom,
        escape(&r.generated_at),
        escape(&r.workstation),
        escape(&r.generated_by),
        r.options.bootstrap.resamples,
        r.options.bootstrap.seed,
        r.options.target_sensitivity * 100.0,
    );
    for l in &r.labels {
        label(&mut h, l, r.options.target_sensitivity);
    }
    list(
        &mut h,
        "unmatched",
        "Truth rows without an inferred image",
        r.unmatched
            .iter()
            .map(|u| format!("{} · {}", u.uid, u.label)),
    );
    list(
        &mut h,
        "problems",
        "Images not inferred",
        r.problems.iter().map(|p| format!("{}: {}", p.path, p.why)),
    );
    h.push_str("</body></html>\n");
    h
}

fn operating_rows(h: &mut String, what: &str, o: &Operating) {
    let c = &o.confusion;
    let _ = write!(
        h,
        "<tr><td>{what}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {} / {} / {}</td></tr>",
        o.threshold,
        prop(&o.sensitivity),
        prop(&o.specificity),
        prop(&o.ppv),
        prop(&o.npv),
        c.tp,
        c.fp,
        c.tn,
        c.fn_
    );
}

fn label(h: &mut String, l: &LabelReport, target: f64) {
    let auc = match (l.auc, l.auc_interval) {
        (Some(a), Some((lo, hi))) => format!("{a:.3} (95% CI {lo:.3}–{hi:.3})"),
        (Some(a), None) => format!("{a:.3}"),
        _ => "– (needs positive and negative cases)".into(),
    };
    let _ = write!(
        h,
        "<section class=\"label\" data-label=\"{}\"><h2>{}</h2>\
         <p>{} cases: {} positive, {} negative · AUC <strong class=\"auc\">{auc}</strong></p>\
         <table><tr><th>Operating point</th><th>Threshold</th><th>Sensitivity</th><th>Specificity</th>\
         <th>PPV</th><th>NPV</th><th>TP / FP / TN / FN</th></tr>",
        escape(&l.label),
        escape(&l.label),
        l.cases,
        l.positives,
        l.negatives,
    );
    operating_rows(h, "Manifest", &l.manifest);
    match &l.target {
        Some(t) => operating_rows(h, &format!("Sensitivity ≥ {:.0}%", target * 100.0), t),
        None => {
            let _ = write!(
                h,
                "<tr><td>Sensitivity ≥ {:.0}%</td><td colspan=\"6\">not reachable</td></tr>",
                target * 100.0
            );
        }
    }
    h.push_str("</table><div class=\"plots\">");
    roc_plot(h, &l.roc, &l.manifest, l.target.as_ref());
    match (&l.calibration, &l.calibration_note) {
        (Some(c), _) => reliability(h, c),
        (None, why) => {
            let _ = write!(
                h,
                "<p class=\"muted\">No calibration: {}</p>",
                escape(why.as_deref().unwrap_or("no cases"))
            );
        }
    }
    h.push_str("</div></section>");
}

const SIDE: f64 = 240.0;
const PAD: f64 = 30.0;

fn xy(x: f64, y: f64) -> (f64, f64) {
    (PAD + x * SIDE, PAD + (1.0 - y) * SIDE)
}

fn frame(h: &mut String, class: &str, label: &str, x_axis: &str, y_axis: &str) {
    let size = SIDE + 2.0 * PAD;
    let (x0, y0) = xy(0.0, 0.0);
    let (x1, y1) = xy(1.0, 1.0);
    let _ = write!(
        h,
        "<figure><svg class=\"{class}\" width=\"{size}\" height=\"{size}\" role=\"img\" aria-label=\"{label}\">\
         <rect x=\"{x0}\" y=\"{y1}\" width=\"{SIDE}\" height=\"{SIDE}\" fill=\"none\" stroke=\"#8c959f\"/>\
         <line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#d0d7de\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{x_axis}</text>\
         <text x=\"10\" y=\"{}\" transform=\"rotate(-90 10 {})\" text-anchor=\"middle\">{y_axis}</text>\
         <text x=\"{x0}\" y=\"{}\">0</text><text x=\"{x1}\" y=\"{}\" text-anchor=\"end\">1</text>",
        PAD + SIDE / 2.0,
        size - 6.0,
        PAD + SIDE / 2.0,
        PAD + SIDE / 2.0,
        y0 + 12.0,
        y0 + 12.0,
    );
}

fn roc_plot(h: &mut String, roc: &[RocPoint], manifest: &Operating, target: Option<&Operating>) {
    if roc.is_empty() {
        return;
    }
    frame(h, "roc", "ROC curve", "1 − specificity", "sensitivity");
    let points: Vec<String> = roc
        .iter()
        .map(|p| {
            let (x, y) = xy(p.fpr, p.tpr);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let _ = write!(
        h,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\"/>",
        points.join(" ")
    );
    for (o, colour) in [(Some(manifest), "#b42318"), (target, "#1a7f37")] {
        let Some(o) = o else { continue };
        if let (Some(se), Some(sp)) = (o.sensitivity, o.specificity) {
            let (x, y) = xy(1.0 - sp.value, se.value);
            let _ = write!(
                h,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"/>"
            );
        }
    }
    h.push_str(
        "</svg><figcaption>ROC curve; <span style=\"color:#b42318\">●</span> manifest threshold, \
         <span style=\"color:#1a7f37\">●</span> target sensitivity</figcaption></figure>",
    );
}

fn reliability(h: &mut String, c: &Calibration) {
    frame(
        h,
        "reliability",
        "Reliability diagram",
        "mean score",
        "fraction positive",
    );
    for b in &c.bins {
        let width = (b.high - b.low) * SIDE;
        let (x, y) = xy(b.predicted, b.observed);
        let (_, base) = xy(0.0, 0.0);
        let (bx, _) = xy(b.low, 0.0);
        let _ = write!(
            h,
            "<rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#ddf4ff\"/>\
             <circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"#0969da\"><title>{} cases</title></circle>",
            y,
            width - 1.0,
            base - y,
            b.count
        );
    }
    let _ = write!(
        h,
        "</svg><figcaption>Reliability diagram; Brier score <strong class=\"brier\">{:.4}</strong></figcaption></figure>",
        c.brier
    );
}

fn list(h: &mut String, id: &str, title: &str, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    if n == 0 {
        return;
    }
    let _ = write!(h, "<h2>{title}</h2><ul id=\"{id}\">");
    for item in items.take(LISTED) {
        let _ = write!(h, "<li>{}</li>", escape(&item));
    }
    if n > LISTED {
        let _ = write!(
            h,
            "<li class=\"muted\">and {} more (in the JSON)</li>",
            n - LISTED
        );
    }
    h.push_str("</ul>");
}
