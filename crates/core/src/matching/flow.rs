//! Minimum-cost flow by the primal network simplex method.
//!
//! A port of the design of LEMON's `NetworkSimplex` (Kovács, "Minimum-cost flow algorithms: an
//! experimental evaluation", 2015): the spanning tree is kept as parent / predecessor arc /
//! thread (preorder) / reverse thread / subtree size / last successor arrays, the entering arc is
//! chosen by block search (blocks of √m arcs, arcs stored in a "mixed" order so that a block
//! touches many nodes), and the leaving arc is the last blocking arc met when walking the cycle
//! from its apex, which keeps the tree *strongly feasible* (every node can send a positive amount
//! of flow to the root along the tree) and so rules out cycling under degeneracy.
//!
//! Start: an artificial root joined to every node by an artificial arc (supply nodes send their
//! supply to the root at cost 0; demand nodes receive theirs from the root at cost `ART`, larger
//! than the cost of any simple path). The problem is feasible if and only if no artificial arc
//! carries flow at the end.
//!
//! Everything is integral (`i64` capacities and costs), so the optimum is exact, and the
//! method is deterministic: the same network (same arc order) gives the same flow.

/// Capacity of arcs that are not bounded (the artificial ones); user arcs have finite capacity.
const INF: i64 = i64::MAX / 4;

const STATE_UPPER: i8 = -1;
const STATE_TREE: i8 = 0;
const STATE_LOWER: i8 = 1;
const DIR_UP: i8 = 1;
const DIR_DOWN: i8 = -1;

/// Why a network could not be solved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the supplies do not sum to zero ({0})")]
    Unbalanced(i128),
    #[error("no flow satisfies every supply within the capacities")]
    Infeasible,
    #[error("arc {0}: negative capacity")]
    NegativeCapacity(usize),
    #[error("costs too large for exact 64-bit arithmetic (largest |cost| {max_cost}, {nodes} nodes)")]
    CostRange { max_cost: i64, nodes: usize },
    #[error("a negative-cost cycle of unbounded capacity")]
    Unbounded,
}

/// A directed network with integral supplies, capacities and costs.
#[derive(Debug, Clone, Default)]
pub struct Network {
    supply: Vec<i64>,
    source: Vec<u32>,
    target: Vec<u32>,
    capacity: Vec<i64>,
    cost: Vec<i64>,
    /// Arcs priced only once no other arc can enter (see [`Network::add_deferred_arc`]).
    deferred: Vec<bool>,
}

/// An optimal flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Per arc, in the order of [`Network::add_arc`].
    pub flow: Vec<i64>,
    /// Σ flow × cost.
    pub cost: i128,
    /// Node potentials π proving optimality: the reduced cost `cost + π[from] − π[to]` is ≥ 0
    /// on every arc below its capacity and ≤ 0 on every arc with flow.
    pub potential: Vec<i64>,
    /// Simplex pivots performed (tree changes and bound flips).
    pub pivots: u64,
}

impl Network {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(nodes: usize, arcs: usize) -> Self {
        Self {
            supply: Vec::with_capacity(nodes),
            source: Vec::with_capacity(arcs),
            target: Vec::with_capacity(arcs),
            capacity: Vec::with_capacity(arcs),
            cost: Vec::with_capacity(arcs),
            deferred: Vec::with_capacity(arcs),
        }
    }

    /// A new node with the given supply (negative: demand). Returns its index.
    pub fn add_node(&mut self, supply: i64) -> u32 {
        self.supply.push(supply);
        (self.supply.len() - 1) as u32
    }

    pub fn add_supply(&mut self, node: u32, supply: i64) {
        self.supply[node as usize] += supply;
    }

    /// A new arc `from → to` carrying between 0 and `capacity` units at `cost` each. Returns its
    /// index.
    pub fn add_arc(&mut self, from: u32, to: u32, capacity: i64, cost: i64) -> usize {
        self.source.push(from);
        self.target.push(to);
        self.capacity.push(capacity);
        self.cost.push(cost);
        self.deferred.push(false);
        self.source.len() - 1
    }

