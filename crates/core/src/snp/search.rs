//! The best free slots for a patient: nearest first, then soonest.
//!
//! [`SlotIndex`] groups the slots by *site* (a practice position: slots of professionals
//! practising at the same commune centre share one distance to the patient) and, inside a site,
//! by bucket (profession, place), each bucket sorted by (start, id). A search:
//! 1. computes the distance from the patient to every site, drops those beyond the maximum, and
//!    sorts the rest (a département has a few hundred sites);
//! 2. visits the sites nearest first; in each bucket that matches the profession and place
//!    filters, it binary-searches the window start and scans forward to the window end, keeping
//!    at most `limit` free slots with the audience (the bucket is in start order, so the first
//!    ones are the bucket's best);
//! 3. stops as soon as it holds `limit` slots and the next site is farther than the last kept
//!    one: no later site can do better, since the order is distance first.
//!
//! Cost: O(S log S) for S sites, plus O(log B + k) per visited bucket, k being the slots of the
//! bucket inside the time window. With a 24-hour window that is a few hundred entries per site,
//! independent of how many weeks of future slots the index holds.
//!
//! Teleconsultation slots have no distance: they are left out unless the query's places include
//! [`Place::Teleconsultation`]; then they count as distance 0 (they come first, by start) and
//! the maximum distance does not apply to them.

use super::availability::{Audience, AudienceSet, Place, ProfessionalId};
use super::expand::{Slot, SlotId};
use crate::geo::LatLon;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// How many slots a search returns unless asked otherwise.
pub const DEFAULT_LIMIT: usize = 10;

/// A profession code of the Annuaire Santé (`10` médecin, `60` infirmier…; see
/// `crate::directory::professions`): two ASCII digits, stored in two bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProfessionCode([u8; 2]);

impl ProfessionCode {
    pub fn as_str(&self) -> &str {
        // Built from two ASCII digits only.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// A string that is not a two-digit profession code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a profession code (two digits)")]
pub struct ProfessionCodeError(pub String);

impl FromStr for ProfessionCode {
    type Err = ProfessionCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().as_bytes() {
            &[a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Ok(ProfessionCode([a, b])),
            _ => Err(ProfessionCodeError(s.to_owned())),
        }
    }
}

impl fmt::Display for ProfessionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProfessionCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A slot as the index receives it: who offers it, where, and how much of it is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Offer {
    pub slot: Slot,
    pub profession: ProfessionCode,
    /// Where the professional practises (their commune's centre, `refdata::Commune::centre`).
    pub position: LatLon,
    /// Patients already booked on it.
    pub booked: u8,
}

/// What the operator asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotQuery {
    /// The patient's position (their commune's centre).
    pub position: LatLon,
    /// Slots starting in `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub profession: Option<ProfessionCode>,
    /// Accepted places; teleconsultation only when listed.
    pub places: Vec<Place>,
    /// The slot must be open to this audience.
    pub audience: Audience,
    /// Farthest practice, in km (teleconsultation aside).
    pub max_km: Option<f64>,
    pub limit: usize,
}

impl SlotQuery {
    /// The usual SNP query: the next 24 hours, at the practice or at home, open to SNP
    /// regulation, any profession, any distance, the best [`DEFAULT_LIMIT`].
    pub fn near(position: LatLon, now: DateTime<Utc>) -> Self {
        SlotQuery {
            position,
            from: now,
            to: now + Duration::hours(24),
            profession: None,
            places: vec![Place::Cabinet, Place::Domicile],
            audience: Audience::Snp,
            max_km: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// One slot found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hit {
    pub id: SlotId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub place: Place,
    pub profession: ProfessionCode,
    /// From the patient to the practice, km (0 for teleconsultation).
    pub distance_km: f64,
    /// Patients it can still take.
    pub free: u8,
}

/// Why a slot cannot be booked or released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookingError {
    #[error("no such slot")]
    Unknown,
    #[error("the slot is full")]
    Full,
    #[error("the slot has no booking to release")]
    NotBooked,
}

impl BookingError {
    pub fn fr(self) -> &'static str {
        match self {
            BookingError::Unknown => "ce créneau n'existe pas (ou plus)",
            BookingError::Full => "ce créneau est complet",
            BookingError::NotBooked => "ce créneau n'a pas de réservation à annuler",
        }
    }
}

/// One slot inside a bucket.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: DateTime<Utc>,
    id: SlotId,
    minutes: u16,
    capacity: u8,
    free: u8,
    audiences: AudienceSet,
}

