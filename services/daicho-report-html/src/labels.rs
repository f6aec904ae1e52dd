//! The words the report's frame is written in: headings, column heads and
//! the names of codes the JSON holds only as codes. The report's own texts
//! come from the JSON, which holds them in both languages.

use daicho_report::Lang;

/// Picks the Japanese or the English of a label.
pub(crate) fn t(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    lang.pick(ja, en)
}

/// The name of a finding's severity.
pub(crate) fn severity(lang: Lang, code: &str, ja: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => match code {
            "high" => "high",
            "medium" => "medium",
            "low" => "low",
            other => other,
        }
        .to_owned(),
    }
}

/// The name of a finding's kind.
pub(crate) fn kind(lang: Lang, code: &str, ja: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => code.replace('_', " "),
    }
}

/// The name of a finding's state.
pub(crate) fn state(lang: Lang, code: &str, ja: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => code.replace('_', " "),
    }
}

/// The name of a remark's kind.
pub(crate) fn remark_kind(lang: Lang, code: &str, ja: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => code.replace('_', " "),
    }
}

/// Who recorded a remark, by role.
pub(crate) fn remarked_by(lang: Lang, code: &str, ja: Option<&str>) -> String {
    match (lang, ja) {
        (Lang::Ja, Some(ja)) => ja.to_owned(),
        _ => match code {
            "secretariat" => t(lang, "事務局", "secretariat").to_owned(),
            "committee" => t(lang, "情報化推進委員会", "committee").to_owned(),
            other => other.to_owned(),
        },
    }
}

/// The direction of a change of status.
pub(crate) fn direction(lang: Lang, code: &str) -> &'static str {
    match code {
        "better" => t(lang, "改善", "better"),
        "worse" => t(lang, "悪化", "worse"),
        _ => t(lang, "その他", "other"),
    }
}

/// An article's label: `第7条` or `Art. 7`.
pub(crate) fn article(lang: Lang, number: u32, ja: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => format!("Art. {number}"),
    }
}

/// A chapter's label: `第2章` or `Chapter 2`.
pub(crate) fn chapter(lang: Lang, number: u32, ja: &str) -> String {
    match lang {
        Lang::Ja => ja.to_owned(),
        Lang::En => format!("Chapter {number}"),
    }
}

/// A count of findings or records: `64件` or `64`.
pub(crate) fn items(lang: Lang, n: u64) -> String {
    match lang {
        Lang::Ja => format!("{n}件"),
        Lang::En => format!("{n}"),
    }
}

/// A number of findings: `7件` or `7 findings`.
pub(crate) fn findings_count(lang: Lang, n: u64) -> String {
    match (lang, n) {
        (Lang::Ja, _) => format!("{n}件"),
        (Lang::En, 1) => "1 finding".to_owned(),
        (Lang::En, _) => format!("{n} findings"),
    }
}

/// A number of register rows: `2件` or `2 rows`.
pub(crate) fn rows_count(lang: Lang, n: u64) -> String {
    match (lang, n) {
        (Lang::Ja, _) => format!("{n}件"),
        (Lang::En, 1) => "1 row".to_owned(),
        (Lang::En, _) => format!("{n} rows"),
    }
}

/// A threshold group's name.
pub(crate) fn threshold_group(lang: Lang, code: &str) -> String {
    let (ja, en) = match code {
        "latency" => ("期限", "time limits"),
        "cadence" => ("頻度", "cadence"),
        "ageing" => ("未処理の滞留", "ageing"),
        "operating_hours" => ("開庁時間", "operating hours"),
        "late_entry" => ("遅延記録", "late entry"),
        other => return other.to_owned(),
    };
    lang.pick(ja, en).to_owned()
}