    /// An arc that is unlikely to carry flow: the simplex first optimises over the other arcs,
    /// then prices every arc until none can enter. The optimum is the same (it is a pricing
    /// order, not a restriction); only the time changes.
    pub fn add_deferred_arc(&mut self, from: u32, to: u32, capacity: i64, cost: i64) -> usize {
        let a = self.add_arc(from, to, capacity, cost);
        self.deferred[a] = true;
        a
    }

    pub fn node_count(&self) -> usize {
        self.supply.len()
    }

    pub fn arc_count(&self) -> usize {
        self.source.len()
    }

    pub fn arc(&self, arc: usize) -> (u32, u32, i64, i64) {
        (self.source[arc], self.target[arc], self.capacity[arc], self.cost[arc])
    }

    pub fn supply(&self, node: u32) -> i64 {
        self.supply[node as usize]
    }

    /// A minimum-cost flow meeting every supply exactly.
    pub fn solve(&self) -> Result<Flow, FlowError> {
        let total: i128 = self.supply.iter().map(|&s| i128::from(s)).sum();
        if total != 0 {
            return Err(FlowError::Unbalanced(total));
        }
        if let Some(a) = self.capacity.iter().position(|&c| c < 0) {
            return Err(FlowError::NegativeCapacity(a));
        }
        let n = self.supply.len();
        if n == 0 {
            return Ok(Flow { flow: vec![0; self.source.len()], cost: 0, potential: Vec::new(), pivots: 0 });
        }
        // Bounds that keep every intermediate value within i64: potentials are costs of tree
        // paths (at most n arcs, one of them artificial), reduced costs sums of three of those.
        let max_cost = self.cost.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0);
        let art = (i128::from(max_cost) + 1) * (n as i128 + 1);
        let supply_sum: i128 = self.supply.iter().filter(|&&s| s > 0).map(|&s| i128::from(s)).sum();
        let cap_sum: i128 = self.capacity.iter().map(|&c| i128::from(c)).sum();
        if art * 8 > i128::from(i64::MAX) || supply_sum + cap_sum >= i128::from(INF) {
            return Err(FlowError::CostRange { max_cost: max_cost.min(i64::MAX as u64) as i64, nodes: n });
        }
        let mut simplex = Simplex::new(self, art as i64);
        simplex.run()?;
        simplex.into_flow(self)
    }
}

/// The working state: arcs in mixed order, followed by one artificial arc per node.
struct Simplex {
    node_num: usize,
    /// User arcs: the first `search_arc_num` are searched for entering (first the arcs that
    /// are not deferred, then all).
    arc_num: usize,
    search_arc_num: usize,
    /// Position of user arc `i` in the working arrays.
    position: Vec<u32>,
    source: Vec<u32>,
    target: Vec<u32>,
    cap: Vec<i64>,
    cost: Vec<i64>,
    flow: Vec<i64>,
    state: Vec<i8>,
    pi: Vec<i64>,
    parent: Vec<u32>,
    pred: Vec<u32>,
    thread: Vec<u32>,
    rev_thread: Vec<u32>,
    succ_num: Vec<u32>,
    last_succ: Vec<u32>,
    pred_dir: Vec<i8>,
    dirty_revs: Vec<u32>,
    root: u32,
    // Pivot state.
    in_arc: usize,
    join: u32,
    u_in: u32,
    v_in: u32,
    u_out: u32,
    delta: i64,
    // Block search.
    block_size: usize,
    next_arc: usize,
    pivots: u64,
}

const NONE: u32 = u32::MAX;

