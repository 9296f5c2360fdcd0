//! Spending: the embedded PASS table figure by figure, the yearly cap per member professional
//! (grouping by RPPS or normalised name, calendar-year boundaries, exactly at the cap), budget vs
//! actual per contract year, and properties (sums, balances, grouping).

use chrono::NaiveDate;
use maillage_core::aci::rules;
use maillage_core::aci::{
    Cents, Contract, EnvelopeBalances, Expense, ExpenseCategory, MissionId, PassAlertKind, PassTable, PayeeKind,
    ProfessionalKey, Rate, RuleSet, Scenario, YearFunding, allowances_by_professional, envelope_balances,
    expenses_in_contract_year, normalize_payee_name, pass_alerts, simulate,
};
use maillage_core::territory::SizeClass;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn eur(e: i64) -> Cents {
    Cents::from_euros(e)
}

fn table() -> &'static PassTable {
    PassTable::embedded().unwrap()
}

fn avenant2() -> &'static RuleSet {
    rules::embedded("avenant-2").unwrap()
}

/// An allowance to a member professional.
fn allowance(id: &str, on: &str, payee: &str, rpps: Option<&str>, amount: Cents) -> Expense {
    Expense {
        id: id.into(),
        spent_on: d(on),
        envelope: MissionId::Parcours,
        category: ExpenseCategory::Indemnisation,
        payee_kind: PayeeKind::ProfessionnelMembre,
        payee: payee.into(),
        payee_rpps: rpps.map(Into::into),
        amount,
        receipt: String::new(),
        note: String::new(),
    }
}

