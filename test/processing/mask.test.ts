import {
  binarize,
  cleanProbabilities,
  connectedComponents,
  constrainProbabilities,
  fillHoles,
  keepLargestComponent,
  logitsToProbabilityBytes,
  maskStats,
  outline,
  resizeNearest,
  rotate90ccw,
  scaleBox,
  sigmoid,
  upsampleBinary,
  type Plane,
} from '../../src/processing/mask.js';

/** A plane from rows of digits, e.g. plane('010', '111'). */
function plane(...rows: string[]): Plane {
  const width = rows[0]!.length;
  return { data: Uint8Array.from(rows.join('').split('').map(Number)), width, height: rows.length };
}

/** The rows of a 0/1 plane as strings (readable failures). */
function rows(p: Plane): string[] {
  const out: string[] = [];
  for (let y = 0; y < p.height; y++)
    out.push(Array.from(p.data.subarray(y * p.width, (y + 1) * p.width)).join(''));
  return out;
}

describe('sigmoid', () => {
  it('is 1/2 at 0 and 1/(1+e^-2) = 0.8807970779778823 at 2', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2)).toBeCloseTo(0.8807970779778823, 15);
  });

  it('is symmetric: sigmoid(-x) = 1 - sigmoid(x)', () => {
    for (const x of [0.1, 1, 3.5, 10]) expect(sigmoid(-x)).toBeCloseTo(1 - sigmoid(x), 15);
  });

  it('saturates without NaN for large |x|', () => {
    // exp(1000) overflows to Infinity; the two-branch form never divides Infinity by Infinity
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(Number.isNaN(sigmoid(-1e308))).toBe(false);
  });
});

describe('logitsToProbabilityBytes', () => {
  it('maps logits to round(255 * sigmoid(logit))', () => {
    // 0 → 127.5 → 128 (Math.round rounds .5 up); -100 → 0; 100 → 255; 2 → 255 * 0.880797 = 224.60 → 225
    expect(logitsToProbabilityBytes(Float32Array.of(0, -100, 100, 2), 'logits')).toEqual(
      Uint8Array.of(128, 0, 255, 225),
    );
  });

  it('clamps probabilities to [0, 1] before scaling', () => {
    // 0.5 → 128; -0.2 → 0; 1.3 → 255; 0.25 → 63.75 → 64
    expect(logitsToProbabilityBytes(Float32Array.of(0.5, -0.2, 1.3, 0.25), 'probabilities')).toEqual(
      Uint8Array.of(128, 0, 255, 64),
    );
  });
});

describe('binarize', () => {
  it('sets pixels strictly above 128 (the ISIC rule) to 1', () => {
    const p = binarize({ data: Uint8Array.of(0, 128, 129, 255), width: 2, height: 2 });
    expect(p).toEqual({ data: Uint8Array.of(0, 0, 1, 1), width: 2, height: 2 });
  });

  it('uses a custom threshold', () => {
    expect(binarize({ data: Uint8Array.of(10, 11, 12), width: 3, height: 1 }, 11).data).toEqual(
      Uint8Array.of(0, 0, 1),
    );
  });
});

describe('rotate90ccw', () => {
  it('turns a 3x2 plane into a 2x3 plane, counter-clockwise', () => {
    // a b c        c f
    // d e f   →    b e
    //              a d
    const [a, b, c, d, e, f] = [1, 2, 3, 4, 5, 6];
    const out = rotate90ccw({ data: Uint8Array.of(a, b, c, d, e, f), width: 3, height: 2 });
    expect(out).toEqual({ data: Uint8Array.of(c, f, b, e, a, d), width: 2, height: 3 });
  });

  it('is the identity after four turns', () => {
    const p: Plane = { data: Uint8Array.from({ length: 12 }, (_, i) => i), width: 4, height: 3 };
    expect(rotate90ccw(rotate90ccw(rotate90ccw(rotate90ccw(p))))).toEqual(p);
  });
});

describe('connectedComponents', () => {
  it('joins diagonal neighbours (8-connectivity)', () => {
    const { labels, sizes } = connectedComponents(plane('100', '010', '001'));
    expect(sizes).toEqual([0, 3]);
    expect(Array.from(labels)).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  });

  it('labels separate components in raster order with their sizes', () => {
    // 1 . 1 1
    // . . 1 .   → component 1 = {(0,0)}, component 2 = {(2,0), (3,0), (2,1)}
    const { labels, sizes } = connectedComponents(plane('1011', '0010'));
    expect(sizes).toEqual([0, 1, 3]);
    expect(Array.from(labels)).toEqual([1, 0, 2, 2, 0, 0, 2, 0]);
  });

  it('finds nothing in an empty plane', () => {
    expect(connectedComponents(plane('000', '000')).sizes).toEqual([0]);
  });
});