impl Simplex {
    fn new(net: &Network, art: i64) -> Self {
        let node_num = net.supply.len();
        let arc_num = net.source.len();
        let all = arc_num + node_num;
        let eager = net.deferred.iter().filter(|&&d| !d).count();
        let mut s = Simplex {
            node_num,
            arc_num,
            search_arc_num: eager,
            position: vec![0; arc_num],
            source: vec![0; all],
            target: vec![0; all],
            cap: vec![0; all],
            cost: vec![0; all],
            flow: vec![0; all],
            state: vec![STATE_LOWER; all],
            pi: vec![0; node_num + 1],
            parent: vec![0; node_num + 1],
            pred: vec![0; node_num + 1],
            thread: vec![0; node_num + 1],
            rev_thread: vec![0; node_num + 1],
            succ_num: vec![0; node_num + 1],
            last_succ: vec![0; node_num + 1],
            pred_dir: vec![0; node_num + 1],
            dirty_revs: Vec::new(),
            root: node_num as u32,
            in_arc: 0,
            join: 0,
            u_in: 0,
            v_in: 0,
            u_out: 0,
            delta: 0,
            block_size: ((eager as f64).sqrt() as usize).max(10),
            next_arc: 0,
            pivots: 0,
        };
        // Mixed arc order (as LEMON): consecutive positions hold arcs far apart in the input,
        // so that a block of the pricing scan covers many different nodes. The arcs that are
        // not deferred come first, mixed among themselves, then the deferred ones.
        for (deferred, base, count) in [(false, 0, eager), (true, eager, arc_num - eager)] {
            let skip = (count / node_num.max(1)).max(3);
            let (mut i, mut j) = (0usize, 0usize);
            for a in (0..arc_num).filter(|&a| net.deferred[a] == deferred) {
                let p = base + i;
                s.position[a] = p as u32;
                s.source[p] = net.source[a];
                s.target[p] = net.target[a];
                s.cap[p] = net.capacity[a];
                s.cost[p] = net.cost[a];
                i += skip;
                if i >= count {
                    j += 1;
                    i = j;
                }
            }
        }
        // The initial tree: every node a child of the root through its artificial arc.
        let root = s.root as usize;
        s.parent[root] = NONE;
        s.pred[root] = NONE;
        s.thread[root] = 0;
        s.rev_thread[0] = root as u32;
        s.succ_num[root] = node_num as u32 + 1;
        s.last_succ[root] = root as u32 - 1;
        s.pi[root] = 0;
        for u in 0..node_num {
            let e = arc_num + u;
            s.parent[u] = root as u32;
            s.pred[u] = e as u32;
            s.thread[u] = u as u32 + 1;
            s.rev_thread[u + 1] = u as u32;
            s.succ_num[u] = 1;
            s.last_succ[u] = u as u32;
            s.cap[e] = INF;
            s.state[e] = STATE_TREE;
            let supply = net.supply[u];
            if supply >= 0 {
                s.pred_dir[u] = DIR_UP;
                s.pi[u] = 0;
                s.source[e] = u as u32;
                s.target[e] = root as u32;
                s.flow[e] = supply;
                s.cost[e] = 0;
            } else {
                s.pred_dir[u] = DIR_DOWN;
                s.pi[u] = art;
                s.source[e] = root as u32;
                s.target[e] = u as u32;
                s.flow[e] = -supply;
                s.cost[e] = art;
            }
        }
        // The thread closes on the root.
        s.thread[node_num - 1] = root as u32;
        s.rev_thread[root] = node_num as u32 - 1;
        s
    }

    #[inline]
    fn reduced(&self, e: usize) -> i64 {
        self.cost[e] + self.pi[self.source[e] as usize] - self.pi[self.target[e] as usize]
    }

    /// Block search: the most negative `state × reduced cost` in the first block (of the
    /// cyclic scan from where the last search stopped) that has a negative one.
    fn find_entering_arc(&mut self) -> bool {
        let m = self.search_arc_num;
        if m == 0 {
            return false;
        }
        let mut min = 0i64;
        let mut cnt = self.block_size;
        let mut e = self.next_arc;
        for _ in 0..m {
            let c = i64::from(self.state[e]) * self.reduced(e);
            if c < min {
                min = c;
                self.in_arc = e;
            }
            e += 1;
            if e == m {
                e = 0;
            }
            cnt -= 1;
            if cnt == 0 {
                if min < 0 {
                    self.next_arc = e;
                    return true;
                }
                cnt = self.block_size;
            }
        }
        if min < 0 {
            self.next_arc = e;
            return true;
        }
        false
    }

    fn find_join_node(&mut self) {
        let mut u = self.source[self.in_arc];
        let mut v = self.target[self.in_arc];
        while u != v {
            if self.succ_num[u as usize] < self.succ_num[v as usize] {
                u = self.parent[u as usize];
            } else {
                v = self.parent[v as usize];
            }
        }
        self.join = u;
    }

