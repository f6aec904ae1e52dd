//! The generator's working state: the world, the quarter, the random
//! stream and the acts drafted so far, with the helpers every lifecycle
//! uses (moments, payload fills, actors, planted violations).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use daicho_catalogue::Catalogue;
use serde_json::{Map, Value};
use time::Date;

use crate::calendar::{self, Quarter};
use crate::prng::Rng;
use crate::template::Fill;
use crate::world::World;
use crate::{Config, ViolationKind};

/// One act before it has an event id and a signature.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub(crate) at: i64,
    /// Drafting order, which breaks ties between equal moments.
    pub(crate) order: u64,
    pub(crate) event_type: String,
    pub(crate) version: u32,
    pub(crate) actor_id: String,
    pub(crate) role: String,
    pub(crate) payload: Map<String, Value>,
    pub(crate) planted: Option<(ViolationKind, String)>,
}

/// Who acts: a member of staff, or a party outside the staff roll.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Who {
    Staff(usize),
    Other(&'static str),
}

pub(crate) struct Gen<'a> {
    pub(crate) config: &'a Config,
    pub(crate) catalogue: &'a Catalogue,
    pub(crate) world: World,
    pub(crate) quarter: Quarter,
    pub(crate) rng: Rng,
    pub(crate) drafts: Vec<Draft>,
    /// The latest version of each type and that version's first example.
    examples: BTreeMap<String, (u32, Value)>,
    counters: HashMap<String, u64>,
    planted_kinds: BTreeSet<ViolationKind>,
    /// Days on which a member of staff does not use a terminal (between a
    /// lost card and its replacement).
    pub(crate) away: Vec<(usize, Date, Date)>,
    /// A member of staff's new cards, each from a day on.
    pub(crate) card_changes: HashMap<usize, Vec<(Date, String)>>,
    /// Each member of staff's renames (see [`Gen::fill`]).
    bases: Vec<Rc<[(String, String)]>>,
    /// Each hire's first day and each departure's last day.
    pub(crate) first_day: HashMap<usize, Date>,
    pub(crate) last_day: HashMap<usize, Date>,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(config: &'a Config, catalogue: &'a Catalogue) -> Gen<'a> {
        let rng = Rng::new(config.seed);
        let mut world_rng = rng.fork(1);
        let staff_n = config.sections.max(2) * config.staff_per_section.max(3);
        let hires = (staff_n / 40).max(1) * config.scale.max(1);
        let world = World::new(
            &mut world_rng,
            config.sections,
            config.staff_per_section,
            hires,
        );
        let examples = catalogue
            .event_types()
            .iter()
            .filter_map(|summary| {
                let detail = catalogue.event_type(summary.name.as_str())?;
                let version = detail.versions.last()?;
                let example = version.examples.first()?.clone();
                Some((summary.name.to_string(), (version.version, example)))
            })
            .collect();
        let bases = (0..world.staff.len()).map(|s| base(&world, s)).collect();
        Gen {
            bases,
            config,
            catalogue,
            world,
            quarter: Quarter::new(config.fiscal_year, config.quarter),
            rng: rng.fork(2),
            drafts: Vec::new(),
            examples,
            counters: HashMap::new(),
            planted_kinds: BTreeSet::new(),
            away: Vec::new(),
            card_changes: HashMap::new(),
            first_day: HashMap::new(),
            last_day: HashMap::new(),
        }
    }

    /// The catalogue's event types that have an example, by name.
    pub(crate) fn types(&self) -> impl Iterator<Item = &str> {
        self.examples.keys().map(String::as_str)
    }

    /// The example a type's payloads are made from.
    pub(crate) fn example(&self, event_type: &str) -> Option<&Value> {
        self.examples.get(event_type).map(|(_, e)| e)
    }

    pub(crate) fn scale(&self) -> usize {
        self.config.scale.max(1)
    }

    pub(crate) fn fy(&self) -> i32 {
        self.quarter.fiscal_year
    }

    /// The next number of a named sequence, from 1.
    pub(crate) fn next(&mut self, sequence: &str) -> u64 {
        let n = self.counters.entry(sequence.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// Whether this instance of a lifecycle breaks the rule `kind` guards:
    /// with probability `violation_rate`, and always for the first
    /// instance of each kind when the rate is positive, so that every kind
    /// is present in every generated quarter.
    pub(crate) fn violate(&mut self, kind: ViolationKind) -> bool {
        if self.config.violation_rate <= 0.0 {
            return false;
        }
        if self.planted_kinds.insert(kind) {
            return true;
        }
        self.rng.chance(self.config.violation_rate)
    }

    /// A moment on `day` between two times of day, in minutes.
    pub(crate) fn moment(&mut self, day: Date, from_minute: i64, until_minute: i64) -> i64 {
        calendar::at(day, 0, self.rng.range(from_minute, until_minute))
    }

    /// A moment `lo..=hi` minutes after `t`.
    pub(crate) fn after(&mut self, t: i64, lo: i64, hi: i64) -> i64 {
        t + 60 * self.rng.range(lo, hi)
    }

    /// A random business day with index in `from..until` (clamped).
    pub(crate) fn business_day(&mut self, from: usize, until: usize) -> (usize, Date) {
        let days = &self.quarter.business_days;
        let until = until.min(days.len()).max(1);
        let from = from.min(until - 1);
        let i = from + self.rng.below((until - from) as u64) as usize;
        (i, self.quarter.business_days[i])
    }

    /// The business day `n` business days after index `i` (clamped to the
    /// quarter's last business day).
    pub(crate) fn day_after(&self, i: usize, n: usize) -> (usize, Date) {
        let j = (i + n).min(self.quarter.business_days.len() - 1);
        (j, self.quarter.business_days[j])
    }

    /// A member of staff who was on the roll when the quarter began, from
    /// `section` or from anywhere.
    pub(crate) fn someone(&mut self, section: Option<usize>) -> usize {
        match section {
            Some(s) => {
                let per = self.config.staff_per_section.max(3);
                self.world.sections[s].manager + self.rng.below(per as u64) as usize
            }
            None => self.rng.below(self.world.on_roll as u64) as usize,
        }
    }

    /// The person holding `role` for acts concerning member of staff `s`.
    pub(crate) fn holder(&self, role: &str, s: usize) -> Who {
        let w = &self.world;
        Who::Staff(match role {
            "cio" | "cio_designee" => w.cio,
            "chief_info_manager" => w.chief_info_manager,
            "info_officer" | "audited_department" => w.officers[w.department_of(s)],
            "info_manager" => w.sections[w.staff[s].section].manager,
            "network_admin" => w.network_admin,
            "system_admin" => w.systems[s % w.systems.len()].admin,
            "auditor" => w.auditor,
            "contractor" => return Who::Other("V-031"),
            "visitor" => return Who::Other("visitor-0001"),
            "committee" => return Who::Other("security-committee"),
            _ => s,
        })
    }

    /// The role a type's actor acts in when a lifecycle does not say:
    /// the form's submitter, approver, consenter or confirmer where the
    /// type records a form's use, otherwise the first actor role of the
    /// first article the type serves.
    pub(crate) fn default_role(&self, event_type: &str) -> String {
        let last = event_type.rsplit('.').next().unwrap_or_default();
        let is_approval = event_type.contains(".approval.");
        let by_applicant = matches!(last, "requested" | "withdrawn");
        if let Some(form) = self
            .catalogue
            .forms()
            .iter()
            .find(|f| f.event_types.iter().any(|t| t == event_type))
        {
            let roles = if is_approval {
                if by_applicant {
                    &form.submitted_by
                } else {
                    &form.approved_by
                }
            } else if event_type.contains(".consent.") {
                &form.consented_by
            } else if last == "confirmed" {
                &form.confirmed_by
            } else {
                &form.submitted_by
            };
            if let Some(role) = roles.first() {
                return role.clone();
            }
        }
        if is_approval {
            return if by_applicant {
                "info_manager"
            } else {
                "network_admin"
            }
            .to_owned();
        }
        let articles = self
            .catalogue
            .event_types()
            .iter()
            .find(|s| s.name.as_str() == event_type)
            .map(|s| s.articles.clone())
            .unwrap_or_default();
        for number in articles {
            let Some(article) = self.catalogue.article(number) else {
                continue;
            };
            for role in &article.roles {
                let acts = self.catalogue.role(role).is_some_and(|r| r.is_actor_role());
                if acts && !matches!(role.as_str(), "committee" | "visitor") {
                    return role.clone();
                }
            }
        }
        "staff".to_owned()
    }

    /// The fill of an act at `at` concerning member of staff `s`: the
    /// examples' sample people, places, devices and systems renamed to
    /// `s`'s and to those around them, and `s`'s card as of that day.
    pub(crate) fn fill(&self, at: i64, s: usize) -> Fill {
        let mut fill = Fill {
            at,
            fiscal_year: self.fy(),
            valid_until: Some(calendar::date_text(self.quarter.fiscal_year_end())),
            base: Rc::clone(&self.bases[s]),
            ..Fill::default()
        };
        if self.card_changes.contains_key(&s) {
            let card = self.card_of(s, calendar::day_of(at));
            if card != self.world.staff[s].card {
                fill.rename("IC-55102", card);
            }
        }
        fill
    }

    /// The IC card member of staff `s` holds on `day`.
    pub(crate) fn card_of(&self, s: usize, day: Date) -> String {
        self.card_changes
            .get(&s)
            .and_then(|changes| {
                changes
                    .iter()
                    .filter(|(from, _)| *from <= day)
                    .max_by_key(|(from, _)| *from)
            })
            .map_or_else(|| self.world.staff[s].card.clone(), |(_, c)| c.clone())
    }

    /// Drafts one act, if the catalogue has the type; returns its index.
    pub(crate) fn emit(
        &mut self,
        event_type: &str,
        at: i64,
        who: Who,
        role: &str,
        fill: &Fill,
    ) -> Option<usize> {
        let (version, example) = self.examples.get(event_type)?;
        let payload = fill.apply(example);
        let actor_id = match who {
            Who::Staff(s) => self.world.staff[s].id.clone(),
            Who::Other(id) => id.to_owned(),
        };
        let order = self.drafts.len() as u64;
        self.drafts.push(Draft {
            at,
            order,
            event_type: event_type.to_owned(),
            version: *version,
            actor_id,
            role: role.to_owned(),
            payload,
            planted: None,
        });
        Some(self.drafts.len() - 1)
    }

    /// Drafts one act by the default holder of the type's default role.
    pub(crate) fn emit_default(
        &mut self,
        event_type: &str,
        at: i64,
        s: usize,
        fill: &Fill,
    ) -> Option<usize> {
        let role = self.default_role(event_type);
        let who = self.holder(&role, s);
        self.emit(event_type, at, who, &role, fill)
    }

    /// Records that the drafted act `index` breaks the rule `kind` guards.
    pub(crate) fn plant(&mut self, index: Option<usize>, kind: ViolationKind, subject: &str) {
        if let Some(i) = index {
            self.drafts[i].planted = Some((kind, subject.to_owned()));
        }
    }
}

/// The renames of every act about member of staff `s`: the examples'
/// sample people, places, devices and systems become `s`'s and those of
/// the people around them.
fn base(w: &World, s: usize) -> Rc<[(String, String)]> {
    let me = &w.staff[s];
    let section = &w.sections[me.section];
    let department = &w.departments[section.department];
    let system = &w.systems[s % w.systems.len()];
    let other = &w.staff[system.admin];
    let other_section = &w.sections[other.section];
    let other_department = &w.departments[(section.department + 1) % w.departments.len()];
    let mut renames: Vec<(String, String)> = [
        ("K-10234", me.id.as_str()),
        ("亀岡 太郎", &me.name),
        ("K-90012", &me.id),
        ("篠 次郎", &me.name),
        ("0120", &section.code),
        ("市民課", &section.name),
        ("01", &department.code),
        ("市民部", &department.name),
        ("PC-2026-0153", &me.pc),
        ("5CG1234XYZ", &me.pc_serial),
        ("IC-55102", &me.card),
        ("USB-0042", &section.usb.asset_id),
        ("HWENC-88120", &section.usb.serial),
        ("kikan-juki", &system.id),
        ("住民記録システム", &system.name),
        ("K-20871", &other.id),
        ("保津 花子", &other.name),
        ("0210", &other_section.code),
        ("税務課", &other_section.name),
        ("02", &other_department.code),
        ("福祉部", &other_department.name),
        ("K-00311", &w.staff[w.network_admin].id),
    ]
    .into_iter()
    .map(|(from, to)| (from.to_owned(), to.to_owned()))
    .collect();
    renames.push((
        "本庁舎2階 市民課".to_owned(),
        format!("本庁舎 {}", section.name),
    ));
    renames.into()
}