fn spend(id: &str, on: &str, envelope: MissionId, category: ExpenseCategory, amount: Cents) -> Expense {
    Expense {
        id: id.into(),
        spent_on: d(on),
        envelope,
        category,
        payee_kind: PayeeKind::Prestataire,
        payee: "Prestataire".into(),
        payee_rpps: None,
        amount,
        receipt: String::new(),
        note: String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The PASS table

/// (year, annual €, monthly €, date of the arrêté, publication in the JO)
const PASS: [(i32, i64, i64, &str, &str); 8] = [
    (2019, 40_524, 3_377, "2018-12-11", "2018-12-15"),
    (2020, 41_136, 3_428, "2019-12-02", "2019-12-03"),
    (2021, 41_136, 3_428, "2020-12-22", "2020-12-29"),
    (2022, 41_136, 3_428, "2021-12-15", "2021-12-18"),
    (2023, 43_992, 3_666, "2022-12-09", "2022-12-16"),
    (2024, 46_368, 3_864, "2023-12-19", "2023-12-29"),
    (2025, 47_100, 3_925, "2024-12-19", "2024-12-29"),
    (2026, 48_060, 4_005, "2025-12-22", "2025-12-23"),
];

#[test]
fn embedded_pass_table_every_year() {
    let t = table();
    assert_eq!(t.file, "data/aci/pass.toml");
    assert_eq!(t.years.keys().copied().collect::<Vec<_>>(), (2019..=2026).collect::<Vec<_>>());
    for (year, annual, monthly, signed, published) in PASS {
        let y = t.year(year).unwrap();
        assert_eq!(t.cap_for(year), Some(eur(annual)), "{year}");
        assert_eq!(y.monthly, eur(monthly), "{year}");
        assert_eq!(y.signed_on, d(signed), "{year}");
        assert_eq!(y.published_on, d(published), "{year}");
        assert!(
            y.source.starts_with("Arrêté du ")
                && y.source.contains(&format!("portant fixation du plafond de la sécurité sociale pour {year}")),
            "{year}: {}",
            y.source
        );
        assert!(!y.checked_in.is_empty());
    }
    assert!(t.unverified().is_empty(), "{:?}", t.unverified());
    assert!(t.rule_source.contains("2022-375"));
    assert_eq!(t.cap_for(2018), None);
    assert_eq!(t.cap_for(2027), None);
}

// ---------------------------------------------------------------------------------------------
// The yearly cap

#[test]
fn exactly_at_the_cap_is_not_over_one_cent_above_is() {
    let mut expenses = vec![
        allowance("a", "2025-02-01", "Dr Martin", Some("10003456789"), eur(40_000)),
        allowance("b", "2025-11-30", "Dr Martin", Some("10003456789"), eur(7_100)),
    ];
    let all = allowances_by_professional(&expenses, table());
    assert_eq!(all.len(), 1);
    let a = &all[0];
    assert_eq!((a.year, a.total, a.cap, a.over), (2025, eur(47_100), Some(eur(47_100)), Cents::ZERO));
    assert_eq!(a.share_of_cap, Some(Rate::ONE));
    assert_eq!(a.remaining, Some(Cents::ZERO));
    assert!(!a.is_over());
    assert!(pass_alerts(&expenses, table()).is_empty());

    expenses.push(allowance("c", "2025-12-01", "Dr Martin", Some("10003456789"), Cents(1)));
    let alerts = pass_alerts(&expenses, table());
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.kind, PassAlertKind::OverCap);
    assert_eq!(alert.code(), "pass_exceeded");
    assert_eq!((alert.total, alert.cap, alert.over), (Cents(4_710_001), Some(eur(47_100)), Cents(1)));
    assert_eq!(alert.expense_ids, ["a", "b", "c"]);
    assert_eq!(alert.payee_rpps.as_deref(), Some("10003456789"));
    assert_eq!(
        alert.fr(),
        "Dr Martin a perçu 47\u{202f}100,01\u{a0}€ en 2025 en tant que professionnel membre, soit 0,01\u{a0}€ \
         au-delà du plafond annuel (PASS 47\u{202f}100,00\u{a0}€, décret n° 2022-375)"
    );
    assert!(alert.en().starts_with("Dr Martin received €47,100.01 in 2025"), "{}", alert.en());
}

#[test]
fn the_rpps_merges_different_spellings() {
    let expenses = vec![
        allowance("1", "2024-01-10", "Dr MARTIN", Some("10003456789"), eur(20_000)),
        allowance("2", "2024-06-10", "Martin Élise", Some("100 0345 6789"), eur(20_000)),
        allowance("3", "2024-03-10", "E. Martin (kiné)", Some("10003456789"), eur(10_000)),
    ];
    let all = allowances_by_professional(&expenses, table());
    assert_eq!(all.len(), 1);
    let a = &all[0];
    assert_eq!(a.key, ProfessionalKey::Rpps("10003456789".into()));
    assert_eq!(a.total, eur(50_000));
    assert_eq!(a.payee, "Martin Élise", "the name of the latest expense");
    assert_eq!(a.expense_ids, ["1", "3", "2"], "by date");
    assert_eq!(a.over, eur(50_000 - 46_368));
    assert_eq!(pass_alerts(&expenses, table()).len(), 1);
}

#[test]
fn different_rpps_numbers_are_different_people() {
    let expenses = vec![
        allowance("1", "2024-01-10", "Dr Martin", Some("10003456789"), eur(30_000)),
        allowance("2", "2024-01-10", "Dr Martin", Some("10002673899"), eur(30_000)),
    ];
    assert_eq!(allowances_by_professional(&expenses, table()).len(), 2);
    assert!(pass_alerts(&expenses, table()).is_empty());
}

#[test]
fn without_rpps_the_normalised_name_merges() {
    let expenses = vec![
        allowance("1", "2023-04-01", "Dr  MARTIN Élise", None, eur(25_000)),
        allowance("2", "2023-09-01", " dr martin elise ", None, eur(25_000)),
        allowance("3", "2023-09-01", "Dr Martin Eliane", None, eur(1_000)),
    ];
    let all = allowances_by_professional(&expenses, table());
    assert_eq!(all.len(), 2);
    let merged = all.iter().find(|a| a.key == ProfessionalKey::Name("dr martin elise".into())).unwrap();
    assert_eq!(merged.total, eur(50_000));
    assert_eq!(merged.payee, "dr martin elise", "trimmed name of the latest expense");
    assert_eq!(merged.payee_rpps, None);
    let alerts = pass_alerts(&expenses, table());
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].over, eur(50_000 - 43_992));
    assert_eq!(alerts[0].expense_ids, ["1", "2"]);
}

#[test]
fn calendar_years_split_on_the_first_of_january() {
    let expenses = vec![
        allowance("dec", "2024-12-31", "Dr Martin", Some("10003456789"), eur(40_000)),
        allowance("jan", "2025-01-01", "Dr Martin", Some("10003456789"), eur(40_000)),
    ];
    let all = allowances_by_professional(&expenses, table());
    assert_eq!(
        all.iter().map(|a| (a.year, a.total, a.cap)).collect::<Vec<_>>(),
        [(2024, eur(40_000), Some(eur(46_368))), (2025, eur(40_000), Some(eur(47_100))),]
    );
    assert!(pass_alerts(&expenses, table()).is_empty(), "80,000 € over two calendar years is fine");
    // The share of the cap, for a gauge: 40,000 / 46,368, truncated.
    assert_eq!(all[0].share_of_cap.unwrap().billionths(), 862_663_906);
    assert_eq!(all[0].remaining, Some(eur(6_368)));
}

