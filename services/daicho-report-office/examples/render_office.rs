//! Renders a report JSON as XLSX, CSV zip and DOCX into a directory, for a
//! person to open: `cargo run -p daicho-report-office --example render_office --
//! REPORT.json OUT_DIR [ja|en]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: render REPORT.json OUT_DIR [ja|en]".into());
    };
    let lang: daicho_report_office::Lang = args.get(3).map_or("ja", String::as_str).parse()?;
    let json = std::fs::read(input)?;
    let out = std::path::Path::new(out);
    std::fs::create_dir_all(out)?;
    let stem = format!("report-{}", lang.code());
    std::fs::write(
        out.join(format!("{stem}.xlsx")),
        daicho_report_office::xlsx(&json, lang)?,
    )?;
    std::fs::write(
        out.join(format!("{stem}.csv.zip")),
        daicho_report_office::csv_zip(&json, lang)?,
    )?;
    std::fs::write(
        out.join(format!("{stem}.docx")),
        daicho_report_office::docx(&json, lang)?,
    )?;
    Ok(())
}
