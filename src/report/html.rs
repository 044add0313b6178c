//! `report.html`: one self-contained page (inline SVG and CSS, no script, no network) with
//! the experiment's description, the side-by-side summary table, the plots, the seed and
//! configuration hash, and the command that reproduces the run.

use super::series::RunDir;
use crate::metrics::Summary;
use crate::output::format_figure;
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
            serde_json::from_str(&text).ok()
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
        serde_json::from_str(&text).ok()
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
nav a{margin-right:1em}.meta td{text-align:left}";

/// The report page of a run.
pub fn run_report(
    dir: &Path,
    run: &RunDir,
    figures: &[Figure],
    context: &super::ReportContext,
) -> Result<String, super::PlotError> {
    let summaries = read_summaries(dir, run);
    let name = summaries
        .first()
        .map(|s| s.experiment.clone())
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
        let _ = writeln!(
            h,
            "<section id=\"description\"><h2>What it shows</h2><pre>{}</pre></section>",
            esc(&context.comment)
        );
    }
    // Reproduce.
    h.push_str("<section id=\"reproduce\"><h2>Reproduce</h2><table class=\"meta\">");
    if let Some(s) = summaries.first() {
        let _ = write!(h, "<tr><th>seed</th><td>{}</td></tr>", s.seed);
    }
    for s in &summaries {
        let _ = write!(
            h,
            "<tr><th>config hash of {}</th><td><code>{}</code></td></tr>",
            esc(&s.variant),
            esc(&s.config_hash)
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
    // Summary table: figures down, variants across.
    if !summaries.is_empty() {
        h.push_str("<section id=\"summary\"><h2>Summary, side by side</h2><table><thead><tr><th>figure</th>");
        for s in &summaries {
            let _ = write!(h, "<th>{}</th>", esc(&s.variant));
        }
        h.push_str("</tr></thead><tbody>");
        let names: Vec<String> = summaries[0].figures().into_iter().map(|(n, _)| n).collect();
        let all: Vec<Vec<(String, f64)>> = summaries.iter().map(Summary::figures).collect();
        for n in &names {
            let _ = write!(h, "<tr><td>{}</td>", esc(n));
            for f in &all {
                let v = f.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
                let cell = v.map(format_figure).unwrap_or_default();
                let _ = write!(
                    h,
                    "<td>{}</td>",
                    if cell.is_empty() { "–".into() } else { cell }
                );
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></section>\n");
    }
    h.push_str("<section id=\"plots\"><h2>Plots</h2><nav>");
    for f in figures {
        let _ = write!(h, "<a href=\"#fig-{}\">{}</a> ", esc(&f.name), esc(&f.name));
    }
    h.push_str("</nav>\n");
    for f in figures {
        push_figure(&mut h, f);
    }
    h.push_str(
        "</section>\n<footer><p>Written by scalesim from the files in this directory; \
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
