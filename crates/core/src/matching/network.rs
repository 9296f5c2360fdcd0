//! The aggregated flow network of an [`Instance`], its solution, and the way back to
//! individual doctors.
//!
//! # Aggregation
//!
//! Two doctors of the same commune with the same settings (own distance limit, accepted
//! communes) are interchangeable: they are at the same distance from every patient and accept
//! the same patients. They form one *doctor type* whose capacity is the sum of theirs. A doctor
//! who declined some patient stays a type of their own. Likewise all patient groups of one
//! commune without exclusions share one *hub* (they reach the same doctors at the same
//! distances); a group with exclusions is its own hub. The network:
//!
//! ```text
//! group (supply = count) ──0──▶ hub ──metres──▶ doctor type ──0, cap = Σ capacities──▶ T
//!    └────────────── W(class), "unmatched" ────────────────────────────────────────▶ T
//! ```
//!
//! (T demands every patient.) A flow of this network and an assignment of individual patients
//! to individual doctors correspond both ways with the same distances and class counts, so
//! optimising here is optimising there; [`Aggregated::solve`] then spreads each type's flow over
//! its doctors in order (first doctor filled first).
//!
//! # The lexicographic objective as one min-cost flow
//!
//! Wanted: maximise the matched patients of class 1, then of class 2, …, then minimise the total
//! distance. With K classes ranked r = 1 (first served) … K, an unmatched patient of rank r costs
//! `W(r) = (K + 1 − r) · (L·M + 1)`, where M is the largest distance of an arc and L the smaller
//! of the numbers of hubs and of doctor types. Then the min-cost flow is lexicographically optimal:
//!
//! Let x be a min-cost flow and y any feasible flow. y − x decomposes into simple cycles of the
//! residual network of x, each of cost ≥ 0 (x has no negative residual cycle). A simple cycle
//! passes through T at most once, so it changes the matched counts by at most one patient
//! matched (arc T→group reversed) and one unmatched (group→T): every other arc only moves
//! patients between doctors. Its forward hub→type arcs leave distinct hubs and enter distinct
//! types, so its distance part is at most L·M in absolute value. Hence a cycle that matches one
//! more patient of rank r (alone, or unmatching one of a larger rank r′ > r) costs at most
//! `−W(r) + W(r′) + L·M ≤ −(L·M + 1) + L·M < 0` — impossible. Every cycle therefore leaves the
//! vector of matched counts by rank unchanged or lexicographically smaller, and so does their sum:
//! no feasible y matches lexicographically more than x. Among flows with x's counts, the
//! penalties are equal and x minimises the distance. ∎
//!
//! The weights stay small (about 10⁹ for the national instance), far from overflowing `i64`.

use super::flow::{FlowError, Network};
use super::instance::{Grid, Instance, InstanceError, PatientGroup};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the solver did, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Patient groups with someone in range.
    pub groups: usize,
    pub hubs: usize,
    pub doctor_types: usize,
    pub nodes: usize,
    pub arcs: usize,
    pub pivots: u64,
}

/// Patients of one group proposed to one doctor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupAssignment {
    pub group: u32,
    pub doctor: u32,
    pub count: u32,
    pub metres: u32,
}

/// The optimum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solution {
    /// Ordered by hub (commune), then by distance; each doctor filled in index order.
    pub assignments: Vec<GroupAssignment>,
    /// Per group: how many stay unmatched.
    pub unmatched: Vec<u32>,
    /// Per group: doctors with some capacity whose settings and distance allow them for it.
    pub doctors_in_range: Vec<u32>,
    pub matched_by_class: BTreeMap<u8, u64>,
    pub patients_by_class: BTreeMap<u8, u64>,
    /// Σ count × metres.
    pub total_m: u64,
    pub stats: Stats,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolveError {
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error("flow solver: {0}")]
    Flow(#[from] FlowError),
}

/// Per hub, the arcs to its nearest doctor types are priced first (see `build`).
const EAGER_TYPES: usize = 16;

struct Hub {
    /// Its groups (one for an exclusion group), by class then index.
    groups: Vec<u32>,
    /// Its outgoing hub→type arcs: `arcs[arc_range]`.
    first_arc: usize,
    arc_count: usize,
}

struct DoctorType {
    doctors: Vec<u32>,
    /// Network arc type→T.
    sink_arc: usize,
}

