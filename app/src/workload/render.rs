//! A fixed-point (Q16.16 in `i64`) ray tracer: three seeded spheres over a checkered plane, one
//! directional light with shadows, one reflection bounce. A chunk is an image tile, as row-major RGB
//! bytes; the assembled image is the job's output.

use super::splitmix64;
use serde::{Deserialize, Serialize};

const MAX_SIDE: u32 = 8_192;
const MAX_TILE: u32 = 256;

type Fx = i64;
const ONE: Fx = 1 << 16;
const EPSILON: Fx = ONE / 256;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Render {
    pub seed: u64,
    pub width: u32,
    pub height: u32,
    pub tile: u32,
}

impl Render {
    /// The demo's job: 320 × 192 pixels in 8 × 8 tiles (960 tiles).
    pub fn demo(seed: u64) -> Self {
        Self {
            seed,
            width: 320,
            height: 192,
            tile: 8,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, side) in [("width", self.width), ("height", self.height)] {
            anyhow::ensure!(
                (1..=MAX_SIDE).contains(&side),
                "render {name} must be between 1 and {MAX_SIDE}, not {side}"
            );
        }
        anyhow::ensure!(
            (1..=MAX_TILE).contains(&self.tile),
            "render tile must be between 1 and {MAX_TILE}, not {}",
            self.tile
        );
        Ok(())
    }

    fn tiles_x(&self) -> u32 {
        self.width.div_ceil(self.tile)
    }

    pub fn chunk_count(&self) -> u32 {
        self.tiles_x() * self.height.div_ceil(self.tile)
    }

    /// Pixel bounds `(x0, y0, x1, y1)` of tile `index`.
    fn bounds(&self, index: u32) -> (u32, u32, u32, u32) {
        let (tx, ty) = (index % self.tiles_x(), index / self.tiles_x());
        let (x0, y0) = (tx * self.tile, ty * self.tile);
        (
            x0,
            y0,
            (x0 + self.tile).min(self.width),
            (y0 + self.tile).min(self.height),
        )
    }

    pub fn scene(&self) -> Scene {
        let mut state = self.seed;
        let mut next = move |low: Fx, high: Fx| {
            state = splitmix64(state);
            low + (state % (high - low) as u64) as Fx
        };
        let spheres = (0..3)
            .map(|i| {
                let radius = next(ONE / 2, ONE);
                Sphere {
                    center: V3::new(
                        (i - 1) * 2 * ONE + next(-ONE / 3, ONE / 3),
                        radius,
                        4 * ONE + next(-ONE, ONE),
                    ),
                    radius,
                    color: [
                        next(60, 256) as u8,
                        next(60, 256) as u8,
                        next(60, 256) as u8,
                    ],
                }
            })
            .collect();
        Scene {
            spec: self.clone(),
            spheres,
            light: V3::new(-ONE / 2, ONE, -ONE * 3 / 10).normalized(),
        }
    }

    /// The image assembled from its tiles, as PNG.
    pub fn to_png(&self, tiles: &[Vec<u8>]) -> anyhow::Result<Vec<u8>> {
        anyhow::ensure!(
            tiles.len() == self.chunk_count() as usize,
            "{} tiles for an image of {}",
            tiles.len(),
            self.chunk_count()
        );
        let (width, height) = (self.width as usize, self.height as usize);
        let mut rgb = vec![0u8; width * height * 3];
        for (index, tile) in tiles.iter().enumerate() {
            let (x0, y0, x1, y1) = self.bounds(index as u32);
            let row_len = (x1 - x0) as usize * 3;
            anyhow::ensure!(
                tile.len() == row_len * (y1 - y0) as usize,
                "tile {index} has {} bytes",
                tile.len()
            );
            for (dy, row) in tile.chunks(row_len).enumerate() {
                let at = ((y0 as usize + dy) * width + x0 as usize) * 3;
                rgb[at..at + row_len].copy_from_slice(row);
            }
        }
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&rgb)?;
        Ok(png)
    }
}

#[derive(Clone, Copy, Debug)]
struct V3 {
    x: Fx,
    y: Fx,
    z: Fx,
}

impl V3 {
    const fn new(x: Fx, y: Fx, z: Fx) -> Self {
        Self { x, y, z }
    }
    fn add(self, o: Self) -> Self {
        Self::new(self.x + o.x, self.y + o.y, self.z + o.z)
    }
    fn sub(self, o: Self) -> Self {
        Self::new(self.x - o.x, self.y - o.y, self.z - o.z)
    }
    fn scale(self, s: Fx) -> Self {
        Self::new(mul(self.x, s), mul(self.y, s), mul(self.z, s))
    }
    fn dot(self, o: Self) -> Fx {
        (self.x * o.x + self.y * o.y + self.z * o.z) >> 16
    }
    fn normalized(self) -> Self {
        let length = sqrt(self.dot(self));
        if length == 0 {
            return self;
        }
        Self::new(
            self.x * ONE / length,
            self.y * ONE / length,
            self.z * ONE / length,
        )
    }
}

fn mul(a: Fx, b: Fx) -> Fx {
    (a * b) >> 16
}

fn sqrt(v: Fx) -> Fx {
    ((v.max(0) as u64) << 16).isqrt() as Fx
}

struct Sphere {
    center: V3,
    radius: Fx,
    color: [u8; 3],
}

