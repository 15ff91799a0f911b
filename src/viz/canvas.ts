// Showing an RgbaImage on a canvas. Browser only (uses the DOM; imports nothing).

import type { RgbaImage } from './tiles.js';

/**
 * Draws the image at its own size onto the canvas (resizing the canvas to it).
 * `zoom` enlarges the canvas on screen with crisp (pixelated) scaling via CSS.
 */
export function drawRgba(canvas: HTMLCanvasElement, img: RgbaImage, opts: { zoom?: number } = {}): void {
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('drawRgba: the canvas has no 2d context');
  const pixels = new Uint8ClampedArray(img.width * img.height * 4);
  pixels.set(img.rgba);
  ctx.putImageData(new ImageData(pixels, img.width, img.height), 0, 0);
  const zoom = opts.zoom ?? 1;
  canvas.style.imageRendering = 'pixelated';
  canvas.style.width = `${img.width * zoom}px`;
  canvas.style.height = `${img.height * zoom}px`;
}
