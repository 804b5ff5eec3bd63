/**
 * Pure mask maths on single-channel uint8 planes (row-major, width x height). No I/O.
 * Probabilities are stored as bytes (0..255) so every later step — rotation, upsampling to
 * the original resolution, thresholding — works on uint8, never on full-size float buffers.
 */

export interface Plane {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export interface BoundingBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Logistic function, safe for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/**
 * Mask logits (one image's H*W slice) → probability bytes round(255·sigmoid(logit)).
 * A lookup on the logit would be faster but this runs on 49k values at model size only.
 */
export function logitsToProbabilityBytes(logits: Float32Array, kind: 'logits' | 'probabilities'): Uint8Array {
  const out = new Uint8Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const p = kind === 'logits' ? sigmoid(logits[i]!) : logits[i]!;
    out[i] = Math.round(Math.min(1, Math.max(0, p)) * 255);
  }
  return out;
}

/** The ISIC binarisation threshold: a 0..255 mask value strictly above it is foreground. */
export const MASK_THRESHOLD = 128;

/** Binary 0/1 plane: value > threshold (ISIC: > 128 on 0..255). */
export function binarize(plane: Plane, threshold = MASK_THRESHOLD): Plane {
  return { data: binarizeValues(plane.data, threshold), width: plane.width, height: plane.height };
}

/**
 * 1 where a value is above the threshold, else 0: the one binarisation (serving, scoring, eval).
 *
 * @example
 * binarizeValues(Uint8Array.of(0, 128, 129, 255)); // Uint8Array [0, 0, 1, 1]
 */
export function binarizeValues(values: Uint8Array, threshold = MASK_THRESHOLD): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! > threshold ? 1 : 0;
  return out;
}

/** Rotate a plane 90° counter-clockwise (undoes the clockwise turn applied to portrait inputs). */
export function rotate90ccw(plane: Plane): Plane {
  const { width: w, height: h, data } = plane;
  const out = new Uint8Array(w * h);
  // output is h wide, w tall: out(x', y') = in(x = w-1-y', y = x')
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[(w - 1 - x) * h + y] = data[y * w + x]!;
  }
  return { data: out, width: h, height: w };
}

/**
 * Label 8-connected foreground components of a 0/1 plane; returns labels (0 = background) and
 * the pixel count of each label (index = label).
 */
