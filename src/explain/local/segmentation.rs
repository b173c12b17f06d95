//! Superpixels for LIME, written for the course: SLIC (Achanta et al. 2012) and
//! quickshift (Vedaldi & Soatto 2008), both on CIELAB colours, both post-processed so
//! that every segment is one 4-connected region and every pixel has a segment.
//!
//! * SLIC: k-means on `(L, a, b, x, y)` started from a grid of step `S = √(HW/k)`, each
//!   centre searching a `2S × 2S` window, distance `√(d_lab² + (m·d_xy/S)²)`
//!   (`m` = compactness, scikit-image's default 10), 10 iterations.
//! * Quickshift: Parzen density with a Gaussian of width `kernel_size` over a window of
//!   radius `⌈3·kernel_size⌉`, on `(ratio·Lab, x, y)`; each pixel links to the nearest
//!   pixel of higher density within `max_dist`; trees are segments. Defaults as the lime
//!   package uses them: kernel_size 4, max_dist 200, ratio 0.2.
//!
//! Pinned by the tests below: segments are connected and cover every pixel.

use crate::error::{Result, invalid};
use rayon::prelude::*;

/// sRGB in [0, 1] → CIELAB (D65).
pub fn rgb_to_lab(r: f64, g: f64, b: f64) -> [f64; 3] {
    let lin = |c: f64| {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(r), lin(g), lin(b));
    let x = (0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b) / 0.950_47;
    let y = 0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b;
    let z = (0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b) / 1.088_83;
    let f = |t: f64| {
        if t > 0.008_856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// `[3, H, W]` (or `[1, H, W]`, grey) values in [0, 1] → Lab per pixel.
fn lab_image(img: &[f64], c: usize, h: usize, w: usize) -> Vec<[f64; 3]> {
    (0..h * w)
        .map(|p| {
            let ch = |k: usize| img[(if c == 3 { k } else { 0 }) * h * w + p].clamp(0.0, 1.0);
            rgb_to_lab(ch(0), ch(1), ch(2))
        })
        .collect()
}

/// Relabels so each segment is one 4-connected region, merging regions smaller than
/// `min_size` into a neighbour; labels come out as `0..count`.
pub fn connected(labels: &[usize], h: usize, w: usize, min_size: usize) -> Vec<usize> {
    let mut out = vec![usize::MAX; h * w];
    let mut sizes = Vec::new();
    for start in 0..h * w {
        if out[start] != usize::MAX {
            continue;
        }
        let id = sizes.len();
        let mut stack = vec![start];
        out[start] = id;
        let mut size = 0;
        while let Some(p) = stack.pop() {
            size += 1;
            let (y, x) = (p / w, p % w);
            let mut push = |q: usize| {
                if out[q] == usize::MAX && labels[q] == labels[start] {
                    out[q] = id;
                    stack.push(q);
                }
            };
            if y > 0 {
                push(p - w)
            }
            if y + 1 < h {
                push(p + w)
            }
            if x > 0 {
                push(p - 1)
            }
            if x + 1 < w {
                push(p + 1)
            }
        }
        sizes.push(size);
    }
    // merge small regions into the region of their first (raster-order) neighbour
    let mut target: Vec<usize> = (0..sizes.len()).collect();
    for p in 0..h * w {
        let r = out[p];
        if sizes[r] < min_size && target[r] == r {
            let (y, x) = (p / w, p % w);
            let nbrs = [
                (y > 0).then(|| p - w),
                (x > 0).then(|| p - 1),
                (y + 1 < h).then(|| p + w),
                (x + 1 < w).then(|| p + 1),
            ];
            if let Some(q) = nbrs.into_iter().flatten().find(|&q| out[q] != r) {
                target[r] = out[q];
            }
        }
    }
    let root = |mut r: usize| {
        let mut guard = 0;
        while target[r] != r && guard < sizes.len() {
            r = target[r];
            guard += 1;
        }
        r
    };
    let mut remap = vec![usize::MAX; sizes.len()];
    let mut next = 0;
    out.iter()
        .map(|&r| {
            let r = root(r);
            if remap[r] == usize::MAX {
                remap[r] = next;
                next += 1;
            }
            remap[r]
        })
        .collect()
}

/// SLIC superpixels of a `[c, h, w]` image (c = 1 or 3, values in [0, 1]).
pub fn slic(
    img: &[f64],
    c: usize,
    h: usize,
    w: usize,
    n_segments: usize,
    compactness: f64,
) -> Result<Vec<usize>> {
    if n_segments == 0 || h * w == 0 || img.len() != c * h * w || !(c == 1 || c == 3) {
        return invalid("slic needs a [1 or 3, H, W] image and at least one segment");
    }
    let lab = lab_image(img, c, h, w);
    let s = ((h * w) as f64 / n_segments as f64).sqrt().max(1.0);
    let mut centres: Vec<[f64; 5]> = Vec::new();
    let mut y = s / 2.0;
    while y < h as f64 {
        let mut x = s / 2.0;
        while x < w as f64 {
            let p = (y as usize).min(h - 1) * w + (x as usize).min(w - 1);
            centres.push([lab[p][0], lab[p][1], lab[p][2], y, x]);
            x += s;
        }
        y += s;
    }
    let mut labels = vec![0usize; h * w];
    let m2 = (compactness / s).powi(2);
    for _ in 0..10 {
        let mut best = vec![f64::INFINITY; h * w];
        for (k, cc) in centres.iter().enumerate() {
            let (y0, y1) = (
                (cc[3] - s).max(0.0) as usize,
                ((cc[3] + s) as usize + 1).min(h),
            );
            let (x0, x1) = (
                (cc[4] - s).max(0.0) as usize,
                ((cc[4] + s) as usize + 1).min(w),
            );
            for yy in y0..y1 {
                for xx in x0..x1 {
                    let p = yy * w + xx;
                    let dl = (0..3).map(|i| (lab[p][i] - cc[i]).powi(2)).sum::<f64>();
                    let dxy = (yy as f64 - cc[3]).powi(2) + (xx as f64 - cc[4]).powi(2);
                    let d = dl + m2 * dxy;
                    if d < best[p] {
                        best[p] = d;
                        labels[p] = k;
                    }
                }
            }
        }
        let mut acc = vec![[0.0f64; 6]; centres.len()];
        for p in 0..h * w {
            let a = &mut acc[labels[p]];
            for i in 0..3 {
                a[i] += lab[p][i];
            }
            a[3] += (p / w) as f64;
            a[4] += (p % w) as f64;
            a[5] += 1.0;
        }
        for (cc, a) in centres.iter_mut().zip(&acc) {
            if a[5] > 0.0 {
                *cc = [
                    a[0] / a[5],
                    a[1] / a[5],
                    a[2] / a[5],
                    a[3] / a[5],
                    a[4] / a[5],
                ];
            }
        }
    }
    Ok(connected(&labels, h, w, ((s * s) / 4.0) as usize))
}

/// Calls `f(q, d²)` for every pixel `q` of the clipped `(2r+1)²` window around `p`, with
/// `d²` the squared distance in `(scaled Lab, y, x)`.
#[inline(always)]
fn window_distances<F: FnMut(usize, f64)>(
    lab: &[[f64; 3]],
    h: usize,
    w: usize,
    r: usize,
    p: usize,
    f: &mut F,
) {
    let (y, x) = (p / w, p % w);
    let lp = lab[p];
    for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
        let dy = yy as f64 - y as f64;
        for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
            let q = yy * w + xx;
            let lq = lab[q];
            let dx = xx as f64 - x as f64;
            let (d0, d1, d2) = (lp[0] - lq[0], lp[1] - lq[1], lp[2] - lq[2]);
            f(q, d0 * d0 + d1 * d1 + d2 * d2 + dy * dy + dx * dx);
        }
    }
}