impl Entry {
    fn key(&self) -> (DateTime<Utc>, SlotId) {
        (self.start, self.id)
    }
}

/// The slots of one (site, profession, place), in (start, id) order.
#[derive(Debug)]
struct Bucket {
    profession: ProfessionCode,
    place: Place,
    entries: Vec<Entry>,
}

/// A practice position; teleconsultation buckets live apart, in `remote`.
#[derive(Debug)]
struct Site {
    position: LatLon,
    buckets: Vec<u32>,
}

/// Free slots, indexed for nearest-then-soonest searches; it tracks bookings so free counts
/// stay right between two rebuilds.
#[derive(Debug, Default)]
pub struct SlotIndex {
    sites: Vec<Site>,
    remote: Vec<u32>,
    buckets: Vec<Bucket>,
    by_professional: HashMap<ProfessionalId, Vec<u32>>,
    len: usize,
}

impl SlotIndex {
    /// Builds the index. A slot offered twice (same id) is kept once, the first time.
    pub fn new(offers: impl IntoIterator<Item = Offer>) -> Self {
        let mut index = SlotIndex::default();
        let mut sites: HashMap<(u64, u64), u32> = HashMap::new();
        let mut buckets: HashMap<(Option<u32>, ProfessionCode, Place), u32> = HashMap::new();
        let mut seen: HashSet<SlotId> = HashSet::new();
        for offer in offers.into_iter().filter(|o| seen.insert(o.slot.id)) {
            let b = index.bucket_for(&offer, &mut sites, &mut buckets);
            index.buckets[b as usize].entries.push(entry(&offer));
            index.note_professional(offer.slot.id.professional, b);
        }
        for bucket in &mut index.buckets {
            bucket.entries.sort_unstable_by_key(Entry::key);
        }
        index.len = index.buckets.iter().map(|b| b.entries.len()).sum();
        index
    }

    fn bucket_for(
        &mut self,
        offer: &Offer,
        sites: &mut HashMap<(u64, u64), u32>,
        buckets: &mut HashMap<(Option<u32>, ProfessionCode, Place), u32>,
    ) -> u32 {
        let place = offer.slot.place;
        let site = (place != Place::Teleconsultation).then(|| {
            let key = (offer.position.lat.to_bits(), offer.position.lon.to_bits());
            *sites.entry(key).or_insert_with(|| {
                self.sites.push(Site { position: offer.position, buckets: Vec::new() });
                index_u32(self.sites.len() - 1)
            })
        });
        *buckets.entry((site, offer.profession, place)).or_insert_with(|| {
            let b = index_u32(self.buckets.len());
            self.buckets.push(Bucket { profession: offer.profession, place, entries: Vec::new() });
            match site {
                Some(s) => self.sites[s as usize].buckets.push(b),
                None => self.remote.push(b),
            }
            b
        })
    }

    fn note_professional(&mut self, professional: ProfessionalId, bucket: u32) {
        let list = self.by_professional.entry(professional).or_default();
        if !list.contains(&bucket) {
            list.push(bucket);
        }
    }

    /// How many slots the index holds (free or not).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many distinct practice positions it holds.
    pub fn sites(&self) -> usize {
        self.sites.len()
    }

