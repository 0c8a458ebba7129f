//! The report as one self-contained HTML page: its styles, its script and
//! the report's JSON inline, nothing fetched; the script draws the matrix
//! and the horizon as SVG and lists the sampled people's explanations.

use super::Report;

/// The page, with the report and the language to stand in for.
const PAGE: &str = include_str!("page.html");

impl Report {
    /// The report as an HTML page; `language` is the explanations'
    /// language tag (`zh`), if known.
    pub fn html(&self, language: Option<&str>) -> String {
        // Inside `<script>`, no `<` may open a tag: every one in the JSON
        // (only ever in a string) is written as its escape.
        let json = serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
            .replace('<', "\\u003c");
        let lang: String = language
            .unwrap_or("en")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        PAGE.replace("{{LANG}}", &lang).replace("{{REPORT}}", &json)
    }
}
