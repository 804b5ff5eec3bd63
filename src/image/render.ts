// Raster helpers for the evaluation reports (ROC plot, contact sheet): sharp stays in src/image.
import sharp from 'sharp';

/** An RGB tile placed at (left, top) on a canvas. */
export interface RgbTile {
  readonly pixels: Buffer;
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly top: number;
}

/** Rasterise an SVG document (sharp's built-in librsvg) to PNG. */
export function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A white canvas with RGB tiles and then a full-size SVG layer (labels, legend) on top, as PNG. */
export function composePng(
  width: number,
  height: number,
  tiles: readonly RgbTile[],
  svgOverlay: string,
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([
      ...tiles.map((t) => ({
        input: t.pixels,
        raw: { width: t.width, height: t.height, channels: 3 as const },
        left: t.left,
        top: t.top,
      })),
      { input: Buffer.from(svgOverlay), left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

/** An image file stretched to exactly width x height, 8-bit sRGB, no alpha; null when unreadable. */
export async function readRgbStretched(file: string, width: number, height: number): Promise<Buffer | null> {
  try {
    const image = await sharp(file)
      .resize(width, height, { fit: 'fill' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer();
    return image.length === width * height * 3 ? image : null;
  } catch {
    return null;
  }
}