export function connectedComponents(mask: Plane): { labels: Int32Array; sizes: number[] } {
  const { width: w, height: h, data } = mask;
  const labels = new Int32Array(w * h);
  const sizes = [0];
  const stack: number[] = [];
  for (let start = 0; start < data.length; start++) {
    if (data[start] === 0 || labels[start] !== 0) continue;
    const label = sizes.length;
    let size = 0;
    labels[start] = label;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      size++;
      const px = p % w;
      const py = (p - px) / w;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= w || (dx === 0 && dy === 0)) continue;
          const q = ny * w + nx;
          if (data[q] !== 0 && labels[q] === 0) {
            labels[q] = label;
            stack.push(q);
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/** Keep only the largest 8-connected component (ties: the first found in raster order). */
export function keepLargestComponent(mask: Plane): Plane {
  const { labels, sizes } = connectedComponents(mask);
  if (sizes.length <= 2) return mask;
  let best = 1;
  for (let l = 2; l < sizes.length; l++) if (sizes[l]! > sizes[best]!) best = l;
  const out = new Uint8Array(mask.data.length);
  for (let i = 0; i < out.length; i++) out[i] = labels[i] === best ? 1 : 0;
  return { data: out, width: mask.width, height: mask.height };
}

/** Fill background regions not 4-connected to the image border (holes inside the lesion). */
export function fillHoles(mask: Plane): Plane {
  const { width: w, height: h, data } = mask;
  const outside = new Uint8Array(w * h);
  const stack: number[] = [];
  const seed = (i: number) => {
    if (data[i] === 0 && outside[i] === 0) {
      outside[i] = 1;
      stack.push(i);
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  while (stack.length > 0) {
    const p = stack.pop()!;
    const px = p % w;
    if (px > 0) seed(p - 1);
    if (px < w - 1) seed(p + 1);
    if (p >= w) seed(p - w);
    if (p < (h - 1) * w) seed(p + w);
  }
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = outside[i] ? 0 : 1;
  return { data: out, width: w, height: h };
}

/**
 * Apply a cleaned binary mask back onto the probability plane: pixels outside the kept region
 * drop to 0, filled holes rise to 255. Upsampling this plane keeps smooth edges that
 * upsampling the binary mask would lose.
 */
export function constrainProbabilities(prob: Plane, cleaned: Plane, threshold = MASK_THRESHOLD): Plane {
  const out = new Uint8Array(prob.data.length);
  for (let i = 0; i < out.length; i++) {
    const p = prob.data[i]!;
    if (cleaned.data[i] === 0) out[i] = p > threshold ? 0 : p;
    else out[i] = p > threshold ? p : 255;
  }
  return { data: out, width: prob.width, height: prob.height };
}

export interface PostprocessOptions {
  readonly threshold: number;
  readonly keepLargestComponent: boolean;
  readonly fillHoles: boolean;
}

/** Threshold → optional largest component → optional hole filling, on probability bytes. */
export function cleanProbabilities(prob: Plane, opts: PostprocessOptions): Plane {
  if (!opts.keepLargestComponent && !opts.fillHoles) return prob;
  let mask = binarize(prob, opts.threshold);
  if (opts.keepLargestComponent) mask = keepLargestComponent(mask);
  if (opts.fillHoles) mask = fillHoles(mask);
  return constrainProbabilities(prob, mask, opts.threshold);
}

export interface MaskStats {
  /** Foreground pixels / all pixels. */
  readonly areaFraction: number;
  readonly foregroundPixels: number;
  /** Null when there is no foreground. */
  readonly boundingBox: BoundingBox | null;
  readonly touchesBorder: boolean;
}

/** Area, bounding box and border contact of a 0/1 plane. */
export function maskStats(mask: Plane): MaskStats {
  const { width: w, height: h, data } = mask;
  let n = 0;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[y * w + x] === 0) continue;
      n++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (n === 0) return { areaFraction: 0, foregroundPixels: 0, boundingBox: null, touchesBorder: false };
  return {
    areaFraction: n / (w * h),
    foregroundPixels: n,
    boundingBox: { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 },
    touchesBorder: x0 === 0 || y0 === 0 || x1 === w - 1 || y1 === h - 1,
  };
}

/** Scale a bounding box between two resolutions of the same image (edges rounded outwards). */
export function scaleBox(
  box: BoundingBox,
  from: { width: number; height: number },
  to: { width: number; height: number },
): BoundingBox {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  const x = Math.floor(box.x * sx);
  const y = Math.floor(box.y * sy);
  const x2 = Math.min(to.width, Math.ceil((box.x + box.width) * sx));
  const y2 = Math.min(to.height, Math.ceil((box.y + box.height) * sy));
  return { x, y, width: x2 - x, height: y2 - y };
}

/**
 * Nearest-neighbour resampling of a plane (pixel centres mapped onto the source grid).
 *
 * @example
 * resizeNearest({ data: Uint8Array.of(1, 0), width: 2, height: 1 }, 4, 2).data // 1,1,0,0,1,1,0,0
 */
export function resizeNearest(plane: Plane, width: number, height: number): Plane {
  const out = new Uint8Array(width * height);
  for (let ty = 0; ty < height; ty++) {
    const sy = Math.min(plane.height - 1, Math.floor(((ty + 0.5) * plane.height) / height));
    for (let tx = 0; tx < width; tx++) {
      const sx = Math.min(plane.width - 1, Math.floor(((tx + 0.5) * plane.width) / width));
      out[ty * width + tx] = plane.data[sy * plane.width + sx] ?? 0;
    }
  }
  return { data: out, width, height };
}

/** Outline of a 0/1 plane: foreground pixels with a 4-neighbour outside, dilated to `thickness`. */
export function outline(mask: Plane, thickness = 2): Plane {
  const { width: w, height: h, data } = mask;
  const edge = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (data[i] === 0) continue;
      if (
        x === 0 ||
        y === 0 ||
        x === w - 1 ||
        y === h - 1 ||
        !data[i - 1] ||
        !data[i + 1] ||
        !data[i - w] ||
        !data[i + w]
      ) {
        edge[i] = 1;
      }
    }
  }
  if (thickness <= 1) return { data: edge, width: w, height: h };
  const r = thickness - 1;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!edge[y * w + x]) continue;
      for (let dy = -r; dy <= r; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -r; dx <= r; dx++) {
          const nx = x + dx;
          if (nx >= 0 && nx < w) out[ny * w + nx] = 1;
        }
      }
    }
  }
  return { data: out, width: w, height: h };
}