/// A built network, ready to solve (separate from solving so benchmarks can time both).
pub struct Aggregated<'a> {
    instance: &'a Instance,
    net: Network,
    hubs: Vec<Hub>,
    types: Vec<DoctorType>,
    /// Per hub→type arc (in hub order): (network arc, type, metres).
    hub_arcs: Vec<(usize, u32, u32)>,
    /// Per group: its unmatched arc, if the group is in the network.
    unmatched_arc: Vec<Option<usize>>,
    doctors_in_range: Vec<u32>,
    weight_of_class: BTreeMap<u8, i64>,
}

impl<'a> Aggregated<'a> {
    pub fn build(instance: &'a Instance) -> Result<Self, SolveError> {
        instance.validate()?;
        let max_m = instance.max_m;

        // Doctor types, keyed by commune first so that a commune's types are contiguous.
        let excluders: BTreeSet<u32> =
            instance.groups.iter().filter(|g| g.count > 0).flat_map(|g| g.excluded_doctors.iter().copied()).collect();
        type TypeKey = (u32, Option<u32>, Option<Vec<u32>>, Option<u32>);
        let mut keyed: BTreeMap<TypeKey, Vec<u32>> = BTreeMap::new();
        for (i, d) in instance.doctors.iter().enumerate() {
            if d.capacity == 0 {
                continue;
            }
            let own_max = d.max_m.filter(|&m| m < max_m);
            let single = excluders.contains(&(i as u32)).then_some(i as u32);
            keyed.entry((d.commune, own_max, d.accepted_communes.clone(), single)).or_default().push(i as u32);
        }
        let mut type_doctors: Vec<Vec<u32>> = Vec::with_capacity(keyed.len());
        let mut types_of_commune: HashMap<u32, (u32, u32)> = HashMap::new();
        for ((commune, ..), doctors) in keyed {
            let t = type_doctors.len() as u32;
            types_of_commune.entry(commune).and_modify(|r| r.1 = t + 1).or_insert((t, t + 1));
            type_doctors.push(doctors);
        }
        let grid = Grid::new(
            types_of_commune.keys().map(|&c| (c, instance.centres[c as usize])),
            instance.centres.len(),
            max_m,
        );

        // Hubs: per commune, the groups without exclusions, then each group with exclusions.
        let mut by_commune: BTreeMap<u32, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
        for (i, g) in instance.groups.iter().enumerate() {
            if g.count == 0 {
                continue;
            }
            let entry = by_commune.entry(g.commune).or_default();
            if g.excluded_doctors.is_empty() { entry.0.push(i as u32) } else { entry.1.push(i as u32) }
        }
        let mut hub_groups: Vec<Vec<u32>> = Vec::new();
        let mut hub_arcs_raw: Vec<Vec<(u32, u32)>> = Vec::new(); // per hub: (type, metres)
        let mut doctors_in_range = vec![0u32; instance.groups.len()];
        let mut near = Vec::new();
        for (&commune, (plain, excluding)) in &by_commune {
            grid.query(instance.centres[commune as usize], &mut near);
            let mut hubs_here: Vec<Vec<u32>> = Vec::new();
            if !plain.is_empty() {
                let mut plain = plain.clone();
                plain.sort_by_key(|&g| (instance.groups[g as usize].class, g));
                hubs_here.push(plain);
            }
            hubs_here.extend(excluding.iter().map(|&g| vec![g]));
            for groups in hubs_here {
                let probe: &PatientGroup = &instance.groups[groups[0] as usize];
                let mut arcs = Vec::new();
                let mut reach = 0u32;
                for &(tc, m) in &near {
                    let Some(&(lo, hi)) = types_of_commune.get(&tc) else { continue };
                    for t in lo..hi {
                        let doctors = &type_doctors[t as usize];
                        if instance.allowed(probe, doctors[0], m) {
                            arcs.push((t, m));
                            reach += doctors.len() as u32;
                        }
                    }
                }
                for &g in &groups {
                    doctors_in_range[g as usize] = reach;
                }
                if !arcs.is_empty() {
                    hub_groups.push(groups);
                    hub_arcs_raw.push(arcs);
                }
            }
        }

        // Types that someone can reach, numbered densely in type (commune) order.
        let mut reached = vec![false; type_doctors.len()];
        for arcs in &hub_arcs_raw {
            for &(t, _) in arcs {
                reached[t as usize] = true;
            }
        }
        let mut type_node: Vec<Option<u32>> = vec![None; type_doctors.len()];
        let mut order: Vec<u32> = Vec::new();
        for (t, _) in reached.iter().enumerate().filter(|(_, r)| **r) {
            type_node[t] = Some(order.len() as u32);
            order.push(t as u32);
        }

        // Weights (see the module documentation).
        let mut classes: BTreeSet<u8> = BTreeSet::new();
        let mut total: i128 = 0;
        let mut max_metres: i128 = 0;
        for (groups, arcs) in hub_groups.iter().zip(&hub_arcs_raw) {
            for &g in groups {
                let g = &instance.groups[g as usize];
                classes.insert(g.class);
                total += i128::from(g.count);
            }
            for &(_, m) in arcs {
                max_metres = max_metres.max(i128::from(m));
            }
        }
        let l = (hub_groups.len() as i128).min(order.len() as i128);
        let unit = l * max_metres + 1;
        let k = classes.len() as i128;
        if k * unit * total.max(1) >= 1 << 62 {
            return Err(InstanceError::TooLarge.into());
        }
        let weight_of_class: BTreeMap<u8, i64> =
            classes.iter().enumerate().map(|(r, &c)| (c, ((k - r as i128) * unit) as i64)).collect();

        // Nodes: groups, plain hubs, types, T.
        let groups_in_net: usize = hub_groups.iter().map(Vec::len).sum();
        let plain_hubs =
            hub_groups.iter().filter(|g| instance.groups[g[0] as usize].excluded_doctors.is_empty()).count();
        let arc_estimate = groups_in_net * 2 + hub_arcs_raw.iter().map(Vec::len).sum::<usize>() + order.len();
        let mut net = Network::with_capacity(groups_in_net + plain_hubs + order.len() + 1, arc_estimate);
        let sink = {
            // T first, so type and hub node numbers follow.
            net.add_node(-(total as i64))
        };
        let type_base = net.node_count() as u32;
        for _ in &order {
            net.add_node(0);
        }
        let mut unmatched_arc = vec![None; instance.groups.len()];
        let mut hubs = Vec::with_capacity(hub_groups.len());
        let mut hub_arcs = Vec::new();
        for (groups, arcs) in hub_groups.into_iter().zip(hub_arcs_raw) {
            let supply: i64 = groups.iter().map(|&g| i64::from(instance.groups[g as usize].count)).sum();
            let plain = instance.groups[groups[0] as usize].excluded_doctors.is_empty();
            let hub = if plain { net.add_node(0) } else { u32::MAX };
            let mut hub_node = hub;
            for &g in &groups {
                let group = &instance.groups[g as usize];
                let node = net.add_node(i64::from(group.count));
                if plain {
                    net.add_arc(node, hub, i64::from(group.count), 0);
                } else {
                    hub_node = node;
                }
                unmatched_arc[g as usize] =
                    Some(net.add_arc(node, sink, i64::from(group.count), weight_of_class[&group.class]));
            }
            let first_arc = hub_arcs.len();
            // The nearest types first: most of the flow goes there, so the others are only
            // priced once the solver is optimal without them (same optimum, less pricing).
            let mut by_distance: Vec<u32> = arcs.iter().map(|&(_, m)| m).collect();
            let eager_limit = if by_distance.len() > EAGER_TYPES {
                *by_distance.select_nth_unstable(EAGER_TYPES).1
            } else {
                u32::MAX
            };
            for &(t, m) in &arcs {
                let Some(tn) = type_node[t as usize] else { continue };
                let cap: i64 = type_doctors[t as usize]
                    .iter()
                    .map(|&d| i64::from(instance.doctors[d as usize].capacity))
                    .sum::<i64>()
                    .min(supply);
                let a = if m < eager_limit {
                    net.add_arc(hub_node, type_base + tn, cap, i64::from(m))
                } else {
                    net.add_deferred_arc(hub_node, type_base + tn, cap, i64::from(m))
                };
                hub_arcs.push((a, t, m));
            }
            hubs.push(Hub { groups, first_arc, arc_count: hub_arcs.len() - first_arc });
        }
        let mut types = Vec::with_capacity(order.len());
        for (i, &t) in order.iter().enumerate() {
            let doctors = std::mem::take(&mut type_doctors[t as usize]);
            let cap: i64 = doctors.iter().map(|&d| i64::from(instance.doctors[d as usize].capacity)).sum();
            let sink_arc = net.add_arc(type_base + i as u32, sink, cap, 0);
            types.push(DoctorType { doctors, sink_arc });
        }
        // hub_arcs refer to original type numbers: map them to dense ones.
        for a in &mut hub_arcs {
            a.1 = type_node[a.1 as usize].unwrap_or(u32::MAX);
        }
        Ok(Self { instance, net, hubs, types, hub_arcs, unmatched_arc, doctors_in_range, weight_of_class })
    }

