//! `report.html`: one self-contained page (inline SVG and CSS, no script, no network): the
//! headline figures and the experiment's checked claims first, then the plots, then every
//! figure grouped by component, the experiment's words, the seed and configuration hash,
//! and the command that reproduces the run.

use super::headline;
use super::series::RunDir;
use crate::metrics::Summary;
use std::fmt::Write as _;
use std::path::Path;

/// A drawn chart, embedded as inline SVG.
#[derive(Clone, Debug)]
pub struct Figure {
    /// File stem (also the element id: `fig-<name>`).
    pub name: String,
    /// Caption.
    pub title: String,
    /// The SVG text.
    pub svg: String,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Quotes a shell word when it needs it.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Each variant's `summary.json`, in the run's variant order (missing ones skipped).
pub fn read_summaries(dir: &Path, run: &RunDir) -> Vec<Summary> {
    run.variants
        .iter()
        .filter_map(|v| {
            let text = std::fs::read_to_string(dir.join(&v.variant).join("summary.json")).ok()?;
            Summary::from_json_value(serde_json::from_str(&text).ok()?).ok()
        })
        .collect()
}

/// The report's context when only the outputs are at hand: the experiment file
/// `experiments/<name>.ron` (from the current directory) gives the comment block; the
/// command is rebuilt from the summary's seed.
pub fn context_from_outputs(dir: &Path) -> super::ReportContext {
    let first: Option<Summary> = std::fs::read_dir(dir).ok().and_then(|entries| {
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path().join("summary.json")))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        let text = std::fs::read_to_string(paths.first()?).ok()?;
        Summary::from_json_value(serde_json::from_str(&text).ok()?).ok()
    });
    let Some(s) = first else {
        return super::ReportContext::default();
    };
    let file = Path::new("experiments").join(format!("{}.ron", s.experiment));
    let comment = std::fs::read_to_string(&file)
        .map(|t| crate::config::leading_comment(&t))
        .unwrap_or_default();
    let command = format!(
        "scalesim run {} --seed {} --out {}",
        shell_word(&file.to_string_lossy()),
        s.seed,
        shell_word(&dir.to_string_lossy())
    );
    super::ReportContext { comment, command }
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:1150px;color:#222;line-height:1.45}\
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}\
pre{background:#f6f6f6;padding:.8em;white-space:pre-wrap;font-size:.9em}\
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th:first-child,td:first-child{text-align:left}thead th{background:#f0f0f0;position:sticky;top:0}\
figure{margin:1.5em 0}figcaption{color:#777;font-size:.8em}svg{max-width:100%;height:auto}\
nav a{margin-right:1em}.meta td{text-align:left}\
.lead{font-size:1.05em}details summary{cursor:pointer;color:#555}\
tr.group th{background:#fafafa;text-align:left;font-weight:bold;padding-top:.6em}\
ul.claims{list-style:none;padding-left:0}ul.claims li{margin:.2em 0}\
.held b{color:#1a7f37}.failed b,p.failed{color:#b3261e}.detail{color:#666}";

/// Each variant's `summary.json` as JSON, in the run's variant order (missing ones skipped).
pub fn read_summary_values(dir: &Path, run: &RunDir) -> Vec<serde_json::Value> {
    run.variants
        .iter()
        .filter_map(|v| {
            let text = std::fs::read_to_string(dir.join(&v.variant).join("summary.json")).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect()
}

/// One claim of the experiment as the run checked it (`DIR/claims.json`).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Claim {
    /// The claim as the experiment states it, e.g. `in-memory.sessions.spurious_logout_fraction > 0.7`.
    pub text: String,
    /// Whether the run shows it.
    pub held: bool,
    /// The figures it was checked on, e.g. `in-memory: 0.87`.
    #[serde(default)]
    pub detail: String,
}

#[derive(serde::Deserialize)]
struct ClaimsFile {
    claims: Vec<Claim>,
}

/// The run's checked claims: `None` when `DIR/claims.json` does not exist; an error naming
/// the file when it cannot be read.
pub fn read_claims(dir: &Path) -> Option<Result<Vec<Claim>, String>> {
    let path = dir.join("claims.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("{}: cannot read: {e}", path.display()))),
    };
    Some(
        serde_json::from_str::<ClaimsFile>(&text)
            .map(|c| c.claims)
            .map_err(|e| format!("{}: {e}", path.display())),
    )
}

fn push_rows_table(
    h: &mut String,
    id: &str,
    variants: &[String],
    groups: &[(Option<&str>, &[headline::Row])],
) {
    let _ = write!(h, "<table id=\"{id}\"><thead><tr><th>figure</th>");
    for v in variants {
        let _ = write!(h, "<th>{}</th>", esc(v));
    }
    h.push_str("</tr></thead><tbody>");
    for (name, rows) in groups {
        if let Some(n) = name {
            let _ = write!(
                h,
                "<tr class=\"group\"><th colspan=\"{}\">{}</th></tr>",
                variants.len() + 1,
                esc(n)
            );
        }
        for r in *rows {
            let _ = write!(h, "<tr><td>{}</td>", esc(&r.label));
            for c in &r.cells {
                let _ = write!(h, "<td>{}</td>", esc(c));
            }
            h.push_str("</tr>");
        }
    }
    h.push_str("</tbody></table>");
}

/// The report page of a run: the headline figures and the claims first, then the plots,
/// then every figure grouped by component, the experiment's words and how to reproduce it.
pub fn run_report(
    dir: &Path,
    run: &RunDir,
    figures: &[Figure],
    context: &super::ReportContext,
) -> Result<String, super::PlotError> {
    let summaries = read_summary_values(dir, run);
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let variants: Vec<String> = summaries.iter().map(|s| text(s, "variant")).collect();
    let name = summaries
        .first()
        .map(|s| text(s, "experiment"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>scalesim: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&name)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&name));
    if !context.comment.is_empty() {
        // The first line is the experiment's one-line summary; the rest folds away so the
        // figures and the plots come first.
        let first = context.comment.lines().next().unwrap_or_default();
        let _ = writeln!(
            h,
            "<section id=\"description\"><p class=\"lead\">{}</p>\
             <details><summary>What it shows and what to look for</summary><pre>{}</pre></details></section>",
            esc(first),
            esc(&context.comment)
        );
    }
    let head = headline::headline(&summaries);
    if !head.is_empty() {
        h.push_str("<section id=\"headline\"><h2>Headline figures</h2>");
        push_rows_table(&mut h, "headline-table", &variants, &[(None, &head)]);
        h.push_str("</section>\n");
    }
    match read_claims(dir) {
        None => {}
        Some(Err(e)) => {
            let _ = writeln!(
                h,
                "<section id=\"claims\"><h2>Claims</h2><p class=\"failed\">{}</p></section>",
                esc(&e)
            );
        }
        Some(Ok(claims)) => {
            let held = claims.iter().filter(|c| c.held).count();
            let _ = write!(
                h,
                "<section id=\"claims\"><h2>Claims: {held} of {} held</h2><ul class=\"claims\">",
                claims.len()
            );
            for c in &claims {
                let (class, mark) = if c.held {
                    ("held", "✓ held")
                } else {
                    ("failed", "✗ not held")
                };
                let _ = write!(
                    h,
                    "<li class=\"{class}\"><b>{mark}</b> <code>{}</code>",
                    esc(&c.text)
                );
                if !c.detail.is_empty() {
                    let _ = write!(h, " <span class=\"detail\">({})</span>", esc(&c.detail));
                }
                h.push_str("</li>");
            }
            h.push_str("</ul></section>\n");
        }
    }
    h.push_str("<section id=\"plots\"><h2>Plots</h2><nav>");
    for f in figures {
        let _ = write!(h, "<a href=\"#fig-{}\">{}</a> ", esc(&f.name), esc(&f.name));
    }
    h.push_str("</nav>\n");
    for f in figures {
        push_figure(&mut h, f);
    }
    h.push_str("</section>\n");
    let groups = headline::grouped(&summaries);
    if !groups.is_empty() {
        h.push_str("<section id=\"summary\"><h2>Every figure, by component</h2>");
        let parts: Vec<(Option<&str>, &[headline::Row])> = groups
            .iter()
            .map(|g| (Some(g.name.as_str()), g.rows.as_slice()))
            .collect();
        push_rows_table(&mut h, "summary-table", &variants, &parts);
        h.push_str("</section>\n");
    }
    // Reproduce.
    h.push_str("<section id=\"reproduce\"><h2>Reproduce</h2><table class=\"meta\">");
    if let Some(s) = summaries.first() {
        let _ = write!(h, "<tr><th>seed</th><td>{}</td></tr>", s["seed"]);
    }
    for s in &summaries {
        let _ = write!(
            h,
            "<tr><th>config hash of {}</th><td><code>{}</code></td></tr>",
            esc(&text(s, "variant")),
            esc(&text(s, "config_hash"))
        );
    }
    if !context.command.is_empty() {
        let _ = write!(
            h,
            "<tr><th>command</th><td><code>{}</code></td></tr>",
            esc(&context.command)
        );
    }
    h.push_str("</table></section>\n");
    h.push_str(
        "<footer><p>Written by scalesim from the files in this directory; \
                the plots are also in <code>plots/</code>.</p></footer>\n</body></html>\n",
    );
    Ok(h)
}

/// Appends one figure with its inline SVG (the XML declaration, if any, removed).
pub fn push_figure(h: &mut String, f: &Figure) {
    let svg = match f.svg.find("<svg") {
        Some(i) => &f.svg[i..],
        None => f.svg.as_str(),
    };
    let _ = write!(
        h,
        "<figure id=\"fig-{}\" class=\"plot\" aria-label=\"{}\">\n{}\n<figcaption>plots/{}.svg</figcaption></figure>\n",
        esc(&f.name),
        esc(&f.title),
        svg.trim(),
        esc(&f.name)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_quotes() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(shell_word("out/x"), "out/x");
        assert_eq!(shell_word("a b"), "'a b'");
    }
}
