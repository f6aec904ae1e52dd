//! Payloads made from the catalogue's examples.
//!
//! Every payload starts as a copy of its event type's example, the shape
//! the catalogue documents and validates, and is then filled in: the
//! example's identifiers are renamed to the world's (the examples use one
//! set of sample values throughout, e.g. staff `K-10234` and application
//! `USB-2026-0001`, so renaming a value renames it in every type), its
//! date-times and dates are moved to the act's time, and finally explicit
//! overrides set members by JSON pointer. Values keep their JSON type and
//! format, so a filled payload validates whenever the example does; a test
//! checks every generated payload against its schema.

use std::rc::Rc;

use serde_json::{Map, Value};

use crate::calendar;

/// How to fill one example.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fill {
    /// Example string → the value to put in its place, matched exactly.
    pub(crate) renames: Vec<(String, String)>,
    /// Renames shared by every act about one member of staff, consulted
    /// after `renames`; shared because a fill is made for every event.
    pub(crate) base: Rc<[(String, String)]>,
    /// The act's moment; example date-times become this.
    pub(crate) at: i64,
    /// The period the act concerns; example `from` and `until` become it.
    pub(crate) period: Option<(i64, i64)>,
    /// Where a date-valued `valid_until` ends (the fiscal year's end).
    pub(crate) valid_until: Option<String>,
    pub(crate) fiscal_year: i32,
    /// `(pointer, value)`; `Value::Null` removes the member.
    pub(crate) overrides: Vec<(String, Value)>,
}

impl Fill {
    /// Renames `from` to `to` wherever it appears in the example, taking
    /// precedence over the renames already given.
    pub(crate) fn rename(&mut self, from: &str, to: impl Into<String>) -> &mut Fill {
        self.renames.insert(0, (from.to_owned(), to.into()));
        self
    }

    /// Sets (or, with `Value::Null`, removes) the member at `pointer`.
    pub(crate) fn set(&mut self, pointer: &str, value: Value) -> &mut Fill {
        self.overrides.push((pointer.to_owned(), value));
        self
    }

    /// The filled payload.
    pub(crate) fn apply(&self, example: &Value) -> Map<String, Value> {
        let mut value = example.clone();
        self.walk(&mut value, None);
        for (pointer, new) in &self.overrides {
            set_pointer(&mut value, pointer, new.clone());
        }
        match value {
            Value::Object(map) => map,
            _ => unreachable!("examples of event payloads are objects"),
        }
    }

    fn walk(&self, value: &mut Value, key: Option<&str>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    self.walk(v, Some(k));
                }
            }
            Value::Array(items) => {
                for v in items {
                    self.walk(v, key);
                }
            }
            Value::String(s) => {
                if let Some(new) = self.string(s, key) {
                    *s = new;
                }
            }
            Value::Number(_) if key == Some("fiscal_year") => {
                *value = Value::from(self.fiscal_year);
            }
            _ => {}
        }
    }

    fn string(&self, s: &str, key: Option<&str>) -> Option<String> {
        if let Some((_, to)) = self
            .renames
            .iter()
            .chain(self.base.iter())
            .find(|(from, _)| from == s)
        {
            return Some(to.clone());
        }
        let (from, until) = self
            .period
            .unwrap_or((self.at, self.at + 2 * calendar::HOUR));
        if is_timestamp(s) {
            let moment = match key {
                Some("from") => from,
                Some("until") => until,
                Some("expected_return") => self.at + 4 * calendar::HOUR,
                Some("noticed_at" | "sent_at" | "published_at") => self.at - 20 * 60,
                _ => self.at,
            };
            return Some(calendar::timestamp(moment));
        }
        if is_date(s) {
            let day = calendar::day_of(self.at);
            let text = match key {
                Some("from") => calendar::date_text(calendar::day_of(from)),
                Some("until") => calendar::date_text(calendar::day_of(until)),
                Some("valid_until" | "retention_until") => {
                    self.valid_until.clone().unwrap_or_else(|| s.to_owned())
                }
                Some("due" | "next_due" | "work_ends_on" | "end_date" | "committee_meeting") => {
                    calendar::date_text(calendar::plus_days(day, 30))
                }
                _ => calendar::date_text(day),
            };
            return Some(text);
        }
        if key == Some("for_month") {
            let next = calendar::add_months(calendar::day_of(self.at), 1);
            return Some(calendar::month_text(next));
        }
        None
    }
}

fn is_timestamp(s: &str) -> bool {
    s.len() == 25 && s.as_bytes()[10] == b'T' && s.ends_with("+09:00") && is_date(&s[..10])
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Sets the member at an RFC 6901 pointer, creating objects on the way;
/// `Value::Null` removes it instead.
fn set_pointer(root: &mut Value, pointer: &str, new: Value) {
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut here = root;
    for token in parents {
        let Value::Object(map) = here else { return };
        here = map
            .entry((*token).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(map) = here {
        if new.is_null() {
            map.remove(*last);
        } else {
            map.insert((*last).to_owned(), new);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renames_moves_times_and_overrides() {
        let example = json!({
            "application_id": "USB-2026-0001",
            "applicant": {"staff_id": "K-10234"},
            "period": {"from": "2026-06-01T17:15:00+09:00", "until": "2026-06-01T20:00:00+09:00"},
            "valid_until": "2027-03-31",
            "fiscal_year": 2026,
            "note": "remove me"
        });
        let day = calendar::date(2026, 7, 3);
        let mut fill = Fill {
            at: calendar::at(day, 10, 0),
            period: Some((calendar::at(day, 17, 15), calendar::at(day, 19, 0))),
            valid_until: Some("2027-03-31".into()),
            fiscal_year: 2026,
            ..Fill::default()
        };
        fill.rename("USB-2026-0001", "USB-2026-0042")
            .rename("K-10234", "K-10001")
            .set("/note", Value::Null)
            .set("/extension/form", json!(10));
        let filled = Value::Object(fill.apply(&example));
        assert_eq!(
            filled,
            json!({
                "application_id": "USB-2026-0042",
                "applicant": {"staff_id": "K-10001"},
                "period": {"from": "2026-07-03T17:15:00+09:00", "until": "2026-07-03T19:00:00+09:00"},
                "valid_until": "2027-03-31",
                "fiscal_year": 2026,
                "extension": {"form": 10}
            })
        );
    }
}