    /// The leaving arc: the last blocking arc of the cycle in its orientation. Returns whether
    /// the tree changes (otherwise the entering arc only moves to its other bound).
    fn find_leaving_arc(&mut self) -> Result<bool, FlowError> {
        let (first, second) = if self.state[self.in_arc] == STATE_LOWER {
            (self.source[self.in_arc], self.target[self.in_arc])
        } else {
            (self.target[self.in_arc], self.source[self.in_arc])
        };
        self.delta = self.cap[self.in_arc];
        let mut result = 0;
        let mut u = first;
        while u != self.join {
            let e = self.pred[u as usize] as usize;
            let mut d = self.flow[e];
            if self.pred_dir[u as usize] == DIR_DOWN {
                let c = self.cap[e];
                d = if c >= INF { INF } else { c - d };
            }
            if d < self.delta {
                self.delta = d;
                self.u_out = u;
                result = 1;
            }
            u = self.parent[u as usize];
        }
        let mut u = second;
        while u != self.join {
            let e = self.pred[u as usize] as usize;
            let mut d = self.flow[e];
            if self.pred_dir[u as usize] == DIR_UP {
                let c = self.cap[e];
                d = if c >= INF { INF } else { c - d };
            }
            if d <= self.delta {
                self.delta = d;
                self.u_out = u;
                result = 2;
            }
            u = self.parent[u as usize];
        }
        if self.delta >= INF {
            return Err(FlowError::Unbounded);
        }
        if result == 1 {
            self.u_in = first;
            self.v_in = second;
        } else {
            self.u_in = second;
            self.v_in = first;
        }
        Ok(result != 0)
    }

    fn change_flow(&mut self, change: bool) {
        if self.delta > 0 {
            let val = i64::from(self.state[self.in_arc]) * self.delta;
            self.flow[self.in_arc] += val;
            let mut u = self.source[self.in_arc];
            while u != self.join {
                let e = self.pred[u as usize] as usize;
                self.flow[e] -= i64::from(self.pred_dir[u as usize]) * val;
                u = self.parent[u as usize];
            }
            let mut u = self.target[self.in_arc];
            while u != self.join {
                let e = self.pred[u as usize] as usize;
                self.flow[e] += i64::from(self.pred_dir[u as usize]) * val;
                u = self.parent[u as usize];
            }
        }
        if change {
            self.state[self.in_arc] = STATE_TREE;
            let out = self.pred[self.u_out as usize] as usize;
            self.state[out] = if self.flow[out] == 0 { STATE_LOWER } else { STATE_UPPER };
        } else {
            self.state[self.in_arc] = -self.state[self.in_arc];
        }
    }

