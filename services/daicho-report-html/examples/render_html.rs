//! Renders a report's JSON as HTML: `cargo run -p daicho-report-html
//! --example render_html -- REPORT.json [ja|en] > report.html`.

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: render REPORT.json [ja|en]");
    let lang = args
        .next()
        .unwrap_or_else(|| "ja".to_owned())
        .parse()
        .expect("ja or en");
    let json = std::fs::read(&path).expect("the report can be read");
    let html = daicho_report_html::render(&json, lang).expect("the report renders");
    std::io::stdout()
        .write_all(html.as_bytes())
        .expect("stdout is writable");
}
