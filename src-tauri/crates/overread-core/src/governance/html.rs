//! The report as one self-contained HTML file for a governance meeting:
//! inline styles and SVG plots, no script, nothing fetched.

use std::fmt::Write;

use super::report::{Agreement, ModelReport, Report, ScoreDrift, WeekReport};

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:.1}%", v * 100.0))
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn secs(ms: Option<f64>) -> String {
    ms.map_or("–".into(), |ms| format!("{:.1} s", ms / 1000.0))
}

// A printed page's colours, whatever the viewer's dark-mode preference.
pub(crate) const STYLE: &str = ":root{color-scheme:light}\
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:64em;color:#1b1f24;background:#fff;padding:0 1em}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #1b1f24}h3{margin-top:1.5em}\
table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .6em;border-bottom:1px solid #d0d7de;text-align:right}\
th:first-child,td:first-child{text-align:left}.alerts{border:2px solid #b42318;background:#fef3f2;padding:.5em 1em}\
.ok{border:2px solid #1a7f37;background:#f0fff4;padding:.5em 1em}.alert{color:#b42318;font-weight:600}\
.muted{color:#57606a}.plots{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.9em}\
svg text{font:10px system-ui,sans-serif}";

/// The whole report as HTML.
pub fn render(r: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let o = &r.options;
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Overread governance report {} to {}</title><style>{STYLE}</style></head><body>\
         <h1>AI governance report</h1><p>{} to {} · baseline {} to {} · {}<br>\
         <span class=\"muted\">Generated {} by Overread {} from {} rows. Drift alert at PSI ≥ {} or KS p &lt; {} (D ≥ 0.1), with at least {} scores in each window.</span></p>",
        escape(&o.period.from),
        escape(&o.period.to),
        escape(&o.period.from),
        escape(&o.period.to),
        escape(&o.baseline.from),
        escape(&o.baseline.to),
        escape(&r.scope),
        escape(&r.generated_at),
        crate::APP_VERSION,
        r.rows,
        o.psi_alert,
        o.ks_alert_p,
        o.min_samples,
    );
    if r.drift_alerts.is_empty() && r.chain_alerts.is_empty() {
        h.push_str("<div class=\"ok\" id=\"alerts\">No drift or chain alerts.</div>");
    } else {
        h.push_str("<div class=\"alerts\" id=\"alerts\"><strong>Alerts</strong><ul>");
        for a in &r.drift_alerts {
            let _ = write!(
                h,
                "<li class=\"drift-alert\" data-what=\"{}\">{}</li>",
                escape(&a.what),
                escape(&a.message)
            );
        }
        for a in &r.chain_alerts {
            let _ = write!(
                h,
                "<li class=\"chain-alert\">Chain refused by the store: {}</li>",
                escape(a)
            );
        }
        h.push_str("</ul></div>");
    }
    if r.models.is_empty() {
        h.push_str("<p>No AI results or decisions in these windows.</p>");
    }
    for m in &r.models {
        model(&mut h, m);
    }
    h.push_str(
        "<h2>Method</h2><p class=\"muted\">Each model version is reported on its own; decisions on one \
         are never pooled with another's. Agreement counts the decisions that stand (a corrected \
         decision is replaced by its correction). PPV is flags accepted by readers over flags \
         decided. Flag rate is images flagged over images scored; an image scored on two \
         workstations counts once. Drift compares each finding's score distribution in the period \
         with the baseline window (population stability index over ten equal bins; two-sample \
         Kolmogorov–Smirnov over a hundred) and the mix of manufacturer, modality, view, kVp, \
         exposure and image mean brightness (PSI over categories).</p></body></html>\n",
    );
    h
}

fn agreement_cells(h: &mut String, a: &Agreement) {
    let _ = write!(
        h,
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        a.accepted,
        a.rejected,
        a.added,
        pct(a.ppv),
        secs(a.median_ms)
    );
}

const AGREEMENT_HEADS: &str =
    "<th>accepted</th><th>rejected</th><th>added</th><th>PPV</th><th>median time</th>";