describe('keepLargestComponent', () => {
  it('keeps the 3-pixel component and drops the 2-pixel one', () => {
    expect(rows(keepLargestComponent(plane('11000', '00001', '00011')))).toEqual(['00000', '00001', '00011']);
  });

  it('keeps the first component in raster order on a tie', () => {
    expect(rows(keepLargestComponent(plane('1001', '1001')))).toEqual(['1000', '1000']);
  });

  it('returns the same plane when there is at most one component', () => {
    const one = plane('0110', '0110');
    expect(keepLargestComponent(one)).toBe(one);
  });
});

describe('fillHoles', () => {
  it('fills the inside of a ring', () => {
    expect(rows(fillHoles(plane('00000', '01110', '01010', '01110', '00000')))).toEqual([
      '00000',
      '01110',
      '01110',
      '01110',
      '00000',
    ]);
  });

  it('leaves a C-shape open to the border unfilled', () => {
    const c = ['00000', '01110', '01000', '01110', '00000'];
    expect(rows(fillHoles(plane(...c)))).toEqual(c);
  });

  it('fills a hole that touches the outside only diagonally (background is 4-connected)', () => {
    // (1,1) has foreground on all four sides; its diagonal neighbour (0,0) is outside
    expect(rows(fillHoles(plane('0100', '1010', '0100')))).toEqual(['0100', '1110', '0100']);
  });
});

describe('constrainProbabilities', () => {
  it('drops removed pixels to 0, raises filled holes to 255, keeps the rest', () => {
    // prob:    200 (kept fg)  50 (hole, filled)  200 (removed component)  50 (background)
    // cleaned:   1             1                   0                        0
    const out = constrainProbabilities(
      { data: Uint8Array.of(200, 50, 200, 50), width: 4, height: 1 },
      { data: Uint8Array.of(1, 1, 0, 0), width: 4, height: 1 },
      128,
    );
    expect(out.data).toEqual(Uint8Array.of(200, 255, 0, 50));
  });
});

describe('cleanProbabilities', () => {
  const prob: Plane = {
    // a 2-pixel blob (200) on the left, a 4-pixel ring-ish blob (220) with a hole (60) on the right
    data: Uint8Array.of(200, 0, 220, 220, 220, 200, 0, 220, 60, 220, 0, 0, 220, 220, 220),
    width: 5,
    height: 3,
  };

  it('returns the input untouched when both steps are off', () => {
    expect(cleanProbabilities(prob, { threshold: 128, keepLargestComponent: false, fillHoles: false })).toBe(
      prob,
    );
  });

  it('keeps the largest component and fills its hole', () => {
    const out = cleanProbabilities(prob, { threshold: 128, keepLargestComponent: true, fillHoles: true });
    // left blob → 0, hole 60 → 255, everything else unchanged
    expect(Array.from(out.data)).toEqual([0, 0, 220, 220, 220, 0, 0, 220, 255, 220, 0, 0, 220, 220, 220]);
  });

  it('only removes small components when hole filling is off', () => {
    const out = cleanProbabilities(prob, { threshold: 128, keepLargestComponent: true, fillHoles: false });
    expect(Array.from(out.data)).toEqual([0, 0, 220, 220, 220, 0, 0, 220, 60, 220, 0, 0, 220, 220, 220]);
  });
});

describe('maskStats', () => {
  it('reports area, bounding box and no border contact for an interior blob', () => {
    // 4x3 with (1,1) and (2,1) set: 2/12 of the pixels, box x 1, y 1, 2 wide, 1 tall
    expect(maskStats(plane('0000', '0110', '0000'))).toEqual({
      areaFraction: 2 / 12,
      foregroundPixels: 2,
      boundingBox: { x: 1, y: 1, width: 2, height: 1 },
      touchesBorder: false,
    });
  });

  it.each([
    ['top', ['0100', '0000', '0000']],
    ['bottom', ['0000', '0000', '0010']],
    ['left', ['0000', '1000', '0000']],
    ['right', ['0000', '0001', '0000']],
  ])('flags contact with the %s border', (_side, r) => {
    expect(maskStats(plane(...r)).touchesBorder).toBe(true);
  });

  it('returns a null box for an empty mask', () => {
    expect(maskStats(plane('000', '000'))).toEqual({
      areaFraction: 0,
      foregroundPixels: 0,
      boundingBox: null,
      touchesBorder: false,
    });
  });
});

describe('scaleBox', () => {
  it('scales by an integer factor', () => {
    // x 1 → 2, y 1 → 2, right edge 3 → 6, bottom edge 2 → 4
    expect(
      scaleBox({ x: 1, y: 1, width: 2, height: 1 }, { width: 4, height: 3 }, { width: 8, height: 6 }),
    ).toEqual({
      x: 2,
      y: 2,
      width: 4,
      height: 2,
    });
  });

  it('rounds edges outwards for a non-integer factor', () => {
    // 3 → 4 (x 4/3): x floor(1.33) = 1, right edge ceil(2.67) = 3 → width 2
    expect(
      scaleBox({ x: 1, y: 1, width: 1, height: 1 }, { width: 3, height: 3 }, { width: 4, height: 4 }),
    ).toEqual({
      x: 1,
      y: 1,
      width: 2,
      height: 2,
    });
  });

  it('never extends past the target size, even when floating point overshoots', () => {
    // 7 → 29: the right edge is 7 * (29 / 7) = 29.000000000000004, whose ceiling 30 is clamped to 29
    const box = scaleBox(
      { x: 0, y: 0, width: 7, height: 7 },
      { width: 7, height: 7 },
      { width: 29, height: 29 },
    );
    expect(box).toEqual({ x: 0, y: 0, width: 29, height: 29 });
  });
});

