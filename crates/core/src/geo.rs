//! Points on the Earth and great-circle distances between them.

use serde::{Deserialize, Serialize};

/// Mean Earth radius used for every distance in Maillage (km).
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// A WGS84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    pub lat: f64,
    pub lon: f64,
}

impl LatLon {
    pub const fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Great-circle distance in km (haversine formula, R = 6371 km).
    pub fn distance_km(self, other: LatLon) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paris_to_lyon_is_about_392_km() {
        // Hôtel de Ville de Paris -> Hôtel de Ville de Lyon, reference value from the haversine
        // formula with R = 6371 km computed independently (391.5 km).
        let paris = LatLon::new(48.856_614, 2.352_222);
        let lyon = LatLon::new(45.767_299, 4.834_329);
        let d = paris.distance_km(lyon);
        assert!((d - 391.5).abs() < 0.5, "{d}");
    }

    #[test]
    fn quarter_meridian() {
        let d = LatLon::new(0.0, 0.0).distance_km(LatLon::new(90.0, 0.0));
        assert!((d - EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2).abs() < 1e-9);
    }

    fn point() -> impl Strategy<Value = LatLon> {
        (-90.0f64..90.0, -180.0f64..180.0).prop_map(|(lat, lon)| LatLon::new(lat, lon))
    }

    proptest! {
        #[test]
        fn symmetric_and_triangle(a in point(), b in point(), c in point()) {
            let ab = a.distance_km(b);
            prop_assert!((ab - b.distance_km(a)).abs() < 1e-6);
            prop_assert!(ab <= a.distance_km(c) + c.distance_km(b) + 1e-6);
            prop_assert!((0.0..=EARTH_RADIUS_KM * std::f64::consts::PI + 1e-6).contains(&ab));
            prop_assert!(a.distance_km(a) < 1e-9);
        }
    }
}
