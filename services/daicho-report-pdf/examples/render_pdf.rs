//! Renders a report JSON file to a PDF and prints how long it took:
//! `cargo run --release -p daicho-report-pdf --example render_pdf -- REPORT.json OUT.pdf [ja|en]`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(output)) = (args.next(), args.next()) else {
        return Err("usage: render_pdf REPORT.json OUT.pdf [ja|en]".into());
    };
    let lang: daicho_report::Lang = args.next().as_deref().unwrap_or("ja").parse()?;
    let json = std::fs::read(&input)?;
    let started = Instant::now();
    let pdf = daicho_report_pdf::render(&json, lang)?;
    let elapsed = started.elapsed();
    std::fs::write(&output, &pdf)?;
    println!(
        "{output}: {} bytes in {:.0} ms",
        pdf.len(),
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}