describe('outline', () => {
  const block = plane('00000', '01110', '01110', '01110', '00000');

  it('keeps foreground pixels with a 4-neighbour outside (thickness 1)', () => {
    expect(rows(outline(block, 1))).toEqual(['00000', '01110', '01010', '01110', '00000']);
  });

  it('dilates the edge by thickness - 1 pixels', () => {
    // the 8 edge pixels dilated by a 3x3 square cover the whole 5x5 plane
    expect(rows(outline(block, 2))).toEqual(['11111', '11111', '11111', '11111', '11111']);
  });

  it('treats the image border as outside', () => {
    expect(rows(outline(plane('111', '111', '111'), 1))).toEqual(['111', '101', '111']);
  });
});

describe('resizeNearest', () => {
  it('repeats each source pixel when upsampling by an integer factor', () => {
    // 2x1 → 4x2: each pixel becomes a 2x2 block
    const out = resizeNearest({ data: Uint8Array.of(1, 0), width: 2, height: 1 }, 4, 2);
    expect(out.data).toEqual(Uint8Array.of(1, 1, 0, 0, 1, 1, 0, 0));
  });

  it('samples pixel centres when downsampling', () => {
    // 4x1 → 2x1: target centres 0.5, 1.5 map to source x = 1, 3
    expect(resizeNearest({ data: Uint8Array.of(0, 1, 0, 0), width: 4, height: 1 }, 2, 1).data).toEqual(
      Uint8Array.of(1, 0),
    );
  });
});

describe('upsampleBinary', () => {
  /** Textbook bilinear (half-pixel centres, edge-clamped) then `> t`, one pixel at a time. */
  function reference(p: Plane, w: number, h: number, t: number): number[] {
    const tap = (i: number, src: number, dst: number) => {
      const s = Math.min(src - 1, Math.max(0, ((i + 0.5) * src) / dst - 0.5));
      const lo = Math.floor(s);
      return [lo, Math.min(lo + 1, src - 1), s - lo] as const;
    };
    const out: number[] = [];
    for (let y = 0; y < h; y++) {
      const [y0, y1, fy] = tap(y, p.height, h);
      for (let x = 0; x < w; x++) {
        const [x0, x1, fx] = tap(x, p.width, w);
        const at = (yy: number, xx: number) => p.data[yy * p.width + xx]!;
        const v =
          (at(y0, x0) * (1 - fx) + at(y0, x1) * fx) * (1 - fy) +
          (at(y1, x0) * (1 - fx) + at(y1, x1) * fx) * fy;
        out.push(v > t ? 1 : 0);
      }
    }
    return out;
  }

  it('upsamples 0,255 to 0,0,1,1: output centres map to -0.25, 0.25, 0.75, 1.25 on the source', () => {
    // values 0, 63.75, 191.25, 255 (clamped) against 128
    const p = { data: Uint8Array.of(0, 255), width: 2, height: 1 };
    expect([...upsampleBinary(p, 4, 1, 128).data]).toEqual([0, 0, 1, 1]);
  });

  it('applies the strict > threshold rule: 128 stays background, 129 is lesion', () => {
    const p = { data: Uint8Array.of(128, 129), width: 2, height: 1 };
    expect([...upsampleBinary(p, 2, 1, 128).data]).toEqual([0, 1]);
  });

  it('at the same size is binarize', () => {
    const p = { data: Uint8Array.of(0, 200, 129, 128, 255, 3), width: 3, height: 2 };
    expect(upsampleBinary(p, 3, 2, 128).data).toEqual(binarize(p, 128).data);
  });

  it('writes the requested foreground value (255 for a PNG)', () => {
    const p = { data: Uint8Array.of(255, 255, 255, 255), width: 2, height: 2 };
    expect([...upsampleBinary(p, 3, 3, 128, 255).data]).toEqual(new Array(9).fill(255));
  });

  it.each([
    [4, 3, 17, 11],
    [5, 4, 5, 4],
    [6, 5, 13, 29],
    [8, 6, 3, 2],
  ])(
    'matches per-pixel bilinear on random %ix%i data upsampled to %ix%i (shortcut runs included)',
    (sw, sh, w, h) => {
      let seed = sw * 31 + h;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 256;
      // mostly saturated with some mid values, so both uniform and boundary runs occur
      const data = Uint8Array.from({ length: sw * sh }, () => {
        const r = rand();
        return r < 100 ? 0 : r > 156 ? 255 : Math.floor(r);
      });
      const p = { data, width: sw, height: sh };
      expect([...upsampleBinary(p, w, h, 128).data]).toEqual(reference(p, w, h, 128));
    },
  );
});