    /// The best `query.limit` free slots, ordered by distance, then start, then id.
    pub fn search(&self, query: &SlotQuery) -> Vec<Hit> {
        let mut hits: Vec<Hit> = Vec::new();
        if query.limit == 0 || query.to <= query.from {
            return hits;
        }
        if query.places.contains(&Place::Teleconsultation) {
            for &b in &self.remote {
                self.collect(b, 0.0, query, &mut hits);
            }
            keep_best(&mut hits, query.limit);
        }
        let physical = query.places.iter().any(|p| *p != Place::Teleconsultation);
        let mut near: Vec<(f64, u32)> = if physical {
            (0..self.sites.len())
                .map(|s| (query.position.distance_km(self.sites[s].position), index_u32(s)))
                .filter(|(d, _)| query.max_km.is_none_or(|max| *d <= max))
                .collect()
        } else {
            Vec::new()
        };
        near.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (distance, s) in near {
            if hits.len() >= query.limit && hits.last().is_some_and(|h| h.distance_km < distance) {
                break;
            }
            for &b in &self.sites[s as usize].buckets {
                self.collect(b, distance, query, &mut hits);
            }
            keep_best(&mut hits, query.limit);
        }
        hits
    }

    /// Adds the bucket's first `limit` free matching slots of the window to `hits`.
    fn collect(&self, b: u32, distance_km: f64, query: &SlotQuery, hits: &mut Vec<Hit>) {
        let bucket = &self.buckets[b as usize];
        if query.profession.is_some_and(|p| p != bucket.profession) || !query.places.contains(&bucket.place) {
            return;
        }
        let first = bucket.entries.partition_point(|e| e.start < query.from);
        let found = bucket.entries[first..]
            .iter()
            .take_while(|e| e.start < query.to)
            .filter(|e| e.free > 0 && e.audiences.contains(query.audience))
            .take(query.limit)
            .map(|e| Hit {
                id: e.id,
                start: e.start,
                end: e.start + Duration::minutes(i64::from(e.minutes)),
                place: bucket.place,
                profession: bucket.profession,
                distance_km,
                free: e.free,
            });
        hits.extend(found);
    }

    /// Free places left on a slot, `None` if the index does not know it.
    pub fn free(&self, id: &SlotId) -> Option<u8> {
        let (b, i) = self.locate(id)?;
        Some(self.buckets[b].entries[i].free)
    }

    /// Takes one place of a slot; gives the places left. A full slot is refused, so a slot is
    /// never booked beyond its capacity.
    pub fn book(&mut self, id: &SlotId) -> Result<u8, BookingError> {
        let (b, i) = self.locate(id).ok_or(BookingError::Unknown)?;
        let e = &mut self.buckets[b].entries[i];
        e.free = e.free.checked_sub(1).ok_or(BookingError::Full)?;
        Ok(e.free)
    }

    /// Gives back one place (a booking cancelled); gives the places left.
    pub fn release(&mut self, id: &SlotId) -> Result<u8, BookingError> {
        let (b, i) = self.locate(id).ok_or(BookingError::Unknown)?;
        let e = &mut self.buckets[b].entries[i];
        if e.free >= e.capacity {
            return Err(BookingError::NotBooked);
        }
        e.free += 1;
        Ok(e.free)
    }

    /// Adds a slot published after the build (a no-op for an id already there).
    pub fn insert(&mut self, offer: Offer) {
        if self.locate(&offer.slot.id).is_some() {
            return;
        }
        let mut sites = self.site_keys();
        let mut buckets = self.bucket_keys();
        let b = self.bucket_for(&offer, &mut sites, &mut buckets);
        let e = entry(&offer);
        let entries = &mut self.buckets[b as usize].entries;
        let at = entries.partition_point(|x| x.key() < e.key());
        entries.insert(at, e);
        self.note_professional(offer.slot.id.professional, b);
        self.len += 1;
    }

    fn site_keys(&self) -> HashMap<(u64, u64), u32> {
        let key = |s: &Site| (s.position.lat.to_bits(), s.position.lon.to_bits());
        self.sites.iter().enumerate().map(|(i, s)| (key(s), index_u32(i))).collect()
    }

    fn bucket_keys(&self) -> HashMap<(Option<u32>, ProfessionCode, Place), u32> {
        let mut keys = HashMap::new();
        for (s, site) in self.sites.iter().enumerate() {
            for &b in &site.buckets {
                let bucket = &self.buckets[b as usize];
                keys.insert((Some(index_u32(s)), bucket.profession, bucket.place), b);
            }
        }
        for &b in &self.remote {
            let bucket = &self.buckets[b as usize];
            keys.insert((None, bucket.profession, bucket.place), b);
        }
        keys
    }