fn model(h: &mut String, m: &ModelReport) {
    let k = &m.model;
    let _ = write!(
        h,
        "<section class=\"model\" data-model=\"{} {}\"><h2>{} {}</h2>\
         <p class=\"muted\">sha256 {} · {} images scored · {} decisions · flags PPV {} · median time to decision {}</p>",
        escape(&k.name),
        escape(&k.version),
        escape(&k.name),
        escape(&k.version),
        escape(&k.sha256),
        m.images,
        m.decisions,
        pct(m.overall.ppv),
        secs(m.overall.median_ms),
    );
    h.push_str("<h3>Per finding</h3><table class=\"findings\"><tr><th>finding</th><th>images</th><th>flagged</th><th>flag rate</th>");
    h.push_str(AGREEMENT_HEADS);
    h.push_str("</tr>");
    for f in &m.findings {
        let _ = write!(
            h,
            "<tr data-finding=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(&f.finding),
            escape(&f.finding),
            f.images,
            f.flagged,
            pct(f.flag_rate)
        );
        agreement_cells(h, &f.agreement);
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    for (title, class, groups) in [
        ("Per reader", "readers", &m.readers),
        ("Per workstation", "workstations", &m.workstations),
    ] {
        let _ = write!(
            h,
            "<h3>{title}</h3><table class=\"{class}\"><tr><th></th>{AGREEMENT_HEADS}</tr>"
        );
        for g in groups.iter() {
            let _ = write!(h, "<tr><td>{}</td>", escape(&g.key));
            agreement_cells(h, &g.agreement);
            h.push_str("</tr>");
        }
        h.push_str("</table>");
        if class == "readers" && !groups.is_empty() {
            agreement_plot(h, groups.iter().map(|g| (g.key.as_str(), &g.agreement)));
        }
    }
    trends(h, &m.weeks);
    if m.read_first_studies > 0 {
        let _ = write!(
            h,
            "<h3>Read-first</h3><p class=\"muted\">{} studies read unaided first.</p>\
             <table class=\"read-first\"><tr><th>finding</th><th>unaided positive</th><th>AI flagged</th>\
             <th>final positive</th><th>unaided agreed with AI</th><th>changed after AI</th><th>of which towards AI</th></tr>",
            m.read_first_studies
        );
        for r in &m.read_first {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&r.finding),
                r.unaided_positive,
                r.ai_flagged,
                r.final_positive,
                r.unaided_agreed_with_ai,
                r.changed_after_ai,
                r.changed_towards_ai
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h3>Score drift against the baseline</h3><div class=\"plots\">");
    for d in &m.score_drift {
        histogram(h, d);
    }
    h.push_str("</div><h3>Acquisition mix against the baseline</h3>");
    for mix in &m.mix_drift {
        let _ = write!(
            h,
            "<table class=\"mix\" data-attribute=\"{}\"><tr><th>{} (PSI {}){}</th><th>period ({})</th><th>baseline ({})</th></tr>",
            escape(&mix.attribute),
            escape(&mix.attribute),
            num(mix.psi, 3),
            if mix.alert {
                " <span class=\"alert\">drift</span>"
            } else {
                ""
            },
            mix.n_period,
            mix.n_baseline,
        );
        for (name, p, b) in &mix.categories {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(name),
                pct(Some(*p)),
                pct(Some(*b))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</section>");
}

/// Stacked bars: accepted, rejected and added per reader.
fn agreement_plot<'a>(h: &mut String, rows: impl Iterator<Item = (&'a str, &'a Agreement)>) {
    let rows: Vec<_> = rows.collect();
    let max = rows
        .iter()
        .map(|(_, a)| a.accepted + a.rejected + a.added)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let height = 22 * rows.len() + 24;
    let _ = write!(
        h,
        "<figure><svg class=\"agreement-plot\" width=\"560\" height=\"{height}\" role=\"img\" aria-label=\"Agreement per reader\">"
    );
    for (i, (key, a)) in rows.iter().enumerate() {
        let y = 22 * i;
        let _ = write!(h, "<text x=\"0\" y=\"{}\">{}</text>", y + 14, escape(key));
        let mut x = 180.0;
        for (count, colour) in [
            (a.accepted, "#1a7f37"),
            (a.rejected, "#b42318"),
            (a.added, "#9a6700"),
        ] {
            let w = count as f64 / max * 360.0;
            let _ = write!(
                h,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"16\" fill=\"{colour}\"><title>{count}</title></rect>"
            );
            x += w;
        }
    }
    let _ = write!(
        h,
        "<text x=\"180\" y=\"{}\" fill=\"#1a7f37\">accepted</text><text x=\"250\" y=\"{}\" fill=\"#b42318\">rejected</text><text x=\"320\" y=\"{}\" fill=\"#9a6700\">added</text></svg></figure>",
        height - 4,
        height - 4,
        height - 4
    );
}

/// Weekly flag rate and PPV per finding, as lines.
fn trends(h: &mut String, weeks: &[WeekReport]) {
    let mut labels: Vec<&str> = weeks.iter().map(|w| w.week.as_str()).collect();
    labels.dedup();
    if labels.len() < 2 {
        return;
    }
    let mut findings: Vec<&str> = weeks.iter().map(|w| w.finding.as_str()).collect();
    findings.sort_unstable();
    findings.dedup();
    h.push_str("<h3>Trends per week</h3><div class=\"plots\">");
    let (w, ht) = (300.0, 120.0);
    let x = |i: usize| 30.0 + i as f64 * (w - 40.0) / (labels.len() - 1) as f64;
    for f in findings {
        let _ = write!(
            h,
            "<figure><svg class=\"trend\" data-finding=\"{}\" width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"Weekly flag rate and PPV\">\
             <line x1=\"30\" y1=\"{ht}\" x2=\"{}\" y2=\"{ht}\" stroke=\"#57606a\"/>",
            escape(f),
            ht + 20.0,
            w - 10.0
        );
        for (series, colour) in [("flag rate", "#0969da"), ("PPV", "#1a7f37")] {
            let points: Vec<String> = labels
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    let row = weeks.iter().find(|r| r.week == *l && r.finding == f)?;
                    let v = if series == "PPV" {
                        row.agreement.ppv
                    } else {
                        row.flag_rate
                    }?;
                    Some(format!("{:.1},{:.1}", x(i), ht - v * (ht - 10.0)))
                })
                .collect();
            let _ = write!(
                h,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                points.join(" ")
            );
        }
        let _ = write!(
            h,
            "<text x=\"30\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text></svg>\
             <figcaption>{}: <span style=\"color:#0969da\">flag rate</span>, <span style=\"color:#1a7f37\">PPV</span></figcaption></figure>",
            ht + 14.0,
            escape(labels[0]),
            w - 10.0,
            ht + 14.0,
            escape(labels[labels.len() - 1]),
            escape(f)
        );
    }
    h.push_str("</div>");
}