    pub fn node_count(&self) -> usize {
        self.net.node_count()
    }

    pub fn arc_count(&self) -> usize {
        self.net.arc_count()
    }

    /// Solves the network and spreads the flow over individual doctors.
    pub fn solve(&self) -> Result<Solution, SolveError> {
        let instance = self.instance;
        let flow = self.net.solve()?;

        let mut unmatched: Vec<u32> = instance.groups.iter().map(|g| g.count).collect();
        let mut matched_by_class: BTreeMap<u8, u64> = BTreeMap::new();
        let mut patients_by_class: BTreeMap<u8, u64> = BTreeMap::new();
        for g in &instance.groups {
            *patients_by_class.entry(g.class).or_default() += u64::from(g.count);
            matched_by_class.entry(g.class).or_default();
        }
        for (i, arc) in self.unmatched_arc.iter().enumerate() {
            if let Some(a) = *arc {
                let left = flow.flow[a] as u32;
                let g = &instance.groups[i];
                unmatched[i] = left;
                *matched_by_class.entry(g.class).or_default() += u64::from(g.count - left);
            }
        }

        // Per type, the next doctor to fill and what they already have.
        let mut cursor: Vec<(usize, u32)> = vec![(0, 0); self.types.len()];
        let mut assignments = Vec::new();
        let mut total_m: u64 = 0;
        let mut out: Vec<(u32, u32, u32)> = Vec::new(); // (type, count, metres)
        for hub in &self.hubs {
            out.clear();
            for &(a, t, m) in &self.hub_arcs[hub.first_arc..hub.first_arc + hub.arc_count] {
                let f = flow.flow[a];
                if f > 0 {
                    out.push((t, f as u32, m));
                }
            }
            // Nearest doctors first (any order is optimal; this one reads well).
            out.sort_unstable_by_key(|&(t, _, m)| (m, t));
            let mut next = 0usize;
            for &g in &hub.groups {
                let group = &instance.groups[g as usize];
                let mut left = group.count - unmatched[g as usize];
                while left > 0 && next < out.len() {
                    let (t, avail, m) = out[next];
                    let take = left.min(avail);
                    out[next].1 -= take;
                    left -= take;
                    if out[next].1 == 0 {
                        next += 1;
                    }
                    // Spread over the type's doctors in order.
                    let ty = &self.types[t as usize];
                    let (pos, used) = &mut cursor[t as usize];
                    let mut rest = take;
                    while rest > 0 {
                        let Some(&d) = ty.doctors.get(*pos) else { break };
                        let cap = instance.doctors[d as usize].capacity;
                        let n = rest.min(cap - *used);
                        if n > 0 {
                            assignments.push(GroupAssignment { group: g, doctor: d, count: n, metres: m });
                            total_m += u64::from(n) * u64::from(m);
                            *used += n;
                            rest -= n;
                        }
                        if *used == cap {
                            *pos += 1;
                            *used = 0;
                        }
                    }
                    debug_assert_eq!(rest, 0, "a type's flow never exceeds its doctors' capacity");
                }
            }
        }
        debug_assert!(self.types.iter().all(|t| flow.flow[t.sink_arc] >= 0));
        // The flow's cost is the distance plus the penalties of the unmatched.
        let penalties: i128 = self
            .unmatched_arc
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|_| i))
            .map(|i| i128::from(unmatched[i]) * i128::from(self.weight_of_class[&instance.groups[i].class]))
            .sum();
        debug_assert_eq!(flow.cost - penalties, i128::from(total_m));

        let stats = Stats {
            groups: self.unmatched_arc.iter().filter(|a| a.is_some()).count(),
            hubs: self.hubs.len(),
            doctor_types: self.types.len(),
            nodes: self.net.node_count(),
            arcs: self.net.arc_count(),
            pivots: flow.pivots,
        };
        Ok(Solution {
            assignments,
            unmatched,
            doctors_in_range: self.doctors_in_range.clone(),
            matched_by_class,
            patients_by_class,
            total_m,
            stats,
        })
    }
}

/// Builds and solves.
pub fn solve(instance: &Instance) -> Result<Solution, SolveError> {
    Aggregated::build(instance)?.solve()
}