impl Sphere {
    fn hit(&self, origin: V3, dir: V3) -> Option<Fx> {
        let oc = origin.sub(self.center);
        let b = oc.dot(dir);
        let c = oc.dot(oc) - mul(self.radius, self.radius);
        let disc = mul(b, b) - c;
        if disc < 0 {
            return None;
        }
        let s = sqrt(disc);
        [-b - s, -b + s].into_iter().find(|t| *t > EPSILON)
    }
}

pub struct Scene {
    spec: Render,
    spheres: Vec<Sphere>,
    light: V3,
}

enum Surface<'a> {
    Sphere(&'a Sphere),
    Ground,
}

impl Scene {
    /// Tile `index` as row-major RGB bytes.
    pub fn tile(&self, index: u32) -> Vec<u8> {
        let (x0, y0, x1, y1) = self.spec.bounds(index);
        let mut out = Vec::with_capacity(((x1 - x0) * (y1 - y0) * 3) as usize);
        for y in y0..y1 {
            for x in x0..x1 {
                out.extend(self.pixel(x, y));
            }
        }
        out
    }

    fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
        let (w, h) = (Fx::from(self.spec.width), Fx::from(self.spec.height));
        let u = (2 * Fx::from(x) + 1 - w) * ONE / (2 * h);
        let v = (h - 2 * Fx::from(y) - 1) * ONE / (2 * h);
        let dir = V3::new(u, v - ONE / 10, ONE).normalized();
        let color = self.trace(V3::new(0, ONE * 6 / 5, -ONE * 3 / 2), dir, 1);
        color.map(|c| c.clamp(0, 255) as u8)
    }

    fn nearest(&self, origin: V3, dir: V3) -> Option<(Fx, Surface<'_>)> {
        let mut best: Option<(Fx, Surface<'_>)> = None;
        for sphere in &self.spheres {
            if let Some(t) = sphere.hit(origin, dir)
                && best.as_ref().is_none_or(|(b, _)| t < *b)
            {
                best = Some((t, Surface::Sphere(sphere)));
            }
        }
        if dir.y < 0 {
            let t = -origin.y * ONE / dir.y;
            if t > EPSILON && t < 60 * ONE && best.as_ref().is_none_or(|(b, _)| t < *b) {
                best = Some((t, Surface::Ground));
            }
        }
        best
    }

    fn trace(&self, origin: V3, dir: V3, bounces: u32) -> [Fx; 3] {
        let Some((t, surface)) = self.nearest(origin, dir) else {
            // Sky: lighter at the horizon.
            let up = dir.y.clamp(0, ONE);
            return [150 - mul(100, up), 190 - mul(110, up), 240 - mul(80, up)];
        };
        let point = origin.add(dir.scale(t));
        let (normal, base, reflect) = match surface {
            Surface::Sphere(s) => (
                point.sub(s.center).scale(ONE * ONE / s.radius),
                s.color.map(Fx::from),
                ONE / 4,
            ),
            Surface::Ground => {
                let checker = ((point.x >> 16) + (point.z >> 16)) & 1 == 0;
                let base = if checker {
                    [210, 210, 200]
                } else {
                    [60, 64, 90]
                };
                (V3::new(0, ONE, 0), base, 0)
            }
        };
        let lift = point.add(normal.scale(EPSILON * 4));
        let lit = self.nearest(lift, self.light).is_none();
        let diffuse = if lit {
            normal.dot(self.light).max(0)
        } else {
            0
        };
        let shade = ONE * 3 / 20 + mul(ONE * 17 / 20, diffuse);
        let mut color = base.map(|c| mul(c, shade));
        if reflect > 0 && bounces > 0 {
            let mirrored = dir.sub(normal.scale(2 * dir.dot(normal))).normalized();
            let bounced = self.trace(lift, mirrored, bounces - 1);
            for (c, b) in color.iter_mut().zip(bounced) {
                *c = mul(*c, ONE - reflect) + mul(b, reflect);
            }
        }
        color
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_image_including_partial_edges() {
        let spec = Render {
            seed: 1,
            width: 21,
            height: 10,
            tile: 8,
        };
        assert_eq!(spec.chunk_count(), 3 * 2);
        let scene = spec.scene();
        let tiles: Vec<_> = (0..spec.chunk_count()).map(|i| scene.tile(i)).collect();
        let bytes: usize = tiles.iter().map(Vec::len).sum();
        assert_eq!(bytes, 21 * 10 * 3);
        let png = spec.to_png(&tiles).expect("encodes");
        assert_eq!(&png[1..4], b"PNG");
        assert!(spec.to_png(&tiles[1..]).is_err());
    }

    #[test]
    fn the_picture_has_sky_ground_and_lit_spheres() {
        let spec = Render::demo(42);
        let scene = spec.scene();
        // Top row is sky (blue dominates), bottom row is ground (grey or dark blue checker).
        let sky = scene.pixel(0, 0);
        assert!(sky[2] > sky[0], "{sky:?}");
        let distinct: std::collections::BTreeSet<[u8; 3]> = (0..spec.width)
            .step_by(4)
            .flat_map(|x| (0..spec.height).step_by(4).map(move |y| (x, y)))
            .map(|(x, y)| scene.pixel(x, y))
            .collect();
        assert!(distinct.len() > 100, "{} colours", distinct.len());
        // Another seed moves the spheres.
        let other = Render::demo(43).scene();
        let differ = (0..spec.chunk_count())
            .filter(|i| scene.tile(*i) != other.tile(*i))
            .count();
        assert!(differ > 10);
    }
}