/// Score histogram: the period's shares beside the baseline's.
fn histogram(h: &mut String, d: &ScoreDrift) {
    let (w, ht) = (300.0, 120.0);
    let max = d
        .period_shares
        .iter()
        .chain(&d.baseline_shares)
        .fold(0.01_f64, |a, &b| a.max(b));
    let _ = write!(
        h,
        "<figure><svg class=\"histogram\" data-finding=\"{}\" data-alert=\"{}\" width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"Score histogram\">",
        escape(&d.finding),
        d.alert,
        ht + 16.0
    );
    let bin = (w - 20.0) / d.period_shares.len().max(1) as f64;
    for (i, (p, b)) in d.period_shares.iter().zip(&d.baseline_shares).enumerate() {
        let x = 10.0 + i as f64 * bin;
        for (j, (v, colour)) in [(b, "#8c959f"), (p, "#0969da")].into_iter().enumerate() {
            let bh = v / max * (ht - 10.0);
            let _ = write!(
                h,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{colour}\"/>",
                x + j as f64 * bin / 2.0,
                ht - bh,
                bin / 2.0 - 1.0
            );
        }
    }
    let _ = write!(
        h,
        "<text x=\"10\" y=\"{}\">0</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">1</text></svg><figcaption>{}{}: \
         PSI {}, KS D {} (p {}), {} scores vs {} <span style=\"color:#0969da\">period</span> / \
         <span style=\"color:#8c959f\">baseline</span>{}</figcaption></figure>",
        ht + 12.0,
        w - 10.0,
        ht + 12.0,
        escape(&d.finding),
        if d.alert {
            " <span class=\"alert\">drift</span>"
        } else {
            ""
        },
        num(d.psi, 3),
        num(d.ks_d, 3),
        d.ks_p.map_or("–".into(), |p| format!("{p:.1e}")),
        d.n_period,
        d.n_baseline,
        d.note
            .as_ref()
            .map_or(String::new(), |n| format!("<br>{}", escape(n))),
    );
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
