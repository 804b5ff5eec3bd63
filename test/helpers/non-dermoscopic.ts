/**
 * Ordinary non-dermoscopic pictures, generated in code: what a teledermatology upload form
 * receives by mistake (screenshots, documents, scenes, blank or noisy frames).
 */
import sharp from 'sharp';

const W = 640;
const H = 480;

function svg(body: string, bg = '#ffffff'): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><rect width="${W}" height="${H}" fill="${bg}"/>${body}</svg>`,
  );
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface NamedImage {
  readonly name: string;
  readonly bytes: Buffer;
}

export async function nonDermoscopicImages(): Promise<NamedImage[]> {
  const r = rng(7);
  const out: NamedImage[] = [];
  const jpeg = async (name: string, input: Buffer) =>
    out.push({ name, bytes: await sharp(input).jpeg({ quality: 90 }).toBuffer() });
  // solid colours
  for (const c of ['#ffffff', '#000000', '#ff0000', '#2050c0', '#808080', '#e0b090'])
    await jpeg(`solid-${c}`, svg('', c));
  // noise
  for (const seed of [1, 2, 3]) {
    const n = rng(seed);
    const px = Buffer.alloc(W * H * 3);
    for (let i = 0; i < px.length; i++) px[i] = Math.floor(n() * 256);
    out.push({
      name: `noise-${seed}`,
      bytes: await sharp(px, { raw: { width: W, height: H, channels: 3 } })
        .jpeg()
        .toBuffer(),
    });
  }
  // text documents
  for (const [i, bg] of ['#ffffff', '#fdf6e3', '#1e1e1e'].entries()) {
    const fg = i === 2 ? '#dddddd' : '#222222';
    const lines = Array.from(
      { length: 14 },
      (_, k) =>
        `<text x="30" y="${40 + k * 30}" font-family="sans-serif" font-size="20" fill="${fg}">Line ${k + 1}: patient referral letter, lorem ipsum dolor sit amet ${k * 7}</text>`,
    );
    await jpeg(`text-${i}`, svg(lines.join(''), bg));
  }
  // screenshots: a window with a title bar, buttons and a table
  for (const i of [0, 1, 2]) {
    const rows = Array.from(
      { length: 8 },
      (_, k) =>
        `<rect x="40" y="${120 + k * 36}" width="560" height="30" fill="${k % 2 ? '#f0f0f0' : '#ffffff'}" stroke="#cccccc"/><text x="50" y="${140 + k * 36}" font-size="14" font-family="monospace">row ${k} value ${Math.floor(r() * 1000)}</text>`,
    );
    await jpeg(
      `screenshot-${i}`,
      svg(
        `<rect width="${W}" height="40" fill="${['#3b5998', '#222222', '#0a7d3b'][i]}"/><rect x="40" y="60" width="120" height="40" rx="6" fill="#1e88e5"/><text x="60" y="86" font-size="16" fill="#fff">Submit</text>${rows.join('')}`,
        '#fafafa',
      ),
    );
  }
  // simple scenes: sky + ground + sun + house; charts
  for (const i of [0, 1, 2]) {
    await jpeg(
      `scene-${i}`,
      svg(
        `<rect width="${W}" height="${H / 2}" fill="#87ceeb"/><rect y="${H / 2}" width="${W}" height="${H / 2}" fill="${['#4caf50', '#c2b280', '#9e9e9e'][i]}"/><circle cx="${500 - i * 80}" cy="90" r="45" fill="#ffd700"/><rect x="${120 + i * 60}" y="180" width="160" height="120" fill="#a0522d"/><polygon points="${110 + i * 60},180 ${200 + i * 60},110 ${290 + i * 60},180" fill="#8b0000"/>`,
      ),
    );
    const bars = Array.from({ length: 10 }, (_, k) => {
      const h = 40 + Math.floor(r() * 300);
      return `<rect x="${50 + k * 55}" y="${420 - h}" width="40" height="${h}" fill="hsl(${k * 36},70%,50%)"/>`;
    });
    await jpeg(`chart-${i}`, svg(`<line x1="40" y1="420" x2="620" y2="420" stroke="#000"/>${bars.join('')}`));
  }
  // gradients and stripes
  await jpeg(
    'gradient',
    svg(
      '<defs><linearGradient id="g"><stop offset="0" stop-color="#000"/><stop offset="1" stop-color="#fff"/></linearGradient></defs><rect width="640" height="480" fill="url(#g)"/>',
    ),
  );
  await jpeg(
    'stripes',
    svg(
      Array.from({ length: 16 }, (_, k) => `<rect x="${k * 40}" width="20" height="${H}" fill="#000"/>`).join(
        '',
      ),
    ),
  );
  await jpeg(
    'checkerboard',
    svg(
      Array.from(
        { length: 48 },
        (_, k) =>
          `<rect x="${(k % 8) * 80}" y="${Math.floor(k / 8) * 80}" width="80" height="80" fill="${(k + Math.floor(k / 8)) % 2 ? '#000' : '#fff'}"/>`,
      ).join(''),
    ),
  );
  return out;
}