/// Quickshift superpixels of a `[c, h, w]` image (values in [0, 1]).
pub fn quickshift(
    img: &[f64],
    c: usize,
    h: usize,
    w: usize,
    kernel_size: f64,
    max_dist: f64,
    ratio: f64,
) -> Result<Vec<usize>> {
    if kernel_size <= 0.0 || h * w == 0 || img.len() != c * h * w || !(c == 1 || c == 3) {
        return invalid("quickshift needs a [1 or 3, H, W] image and kernel_size > 0");
    }
    let lab: Vec<[f64; 3]> = lab_image(img, c, h, w)
        .into_iter()
        .map(|v| v.map(|x| x * ratio))
        .collect();
    let r = (3.0 * kernel_size).ceil() as usize;
    let inv_two_k2 = 1.0 / (2.0 * kernel_size * kernel_size);
    // Both passes visit the same clipped square window; each pixel's result depends on
    // its own loop only, so splitting rows over threads cannot change a bit.
    let mut density = vec![0.0; h * w];
    density.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, out) in row.iter_mut().enumerate() {
            let mut sum = 0.0;
            window_distances(&lab, h, w, r, y * w + x, &mut |_, d2| {
                sum += (-d2 * inv_two_k2).exp()
            });
            *out = sum;
        }
    });
    let mut parent = vec![0usize; h * w];
    parent.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        for (x, out) in row.iter_mut().enumerate() {
            let p = y * w + x;
            let mut best = (max_dist * max_dist, p);
            window_distances(&lab, h, w, r, p, &mut |q, d2| {
                if density[q] > density[p] && d2 < best.0 {
                    best = (d2, q);
                }
            });
            *out = best.1;
        }
    });
    let roots: Vec<usize> = (0..h * w)
        .map(|mut p| {
            while parent[p] != p {
                p = parent[p];
            }
            p
        })
        .collect();
    Ok(connected(&roots, h, w, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_image(h: usize, w: usize) -> Vec<f64> {
        // a red disc on a blue-green gradient
        let mut img = vec![0.0; 3 * h * w];
        for y in 0..h {
            for x in 0..w {
                let p = y * w + x;
                let inside = ((y as f64 - 20.0).powi(2) + (x as f64 - 28.0).powi(2)).sqrt() < 11.0;
                img[p] = if inside { 0.9 } else { 0.1 };
                img[h * w + p] = if inside { 0.1 } else { x as f64 / w as f64 };
                img[2 * h * w + p] = if inside { 0.1 } else { 0.8 };
            }
        }
        img
    }

    fn assert_connected_cover(labels: &[usize], h: usize, w: usize) {
        let k = labels.iter().max().unwrap() + 1;
        assert_eq!(labels.len(), h * w);
        assert_eq!(
            connected(labels, h, w, 1).iter().max().unwrap() + 1,
            k,
            "every segment is one region"
        );
    }

    #[test]
    fn slic_segments_are_connected_and_follow_the_disc() {
        let (h, w) = (48, 56);
        let img = test_image(h, w);
        let l = slic(&img, 3, h, w, 30, 10.0).unwrap();
        assert_connected_cover(&l, h, w);
        let k = l.iter().max().unwrap() + 1;
        assert!((10..=60).contains(&k), "{k} segments");
        // a segment at the disc's centre stays inside the disc
        let centre = l[20 * w + 28];
        let outside = (0..h * w)
            .filter(|&p| l[p] == centre && img[p] < 0.5)
            .count();
        assert_eq!(outside, 0);
    }

    #[test]
    fn quickshift_segments_are_connected() {
        let (h, w) = (40, 44);
        let img = test_image(h, w);
        let l = quickshift(&img, 3, h, w, 4.0, 200.0, 0.2).unwrap();
        assert_connected_cover(&l, h, w);
        assert!(l.iter().max().unwrap() + 1 >= 2);
    }
}