#[test]
fn only_allowances_to_members_count() {
    let mut non_member = allowance("n", "2025-05-01", "Dr Martin", Some("10003456789"), eur(50_000));
    non_member.payee_kind = PayeeKind::ProfessionnelNonMembre;
    let mut training = allowance("t", "2025-05-01", "Dr Martin", Some("10003456789"), eur(50_000));
    training.category = ExpenseCategory::Formation;
    let counted = allowance("c", "2025-05-01", "Dr Martin", Some("10003456789"), eur(1_000));
    let expenses = vec![non_member, training, counted];
    let all = allowances_by_professional(&expenses, table());
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].total, all[0].expense_ids.clone()), (eur(1_000), vec!["c".to_owned()]));
    assert!(pass_alerts(&expenses, table()).is_empty());
}

#[test]
fn a_year_without_pass_is_reported() {
    let expenses = vec![
        allowance("x", "2027-01-15", "Dr Martin", Some("10003456789"), eur(100)),
        allowance("y", "2026-01-15", "Dr Martin", Some("10003456789"), eur(100)),
    ];
    let alerts = pass_alerts(&expenses, table());
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(
        (a.kind, a.year, a.cap, a.over, a.total),
        (PassAlertKind::NoCapForYear, 2027, None, Cents::ZERO, eur(100))
    );
    assert_eq!(a.code(), "pass_unknown_year");
    assert!(a.fr().starts_with("aucune valeur du PASS n'est connue pour 2027"), "{}", a.fr());
    assert!(a.en().contains("data/aci/pass.toml"), "{}", a.en());
    let all = allowances_by_professional(&expenses, table());
    assert_eq!(all.len(), 2);
    assert_eq!((all[1].year, all[1].share_of_cap, all[1].remaining), (2027, None, None));
}