    fn update_tree_structure(&mut self) {
        let u_out = self.u_out as usize;
        let u_in = self.u_in as usize;
        let v_in = self.v_in as usize;
        let join = self.join as usize;
        let old_rev_thread = self.rev_thread[u_out] as usize;
        let old_succ_num = self.succ_num[u_out];
        let old_last_succ = self.last_succ[u_out] as usize;
        let v_out = self.parent[u_out] as usize;

        if u_in == u_out {
            // The entering arc replaces the predecessor arc of u_in: only the parent changes.
            self.parent[u_in] = v_in as u32;
            self.pred[u_in] = self.in_arc as u32;
            self.pred_dir[u_in] = if u_in as u32 == self.source[self.in_arc] { DIR_UP } else { DIR_DOWN };
            if self.thread[v_in] as usize != u_out {
                let mut after = self.thread[old_last_succ] as usize;
                self.thread[old_rev_thread] = after as u32;
                self.rev_thread[after] = old_rev_thread as u32;
                after = self.thread[v_in] as usize;
                self.thread[v_in] = u_out as u32;
                self.rev_thread[u_out] = v_in as u32;
                self.thread[old_last_succ] = after as u32;
                self.rev_thread[after] = old_last_succ as u32;
            }
        } else {
            // When old_rev_thread is v_in, join and v_out coincide.
            let thread_continue =
                if old_rev_thread == v_in { self.thread[old_last_succ] } else { self.thread[v_in] } as usize;

            // Re-hang the stem (u_in … u_out) under v_in, reversing it, and splice the
            // subtrees into the thread.
            let mut stem = u_in;
            let mut par_stem = v_in;
            let mut last = self.last_succ[u_in] as usize;
            let mut after = self.thread[last] as usize;
            self.thread[v_in] = u_in as u32;
            self.dirty_revs.clear();
            self.dirty_revs.push(v_in as u32);
            while stem != u_out {
                let next_stem = self.parent[stem] as usize;
                self.thread[last] = next_stem as u32;
                self.dirty_revs.push(last as u32);

                let before = self.rev_thread[stem] as usize;
                self.thread[before] = after as u32;
                self.rev_thread[after] = before as u32;

                self.parent[stem] = par_stem as u32;
                par_stem = stem;
                stem = next_stem;

                last = if self.last_succ[stem] == self.last_succ[par_stem] {
                    self.rev_thread[par_stem] as usize
                } else {
                    self.last_succ[stem] as usize
                };
                after = self.thread[last] as usize;
            }
            self.parent[u_out] = par_stem as u32;
            self.thread[last] = thread_continue as u32;
            self.rev_thread[thread_continue] = last as u32;
            self.last_succ[u_out] = last as u32;

            if old_rev_thread != v_in {
                self.thread[old_rev_thread] = after as u32;
                self.rev_thread[after] = old_rev_thread as u32;
            }

            for i in 0..self.dirty_revs.len() {
                let u = self.dirty_revs[i] as usize;
                let t = self.thread[u] as usize;
                self.rev_thread[t] = u as u32;
            }

            // Predecessor arcs, directions, subtree sizes and last successors along the stem.
            let mut tmp_sc: i64 = 0;
            let tmp_ls = self.last_succ[u_out];
            let mut u = u_out;
            while u != u_in {
                let p = self.parent[u] as usize;
                self.pred[u] = self.pred[p];
                self.pred_dir[u] = -self.pred_dir[p];
                tmp_sc += i64::from(self.succ_num[u]) - i64::from(self.succ_num[p]);
                self.succ_num[u] = tmp_sc as u32;
                self.last_succ[p] = tmp_ls;
                u = p;
            }
            self.pred[u_in] = self.in_arc as u32;
            self.pred_dir[u_in] = if u_in as u32 == self.source[self.in_arc] { DIR_UP } else { DIR_DOWN };
            self.succ_num[u_in] = old_succ_num;
        }

        // Last successors from v_in towards the root.
        let up_limit_out = if self.last_succ[join] as usize == v_in { join as u32 } else { NONE };
        let last_succ_out = self.last_succ[u_out];
        let mut u = v_in as u32;
        while u != NONE && self.last_succ[u as usize] as usize == v_in {
            self.last_succ[u as usize] = last_succ_out;
            u = self.parent[u as usize];
        }
        // Last successors from v_out towards the root.
        if join != old_rev_thread && v_in != old_rev_thread {
            let mut u = v_out as u32;
            while u != up_limit_out && self.last_succ[u as usize] as usize == old_last_succ {
                self.last_succ[u as usize] = old_rev_thread as u32;
                u = self.parent[u as usize];
            }
        } else if last_succ_out as usize != old_last_succ {
            let mut u = v_out as u32;
            while u != up_limit_out && self.last_succ[u as usize] as usize == old_last_succ {
                self.last_succ[u as usize] = last_succ_out;
                u = self.parent[u as usize];
            }
        }

        // Subtree sizes from v_in and from v_out up to the join.
        let mut u = v_in;
        while u != join {
            self.succ_num[u] += old_succ_num;
            u = self.parent[u] as usize;
        }
        let mut u = v_out;
        while u != join {
            self.succ_num[u] -= old_succ_num;
            u = self.parent[u] as usize;
        }
    }

    /// Potentials of the moved subtree (rooted at u_in) shift by the same amount. Only
    /// differences of potentials matter, so when the subtree holds more than half of the nodes
    /// the rest of the tree shifts the other way instead (the thread is a cycle through all
    /// nodes: the rest starts after the subtree's last node and ends before u_in).
    fn update_potential(&mut self) {
        let u_in = self.u_in as usize;
        let sigma =
            self.pi[self.v_in as usize] - self.pi[u_in] - i64::from(self.pred_dir[u_in]) * self.cost[self.in_arc];
        let end = self.thread[self.last_succ[u_in] as usize];
        if (self.succ_num[u_in] as usize) * 2 <= self.node_num + 1 {
            let mut u = u_in as u32;
            while u != end {
                self.pi[u as usize] += sigma;
                u = self.thread[u as usize];
            }
        } else {
            let mut u = end;
            while u as usize != u_in {
                self.pi[u as usize] -= sigma;
                u = self.thread[u as usize];
            }
            // The root moved with the rest: bring it back to 0 before the drift could matter
            // (potentials relative to the root stay within ±2·ART ≤ i64::MAX / 4).
            let drift = self.pi[self.root as usize];
            if drift.unsigned_abs() > (i64::MAX / 8) as u64 {
                for p in &mut self.pi {
                    *p -= drift;
                }
            }
        }
    }