/** Source tap of each output coordinate: lower index and fraction (half-pixel centres, clamped). */
function bilinearTaps(src: number, dst: number): { lo: Int32Array; frac: Float32Array } {
  const lo = new Int32Array(dst);
  const frac = new Float32Array(dst);
  const scale = src / dst;
  for (let i = 0; i < dst; i++) {
    const s = Math.min(src - 1, Math.max(0, (i + 0.5) * scale - 0.5));
    lo[i] = Math.floor(s);
    frac[i] = s - lo[i]!;
  }
  return { lo, frac };
}

/**
 * Bilinear upsampling of probability bytes followed by `> threshold`, straight to a 0/`on` plane
 * (half-pixel centres, as the model's own resize). Output runs whose four source taps lie on
 * the same side of the threshold are filled without interpolating, so a 12-megapixel mask
 * costs about one pass of `fill` plus the boundary pixels.
 *
 * @example
 * upsampleBinary({ data: Uint8Array.of(0, 255), width: 2, height: 1 }, 4, 1, 128).data // 0,0,1,1
 */
export function upsampleBinary(
  prob: Plane,
  width: number,
  height: number,
  threshold = MASK_THRESHOLD,
  on = 1,
): Plane {
  const { data: src, width: sw, height: sh } = prob;
  const out = new Uint8Array(width * height);
  const xs = bilinearTaps(sw, width);
  const ys = bilinearTaps(sh, height);
  // runs[k] = first output column whose lower tap is the k-th distinct source column
  const runStart: number[] = [];
  for (let x = 0; x < width; x++) if (x === 0 || xs.lo[x] !== xs.lo[x - 1]) runStart.push(x);
  runStart.push(width);
  for (let y = 0; y < height; y++) {
    const y0 = ys.lo[y]!;
    const fy = ys.frac[y]!;
    const rowA = y0 * sw;
    const rowB = Math.min(y0 + 1, sh - 1) * sw;
    const base = y * width;
    for (let k = 0; k + 1 < runStart.length; k++) {
      const from = runStart[k]!;
      const to = runStart[k + 1]!;
      const x0 = xs.lo[from]!;
      const x1 = Math.min(x0 + 1, sw - 1);
      const a = src[rowA + x0]!;
      const b = src[rowA + x1]!;
      const c = src[rowB + x0]!;
      const d = src[rowB + x1]!;
      const above =
        (a > threshold ? 1 : 0) + (b > threshold ? 1 : 0) + (c > threshold ? 1 : 0) + (d > threshold ? 1 : 0);
      if (above === 0) continue; // already 0
      if (above === 4) {
        out.fill(on, base + from, base + to);
        continue;
      }
      const top0 = a + (c - a) * fy;
      const top1 = b + (d - b) * fy;
      for (let x = from; x < to; x++) {
        const v = top0 + (top1 - top0) * xs.frac[x]!;
        if (v > threshold) out[base + x] = on;
      }
    }
  }
  return { data: out, width, height };
}
