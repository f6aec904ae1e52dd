//! The municipality: departments (部) and sections (課), staff and the roles
//! the regulation gives them, systems, PCs, USB memories and IC cards.

use crate::prng::Rng;

const DEPARTMENTS: [&str; 10] = [
    "総務部",
    "市民部",
    "健康福祉部",
    "子育て支援部",
    "環境市民部",
    "産業観光部",
    "まちづくり推進部",
    "上下水道部",
    "教育部",
    "消防本部",
];
const SECTIONS: [&str; 20] = [
    "総務課",
    "情報政策課",
    "行政改革課",
    "市民課",
    "税務課",
    "保険医療課",
    "福祉課",
    "高齢福祉課",
    "子育て支援課",
    "環境課",
    "農林振興課",
    "商工観光課",
    "都市計画課",
    "道路河川課",
    "水道課",
    "下水道課",
    "学校教育課",
    "社会教育課",
    "財政課",
    "契約検査課",
];
const FAMILY: [&str; 16] = [
    "亀岡",
    "保津",
    "篠",
    "園部",
    "馬堀",
    "千代川",
    "大井",
    "曽我部",
    "稗田野",
    "本梅",
    "畑野",
    "宮前",
    "東別院",
    "西別院",
    "川東",
    "旭",
];
const GIVEN: [&str; 16] = [
    "太郎", "花子", "次郎", "誠", "恵", "健一", "由美", "翔太", "美咲", "大輔", "彩", "拓也",
    "直子", "浩二", "陽子", "悠人",
];
const SYSTEMS: [(&str, &str); 8] = [
    ("kikan-juki", "住民記録システム"),
    ("zeimu", "税務システム"),
    ("gyousei-net", "行政系ネットワーク"),
    ("fukushi", "福祉総合システム"),
    ("zaimu", "財務会計システム"),
    ("jinji", "人事給与システム"),
    ("groupware", "グループウェア"),
    ("lgwan-mail", "LGWANメールシステム"),
];

/// A department (部等).
#[derive(Debug, Clone)]
pub(crate) struct Department {
    pub(crate) code: String,
    pub(crate) name: String,
}

/// A section (課等) of a department.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) department: usize,
    /// The section's 情報管理者.
    pub(crate) manager: usize,
    /// The section's USB memory.
    pub(crate) usb: Usb,
}

/// A USB memory kept by a section.
#[derive(Debug, Clone)]
pub(crate) struct Usb {
    pub(crate) asset_id: String,
    pub(crate) serial: String,
}

/// A member of staff with the PC and IC card they use.
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) section: usize,
    pub(crate) pc: String,
    pub(crate) pc_serial: String,
    pub(crate) card: String,
}

/// An information system with its 情報システム管理者.
#[derive(Debug, Clone)]
pub(crate) struct System {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) owner_section: usize,
    pub(crate) admin: usize,
}

/// The whole municipality.
#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) departments: Vec<Department>,
    pub(crate) sections: Vec<Section>,
    pub(crate) staff: Vec<Staff>,
    pub(crate) systems: Vec<System>,
    /// The 情報責任者 of each department.
    pub(crate) officers: Vec<usize>,
    pub(crate) cio: usize,
    pub(crate) chief_info_manager: usize,
    pub(crate) network_admin: usize,
    /// The auditor, in department 0, which no audit targets.
    pub(crate) auditor: usize,
    /// How many staff were on the roll when the quarter began; the rest
    /// are hired during it.
    pub(crate) on_roll: usize,
}

impl World {
    /// A municipality of `sections` sections with `per_section` staff each
    /// (at least 2 sections and 3 staff, so that every role has a holder
    /// distinct from the section's other staff), plus `hires` staff who join
    /// during the quarter.
    pub(crate) fn new(rng: &mut Rng, sections: usize, per_section: usize, hires: usize) -> World {
        let sections_n = sections.max(2);
        let per_section = per_section.max(3);
        let departments_n = sections_n.div_ceil(3).max(2);
        let departments: Vec<Department> = (0..departments_n)
            .map(|d| Department {
                code: format!("{:02}", d + 1),
                name: numbered(&DEPARTMENTS, d),
            })
            .collect();
        let mut staff = Vec::new();
        let mut sections = Vec::new();
        for s in 0..sections_n {
            // Department 0 always gets at least one section (the auditor's).
            let department = if s < departments_n {
                s
            } else {
                s % departments_n
            };
            let code = format!("{:02}{:02}", department + 1, s + 1);
            let name = numbered(&SECTIONS, s);
            sections.push(Section {
                code,
                name,
                department,
                manager: staff.len(),
                usb: Usb {
                    asset_id: format!("USB-{:04}", s + 1),
                    serial: format!("HWENC-{:05}", 10_000 + rng.below(90_000)),
                },
            });
            for _ in 0..per_section {
                staff.push(person(rng, staff.len(), s));
            }
        }
        let on_roll = staff.len();
        for h in 0..hires {
            let section = h % sections_n;
            staff.push(person(rng, staff.len(), section));
        }
        let officers = (0..departments_n)
            .map(|d| {
                let s = sections
                    .iter()
                    .position(|x| x.department == d)
                    .expect("each department has a section");
                sections[s].manager + 1
            })
            .collect();
        // The information policy section (index 1) holds the central roles.
        let it = sections[1].manager;
        let systems = (0..sections_n.div_ceil(2).clamp(3, SYSTEMS.len()))
            .map(|i| {
                let owner = (i + 1) % sections_n;
                System {
                    id: SYSTEMS[i].0.to_owned(),
                    name: SYSTEMS[i].1.to_owned(),
                    owner_section: owner,
                    admin: sections[owner].manager + 2,
                }
            })
            .collect();
        let auditor = sections[0].manager + 2;
        World {
            departments,
            sections,
            staff,
            systems,
            officers,
            cio: 1,
            chief_info_manager: it + 1,
            network_admin: it + 2,
            auditor,
            on_roll,
        }
    }

    /// The department a member of staff belongs to.
    pub(crate) fn department_of(&self, staff: usize) -> usize {
        self.sections[self.staff[staff].section].department
    }
}

fn numbered(names: &[&str], i: usize) -> String {
    let name = names[i % names.len()];
    match i / names.len() {
        0 => name.to_owned(),
        n => format!("{name}{}", n + 1),
    }
}

fn person(rng: &mut Rng, index: usize, section: usize) -> Staff {
    let name = format!(
        "{} {}",
        FAMILY[rng.below(FAMILY.len() as u64) as usize],
        GIVEN[rng.below(GIVEN.len() as u64) as usize]
    );
    Staff {
        id: format!("K-{:05}", 10_001 + index),
        name,
        section,
        pc: format!("PC-{:05}", 10_001 + index),
        pc_serial: format!("5CG{:07}", rng.below(10_000_000)),
        card: format!("IC-{:05}", 50_001 + index),
    }
}