    /// (bucket, position) of a slot: its professional's buckets of that place, then a binary
    /// search on (start, id), the start coming from the id's wall-clock time.
    fn locate(&self, id: &SlotId) -> Option<(usize, usize)> {
        let start = id.start()?;
        self.by_professional.get(&id.professional)?.iter().find_map(|&b| {
            let bucket = &self.buckets[b as usize];
            if bucket.place != id.place {
                return None;
            }
            let i = bucket.entries.binary_search_by(|e| e.key().cmp(&(start, *id))).ok()?;
            Some((b as usize, i))
        })
    }
}

fn entry(offer: &Offer) -> Entry {
    let s = &offer.slot;
    let minutes = u16::try_from((s.end - s.start).num_minutes()).unwrap_or(u16::MAX);
    Entry {
        start: s.start,
        id: s.id,
        minutes,
        capacity: s.capacity,
        free: s.capacity.saturating_sub(offer.booked),
        audiences: s.audiences,
    }
}

/// Sorts by (distance, start, id) and keeps the first `limit`.
fn keep_best(hits: &mut Vec<Hit>, limit: usize) {
    hits.sort_unstable_by(|a, b| {
        a.distance_km.total_cmp(&b.distance_km).then(a.start.cmp(&b.start)).then(a.id.cmp(&b.id))
    });
    hits.truncate(limit);
}