#[test]
fn allowances_are_ordered_by_year_then_name() {
    let expenses = vec![
        allowance("1", "2025-01-01", "Zoé Bernard", None, eur(1)),
        allowance("2", "2025-01-01", "Adam Roux", None, eur(1)),
        allowance("3", "2024-01-01", "Zoé Bernard", None, eur(1)),
        allowance("4", "2025-01-01", "élodie Petit", None, eur(1)),
    ];
    let order: Vec<(i32, String)> =
        allowances_by_professional(&expenses, table()).into_iter().map(|a| (a.year, a.payee)).collect();
    assert_eq!(
        order,
        [
            (2024, "Zoé Bernard".to_owned()),
            (2025, "Adam Roux".to_owned()),
            (2025, "élodie Petit".to_owned()),
            (2025, "Zoé Bernard".to_owned()),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Budget vs actual

fn funding(missions: &[MissionId]) -> YearFunding {
    let scenario = Scenario {
        size: SizeClass::T1,
        contract_year: 2,
        missions: missions.iter().copied().collect(),
        achievement: Rate::ONE,
        crisis: false,
    };
    simulate(avenant2(), &scenario).unwrap()
}

#[test]
fn balances_per_envelope_and_totals() {
    let f = funding(&[MissionId::Acces, MissionId::Parcours]);
    assert_eq!(f.envelope(MissionId::Fonctionnement).unwrap().total, eur(50_000));
    assert_eq!(f.envelope(MissionId::Acces).unwrap().total, eur(80_000));
    assert_eq!(f.envelope(MissionId::Parcours).unwrap().total, eur(50_000));
    let expenses = vec![
        spend("1", "2025-01-01", MissionId::Acces, ExpenseCategory::Coordination, eur(30_000)),
        spend("2", "2025-02-01", MissionId::Acces, ExpenseCategory::SystemeInformation, eur(2_000)),
        spend("3", "2025-03-01", MissionId::Acces, ExpenseCategory::Coordination, eur(8_000)),
        spend("4", "2025-03-01", MissionId::Parcours, ExpenseCategory::Indemnisation, eur(50_000)),
        spend("5", "2025-03-01", MissionId::Parcours, ExpenseCategory::Evenement, Cents(1)),
        spend("6", "2025-04-01", MissionId::Qualite, ExpenseCategory::Formation, eur(1_000)),
    ];
    let b = envelope_balances(&f, &expenses);
    assert_eq!(b.contract_year, 2);
    assert_eq!(
        b.envelopes.iter().map(|e| e.mission).collect::<Vec<_>>(),
        [MissionId::Fonctionnement, MissionId::Acces, MissionId::Parcours, MissionId::Qualite]
    );

    let op = b.envelope(MissionId::Fonctionnement).unwrap();
    assert_eq!(
        (op.entitlement, op.spent, op.left, op.consumed, op.over),
        (eur(50_000), Cents::ZERO, eur(50_000), Some(Rate::ZERO), false)
    );
    assert!(op.by_category.is_empty());

    let acces = b.envelope(MissionId::Acces).unwrap();
    assert_eq!((acces.spent, acces.left, acces.over, acces.expenses), (eur(40_000), eur(40_000), false, 3));
    assert_eq!(acces.consumed, Some(Rate::parse("50%").unwrap()));
    assert_eq!(
        acces.by_category.iter().map(|c| (c.category, c.amount)).collect::<Vec<_>>(),
        [(ExpenseCategory::Coordination, eur(38_000)), (ExpenseCategory::SystemeInformation, eur(2_000))]
    );

    // One cent above the entitlement: overspent, consumed shown as 100 %.
    let parcours = b.envelope(MissionId::Parcours).unwrap();
    assert_eq!((parcours.left, parcours.over, parcours.consumed), (Cents(-1), true, Some(Rate::ONE)));

    // Spending on an envelope the year does not fund.
    let qualite = b.envelope(MissionId::Qualite).unwrap();
    assert_eq!(
        (qualite.entitlement, qualite.spent, qualite.left, qualite.consumed, qualite.over),
        (Cents::ZERO, eur(1_000), eur(-1_000), None, true)
    );
    assert_eq!(b.overspent().map(|e| e.mission).collect::<Vec<_>>(), [MissionId::Parcours, MissionId::Qualite]);

    assert_eq!(b.entitlement, eur(180_000));
    assert_eq!(b.spent, Cents(9_100_001));
    assert_eq!(b.left, Cents(18_000_000 - 9_100_001));
    assert!(!b.over);
    assert_eq!(b.by_category.iter().map(|c| c.amount).sum::<Cents>(), b.spent);
    assert_eq!(b.by_category[0].category, ExpenseCategory::Coordination, "in ExpenseCategory::ALL order");
}

#[test]
fn balances_without_expenses() {
    let f = funding(&[MissionId::Acces]);
    let b = envelope_balances(&f, &[]);
    assert_eq!(b.envelopes.len(), 2);
    assert_eq!((b.spent, b.left, b.entitlement), (Cents::ZERO, f.total, f.total));
    assert_eq!(b.consumed, Some(Rate::ZERO));
    let json = serde_json::to_value(&b).unwrap();
    assert_eq!(json["envelopes"][1]["mission"], "acces");
}

#[test]
fn expenses_of_a_contract_year() {
    let c = Contract::new("CPTS", d("2024-03-15"), avenant2(), 50_000);
    let expenses = vec![
        spend("before", "2024-03-14", MissionId::Acces, ExpenseCategory::Autre, eur(1)),
        spend("first-day", "2024-03-15", MissionId::Acces, ExpenseCategory::Autre, eur(1)),
        spend("last-day", "2025-03-14", MissionId::Acces, ExpenseCategory::Autre, eur(1)),
        spend("anniversary", "2025-03-15", MissionId::Acces, ExpenseCategory::Autre, eur(1)),
    ];
    let ids = |y: u8| expenses_in_contract_year(&c, y, &expenses).into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(1), ["first-day", "last-day"]);
    assert_eq!(ids(2), ["anniversary"]);
    assert!(ids(0).is_empty());
    assert!(ids(5).is_empty());

    // Signed on 29 February: the anniversaries fall on 28 February.
    let leap = Contract::new("CPTS", d("2024-02-29"), avenant2(), 50_000);
    let expenses = vec![
        spend("27", "2025-02-27", MissionId::Acces, ExpenseCategory::Autre, eur(1)),
        spend("28", "2025-02-28", MissionId::Acces, ExpenseCategory::Autre, eur(1)),
    ];
    let ids = |y: u8| expenses_in_contract_year(&leap, y, &expenses).into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(1), ["27"]);
    assert_eq!(ids(2), ["28"]);
}

// ---------------------------------------------------------------------------------------------
// Properties

fn any_expense() -> impl Strategy<Value = Expense> {
    (
        proptest::sample::select(MissionId::ALL.to_vec()),
        proptest::sample::select(ExpenseCategory::ALL.to_vec()),
        proptest::sample::select(PayeeKind::ALL.to_vec()),
        0u8..4,
        proptest::option::of(proptest::sample::select(vec!["10003456789", "10002673899", "1000 2673 899"])),
        1i64..=5_000_000,
        0i64..900,
    )
        .prop_map(|(envelope, category, payee_kind, who, rpps, amount, day)| Expense {
            id: format!("{envelope}-{amount}-{day}"),
            spent_on: d("2024-06-01") + chrono::Days::new(u64::try_from(day).unwrap()),
            envelope,
            category,
            payee_kind,
            payee: ["Dr Martin", "DR  MARTIN", "Élodie Roux", "elodie roux"][usize::from(who)].to_owned(),
            payee_rpps: rpps.map(str::to_owned),
            amount: Cents(amount),
            receipt: String::new(),
            note: String::new(),
        })
}

fn check_balances(b: &EnvelopeBalances, expenses: &[Expense]) {
    let missions: BTreeSet<MissionId> = b.envelopes.iter().map(|e| e.mission).collect();
    assert_eq!(missions.len(), b.envelopes.len(), "one balance per envelope");
    assert_eq!(b.envelopes.iter().map(|e| e.spent).sum::<Cents>(), expenses.iter().map(|e| e.amount).sum::<Cents>());
    assert_eq!(b.spent, expenses.iter().map(|e| e.amount).sum::<Cents>());
    assert_eq!(b.envelopes.iter().map(|e| e.entitlement).sum::<Cents>(), b.entitlement);
    assert_eq!(b.left, b.entitlement - b.spent);
    assert_eq!(b.by_category.iter().map(|c| c.amount).sum::<Cents>(), b.spent);
    for e in &b.envelopes {
        assert_eq!(e.left, e.entitlement - e.spent);
        assert_eq!(e.over, e.spent > e.entitlement);
        assert_eq!(e.consumed.is_none(), e.entitlement == Cents::ZERO);
        assert_eq!(e.by_category.iter().map(|c| c.amount).sum::<Cents>(), e.spent);
        assert_eq!(e.expenses, expenses.iter().filter(|x| x.envelope == e.mission).count());
        if let Some(c) = e.consumed {
            assert_eq!(c == Rate::ONE, e.spent >= e.entitlement);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn balances_add_up(
        missions in proptest::collection::btree_set(proptest::sample::select(MissionId::ALL.to_vec()), 0..=7),
        expenses in proptest::collection::vec(any_expense(), 0..40),
    ) {
        let f = funding(&missions.into_iter().collect::<Vec<_>>());
        let b = envelope_balances(&f, &expenses);
        check_balances(&b, &expenses);
        prop_assert_eq!(b.entitlement, f.total);
        for env in &f.envelopes {
            prop_assert_eq!(b.envelope(env.mission).unwrap().entitlement, env.total);
        }
    }

    #[test]
    fn allowances_add_up_and_alerts_are_the_overs(expenses in proptest::collection::vec(any_expense(), 0..40)) {
        let all = allowances_by_professional(&expenses, table());
        let counted: Vec<&Expense> = expenses.iter().filter(|e| e.counts_towards_pass()).collect();
        prop_assert_eq!(all.iter().map(|a| a.total).sum::<Cents>(), counted.iter().map(|e| e.amount).sum::<Cents>());
        prop_assert_eq!(all.iter().map(|a| a.expense_ids.len()).sum::<usize>(), counted.len());
        for a in &all {
            let cap = a.cap.unwrap();
            prop_assert_eq!(a.over, if a.total > cap { a.total - cap } else { Cents::ZERO });
            prop_assert_eq!(a.remaining.unwrap() + a.total - a.over, cap);
        }
        // Two RPPS numbers at most (one written with spaces) and two names: at most four
        // professionals per year.
        let years: BTreeSet<i32> = all.iter().map(|a| a.year).collect();
        for y in years {
            prop_assert!(all.iter().filter(|a| a.year == y).count() <= 4);
        }
        let alerts = pass_alerts(&expenses, table());
        prop_assert_eq!(alerts.len(), all.iter().filter(|a| a.is_over()).count());
        prop_assert!(alerts.iter().all(|a| a.kind == PassAlertKind::OverCap && a.over > Cents::ZERO));
    }

    #[test]
    fn name_normalisation_ignores_case_accents_and_spacing(
        words in proptest::collection::vec("[a-zA-ZéèêàçÉÈÀÇôÔ]{1,8}", 1..4),
        gaps in proptest::collection::vec(" {1,3}", 4),
    ) {
        let plain = words.join(" ");
        let mut spaced = gaps[0].clone();
        for (w, g) in words.iter().zip(&gaps[1..]) {
            spaced.push_str(&w.to_uppercase());
            spaced.push_str(g);
        }
        let n = normalize_payee_name(&plain);
        prop_assert_eq!(&normalize_payee_name(&spaced), &n);
        prop_assert_eq!(&normalize_payee_name(&n), &n);
        prop_assert!(n.chars().all(|c| c == ' ' || c.is_ascii_lowercase()), "{}", n);
    }
}