    fn run(&mut self) -> Result<(), FlowError> {
        loop {
            while self.find_entering_arc() {
                self.find_join_node();
                let change = self.find_leaving_arc()?;
                self.change_flow(change);
                if change {
                    self.update_tree_structure();
                    self.update_potential();
                }
                self.pivots += 1;
            }
            // Optimal over the arcs searched so far: now every arc.
            if self.search_arc_num == self.arc_num {
                return Ok(());
            }
            self.search_arc_num = self.arc_num;
            self.block_size = ((self.arc_num as f64).sqrt() as usize).max(10);
            self.next_arc = 0;
        }
    }

    fn into_flow(self, net: &Network) -> Result<Flow, FlowError> {
        // Any flow left on an artificial arc means the supplies cannot be met.
        if (self.arc_num..self.arc_num + self.node_num).any(|e| self.flow[e] != 0) {
            return Err(FlowError::Infeasible);
        }
        let flow: Vec<i64> = self.position.iter().map(|&p| self.flow[p as usize]).collect();
        let cost = flow.iter().zip(&net.cost).map(|(&f, &c)| i128::from(f) * i128::from(c)).sum();
        let root = self.pi[self.root as usize];
        let potential = self.pi[..self.node_num].iter().map(|p| p - root).collect();
        Ok(Flow { flow, cost, potential, pivots: self.pivots })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Successive shortest paths with Bellman–Ford, one unit at a time: slow, obviously
    /// correct on small networks (super source and sink; no negative cycles in our tests since
    /// costs are non-negative).
    fn reference_cost(net: &Network) -> Option<i128> {
        let n = net.node_count();
        let s = n;
        let t = n + 1;
        // Residual graph as an edge list with paired reverse edges.
        let mut to = Vec::new();
        let mut cap = Vec::new();
        let mut cost = Vec::new();
        let mut from = Vec::new();
        let mut add = |a: usize, b: usize, c: i64, w: i64| {
            from.push(a);
            to.push(b);
            cap.push(c);
            cost.push(w);
            from.push(b);
            to.push(a);
            cap.push(0);
            cost.push(-w);
        };
        let mut need = 0;
        for u in 0..n {
            let sup = net.supply(u as u32);
            if sup > 0 {
                add(s, u, sup, 0);
                need += sup;
            } else if sup < 0 {
                add(u, t, -sup, 0);
            }
        }
        for a in 0..net.arc_count() {
            let (u, v, c, w) = net.arc(a);
            add(u as usize, v as usize, c, w);
        }
        let mut total: i128 = 0;
        for _ in 0..need {
            let mut dist = vec![i64::MAX; n + 2];
            let mut via = vec![usize::MAX; n + 2];
            dist[s] = 0;
            for _ in 0..n + 2 {
                let mut changed = false;
                for e in 0..to.len() {
                    if cap[e] > 0 && dist[from[e]] != i64::MAX && dist[from[e]] + cost[e] < dist[to[e]] {
                        dist[to[e]] = dist[from[e]] + cost[e];
                        via[to[e]] = e;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            if dist[t] == i64::MAX {
                return None;
            }
            let mut v = t;
            while v != s {
                let e = via[v];
                cap[e] -= 1;
                cap[e ^ 1] += 1;
                v = from[e];
            }
            total += i128::from(dist[t]);
        }
        Some(total)
    }

    fn check_certificate(net: &Network, f: &Flow) {
        let n = net.node_count();
        let mut balance = vec![0i64; n];
        for a in 0..net.arc_count() {
            let (u, v, c, w) = net.arc(a);
            let x = f.flow[a];
            assert!((0..=c).contains(&x), "arc {a}: flow {x} outside [0, {c}]");
            balance[u as usize] += x;
            balance[v as usize] -= x;
            let rc = w + f.potential[u as usize] - f.potential[v as usize];
            if x < c {
                assert!(rc >= 0, "arc {a} could increase at reduced cost {rc}");
            }
            if x > 0 {
                assert!(rc <= 0, "arc {a} could decrease at reduced cost {rc}");
            }
        }
        for (u, b) in balance.iter().enumerate() {
            assert_eq!(*b, net.supply(u as u32), "node {u}");
        }
    }

    #[test]
    fn transportation_by_hand() {
        // Two sources (3 and 2 units), two sinks (demand 4 and 1), an expensive shortcut.
        let mut net = Network::new();
        let a = net.add_node(3);
        let b = net.add_node(2);
        let x = net.add_node(-4);
        let y = net.add_node(-1);
        net.add_arc(a, x, 10, 1);
        net.add_arc(a, y, 10, 5);
        net.add_arc(b, x, 1, 2);
        net.add_arc(b, y, 10, 1);
        net.add_arc(b, x, 10, 9);
        let f = net.solve().unwrap();
        // a→x 3, b→x 1 at 2, b→y 1: 3 + 2 + 1 = 6.
        assert_eq!(f.cost, 6);
        check_certificate(&net, &f);
    }

    #[test]
    fn infeasible_and_unbalanced() {
        let mut net = Network::new();
        let a = net.add_node(2);
        let b = net.add_node(-2);
        net.add_arc(a, b, 1, 0);
        assert_eq!(net.solve(), Err(FlowError::Infeasible));
        net.add_supply(a, 1);
        assert_eq!(net.solve(), Err(FlowError::Unbalanced(1)));
    }

    #[test]
    fn empty_network() {
        let f = Network::new().solve().unwrap();
        assert_eq!(f.cost, 0);
    }

    fn random_network() -> impl Strategy<Value = Network> {
        (
            2usize..9,
            prop::collection::vec((0usize..9, 0usize..9, 0i64..6, 0i64..20), 0..30),
            prop::collection::vec(-4i64..5, 9),
        )
            .prop_map(|(n, arcs, supplies)| {
                let mut net = Network::new();
                let mut total = 0;
                for &s in supplies.iter().take(n - 1) {
                    net.add_node(s);
                    total += s;
                }
                net.add_node(-total);
                for (u, v, c, w) in arcs {
                    let (u, v) = (u % n, v % n);
                    if u != v {
                        net.add_arc(u as u32, v as u32, c, w);
                    }
                }
                net
            })
    }

    /// Always feasible: every supply node also reaches the last node (the only demand) directly,
    /// at a high cost, besides random arcs through the others.
    fn feasible_network() -> impl Strategy<Value = Network> {
        (
            3usize..16,
            prop::collection::vec((0usize..16, 0usize..16, 0i64..8, 0i64..50), 0..80),
            prop::collection::vec(0i64..6, 16),
        )
            .prop_map(|(n, arcs, supplies)| {
                let mut net = Network::new();
                let mut total = 0;
                for &s in supplies.iter().take(n - 1) {
                    net.add_node(s);
                    total += s;
                }
                let sink = net.add_node(-total);
                for (u, v, c, w) in arcs {
                    let (u, v) = (u % n, v % n);
                    // Some arcs deferred: the optimum must not change.
                    if u != v && w % 3 == 0 {
                        net.add_deferred_arc(u as u32, v as u32, c, w);
                    } else if u != v {
                        net.add_arc(u as u32, v as u32, c, w);
                    }
                }
                for (u, &s) in supplies.iter().enumerate().take(n - 1) {
                    net.add_arc(u as u32, sink, s, 100);
                }
                net
            })
    }

    proptest! {
        #[test]
        fn feasible_optimal_like_the_reference(net in feasible_network()) {
            let f = net.solve().unwrap();
            prop_assert_eq!(Some(f.cost), reference_cost(&net));
            check_certificate(&net, &f);
        }

        #[test]
        fn optimal_like_the_reference(net in random_network()) {
            let ours = net.solve();
            match reference_cost(&net) {
                None => prop_assert_eq!(ours, Err(FlowError::Infeasible)),
                Some(cost) => {
                    let f = ours.unwrap();
                    prop_assert_eq!(f.cost, cost);
                    check_certificate(&net, &f);
                }
            }
        }
    }
}