/// Sites and buckets number far below 2³²; saturating keeps this total without a panic path.
fn index_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snp::availability::tests::{availability, d, range, t};
    use crate::snp::expand::expand;
    use chrono::Weekday;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn code(s: &str) -> ProfessionCode {
        s.parse().unwrap()
    }

    const BLOIS: LatLon = LatLon::new(47.5861, 1.3359);
    const VENDOME: LatLon = LatLon::new(47.7929, 1.0656);
    const ROMORANTIN: LatLon = LatLon::new(47.3597, 1.7411);

    fn offers(pro: u64, position: LatLon, profession: &str, place: Place, weekday: Weekday) -> Vec<Offer> {
        let mut a = availability(vec![range(weekday, t(8, 0), t(12, 0), 30)]);
        a.professional = ProfessionalId(pro);
        a.weekly[0].place = place;
        expand(&a, utc("2026-06-01T00:00:00Z"), utc("2026-06-15T00:00:00Z"))
            .unwrap()
            .into_iter()
            .map(|slot| Offer { slot, profession: code(profession), position, booked: 0 })
            .collect()
    }

    fn index() -> SlotIndex {
        let mut all = offers(1, BLOIS, "10", Place::Cabinet, Weekday::Tue);
        all.extend(offers(2, VENDOME, "10", Place::Cabinet, Weekday::Tue));
        all.extend(offers(3, VENDOME, "60", Place::Domicile, Weekday::Tue));
        all.extend(offers(4, ROMORANTIN, "10", Place::Teleconsultation, Weekday::Tue));
        all.extend(offers(5, BLOIS, "10", Place::Cabinet, Weekday::Wed));
        SlotIndex::new(all)
    }

    fn ids(hits: &[Hit]) -> Vec<String> {
        hits.iter().map(|h| h.id.to_string()).collect()
    }

    #[test]
    fn nearest_first_then_soonest() {
        let index = index();
        assert_eq!(index.sites(), 2); // teleconsultation has no site
        // Monday 2 June 2026 at 12:00 in Blois: the next 24 hours hold Tuesday morning.
        let mut q = SlotQuery::near(BLOIS, utc("2026-06-01T10:00:00Z"));
        q.limit = 10;
        let hits = index.search(&q);
        assert_eq!(hits.len(), 10);
        // Blois's 8 Tuesday slots, then the earliest 2 of Vendôme (doctor and nurse at 08:00,
        // then by id: p2 before p3).
        assert!(hits[..8].iter().all(|h| h.id.professional == ProfessionalId(1) && h.distance_km < 0.01));
        assert_eq!(ids(&hits[8..]), ["p2-20260602T0800-C", "p3-20260602T0800-D"]);
        assert!(hits[8].distance_km > 20.0 && hits[8].distance_km < 40.0, "{}", hits[8].distance_km);
        assert_eq!(hits[0].start, utc("2026-06-02T06:00:00Z"));
        assert_eq!(hits[0].end, utc("2026-06-02T06:30:00Z"));
    }

    #[test]
    fn filters_profession_place_distance_audience_and_window() {
        let index = index();
        let now = utc("2026-06-01T10:00:00Z");
        let mut q = SlotQuery::near(BLOIS, now);
        q.profession = Some(code("60"));
        assert!(index.search(&q).iter().all(|h| h.id.professional == ProfessionalId(3)));
        q.profession = None;
        q.places = vec![Place::Domicile];
        assert_eq!(index.search(&q).len(), 8);
        q.places = vec![Place::Cabinet];
        q.max_km = Some(5.0);
        assert_eq!(index.search(&q).len(), 8);
        q.audience = Audience::Public;
        assert!(index.search(&q).is_empty());
        // Wednesday's slots are beyond 24 hours from Monday noon.
        let mut q = SlotQuery::near(BLOIS, now);
        q.limit = 100;
        assert_eq!(index.search(&q).len(), 24);
        q.to = now + Duration::hours(48);
        assert_eq!(index.search(&q).len(), 32);
        // From Tuesday 09:00 (07:00Z), the 08:00 and 08:30 slots are past.
        let q = SlotQuery { limit: 100, ..SlotQuery::near(BLOIS, utc("2026-06-02T07:00:00Z")) };
        assert!(index.search(&q).iter().all(|h| h.start >= utc("2026-06-02T07:00:00Z")));
    }

    #[test]
    fn teleconsultation_only_when_asked_and_at_distance_zero() {
        let index = index();
        // About 0.9 km from Vendôme's centre.
        let mut q = SlotQuery::near(LatLon::new(47.80, 1.07), utc("2026-06-01T10:00:00Z"));
        assert!(index.search(&q).iter().all(|h| h.place != Place::Teleconsultation));
        q.places = vec![Place::Cabinet, Place::Teleconsultation];
        q.max_km = Some(2.0);
        let hits = index.search(&q);
        assert_eq!(hits.len(), 10);
        assert_eq!(ids(&hits[..2]), ["p4-20260602T0800-T", "p4-20260602T0830-T"]);
        assert!(hits[..8].iter().all(|h| h.place == Place::Teleconsultation && h.distance_km == 0.0));
        assert!(hits[8..].iter().all(|h| h.id.professional == ProfessionalId(2) && h.distance_km > 0.5));
    }

    #[test]
    fn booking_decrements_and_never_overbooks() {
        let mut index = index();
        let id: SlotId = "p1-20260602T0800-C".parse().unwrap();
        assert_eq!(index.free(&id), Some(1));
        assert_eq!(index.book(&id), Ok(0));
        assert_eq!(index.book(&id), Err(BookingError::Full));
        let q = SlotQuery::near(BLOIS, utc("2026-06-01T10:00:00Z"));
        assert_eq!(index.search(&q)[0].id.to_string(), "p1-20260602T0830-C");
        assert_eq!(index.release(&id), Ok(1));
        assert_eq!(index.release(&id), Err(BookingError::NotBooked));
        assert_eq!(index.search(&q)[0].id, id);
        let unknown: SlotId = "p1-20260602T0800-D".parse().unwrap();
        assert_eq!(index.book(&unknown), Err(BookingError::Unknown));
        assert!(!BookingError::Full.fr().is_empty());
    }

    #[test]
    fn capacity_and_already_booked_places_count() {
        let mut all = offers(9, BLOIS, "60", Place::Domicile, Weekday::Tue);
        for o in &mut all {
            o.slot.capacity = 3;
            o.booked = 2;
        }
        all[0].booked = 3;
        let mut index = SlotIndex::new(all.clone());
        index.insert(all[1]); // already there: ignored
        assert_eq!(index.len(), all.len());
        let hits = index.search(&SlotQuery::near(BLOIS, utc("2026-06-01T10:00:00Z")));
        assert_eq!(hits[0].id, all[1].slot.id);
        assert_eq!(hits[0].free, 1);
        assert_eq!(index.book(&all[1].slot.id), Ok(0));
        assert_eq!(index.book(&all[1].slot.id), Err(BookingError::Full));
    }

    #[test]
    fn profession_codes() {
        assert_eq!(code(" 60 ").to_string(), "60");
        for bad in ["", "6", "600", "6a", "é"] {
            assert!(bad.parse::<ProfessionCode>().is_err(), "{bad}");
        }
    }

    /// The reference answer: every free matching slot, sorted, truncated.
    fn naive(offers: &[Offer], q: &SlotQuery) -> Vec<Hit> {
        let mut hits: Vec<Hit> = offers
            .iter()
            .filter(|o| o.slot.start >= q.from && o.slot.start < q.to && o.booked < o.slot.capacity)
            .filter(|o| o.slot.audiences.contains(q.audience) && q.places.contains(&o.slot.place))
            .filter(|o| q.profession.is_none_or(|p| p == o.profession))
            .map(|o| {
                let tele = o.slot.place == Place::Teleconsultation;
                let distance_km = if tele { 0.0 } else { q.position.distance_km(o.position) };
                (
                    tele,
                    Hit {
                        id: o.slot.id,
                        start: o.slot.start,
                        end: o.slot.end,
                        place: o.slot.place,
                        profession: o.profession,
                        distance_km,
                        free: o.slot.capacity - o.booked,
                    },
                )
            })
            .filter(|(tele, h)| *tele || q.max_km.is_none_or(|m| h.distance_km <= m))
            .map(|(_, h)| h)
            .collect();
        keep_best(&mut hits, q.limit);
        hits
    }

    fn random_offers() -> impl Strategy<Value = Vec<Offer>> {
        let positions = [BLOIS, VENDOME, ROMORANTIN, LatLon::new(47.5, 1.5)];
        let offer = (0u64..12, 0usize..4, 0usize..3, 0usize..2, 0i64..300, 1u8..3, 0u8..3, 1u8..16);
        prop::collection::vec(offer, 0..300).prop_map(move |raw| {
            raw.into_iter()
                .map(|(pro, pos, place, prof, quarter, capacity, booked, aud)| {
                    let local_start = d(2026, 6, 1).and_time(t(0, 0)) + Duration::minutes(quarter * 15);
                    let place = Place::ALL[place];
                    let id = SlotId { professional: ProfessionalId(pro), local_start, place };
                    let start = id.start().unwrap();
                    let audiences = Audience::ALL.into_iter().filter(|a| aud & (1 << (*a as u8)) != 0).collect();
                    let slot = Slot { id, start, end: start + Duration::minutes(15), place, audiences, capacity };
                    Offer { slot, profession: code(["10", "60"][prof]), position: positions[pos], booked }
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// The index answers exactly like a full scan.
        #[test]
        fn agrees_with_a_full_scan(
            offers in random_offers(),
            from_q in 0i64..300,
            hours in 1i64..30,
            limit in 0usize..15,
            max_km in prop::option::of(0.0f64..60.0),
            profession in prop::option::of(0usize..2),
            places in 1usize..8,
            audience in 0usize..4,
            at in 0usize..4,
        ) {
            // Deduplicate ids the way the index does (first offer wins).
            let mut seen = std::collections::HashSet::new();
            let unique: Vec<Offer> = offers.iter().copied().filter(|o| seen.insert(o.slot.id)).collect();
            let index = SlotIndex::new(offers);
            let from = utc("2026-05-31T22:00:00Z") + Duration::minutes(from_q * 15);
            let q = SlotQuery {
                position: [BLOIS, VENDOME, ROMORANTIN, LatLon::new(47.2, 1.2)][at],
                from,
                to: from + Duration::hours(hours),
                profession: profession.map(|p| code(["10", "60"][p])),
                places: Place::ALL.into_iter().enumerate().filter(|(i, _)| places & (1 << i) != 0).map(|(_, p)| p).collect(),
                audience: Audience::ALL[audience],
                max_km,
                limit,
            };
            prop_assert_eq!(index.search(&q), naive(&unique, &q));
        }
    }
}
