// The bit-depth rule: the scale an image's `range` bounds are written on.
//   4095 for a bits_per_component that is null, 8 or 9..12; 2**bits - 1 above 12.
// 8-bit values are brought to 4095 by the server; deep images without a range are windowed
// 0..scale, so that is what the fields show for them.

/** The scale of the range bounds for an image of `bits` bits per component (null: unknown). */
export function scaleOf(bits) {
  return Number.isInteger(bits) && bits > 12 ? 2 ** bits - 1 : 4095;
}

/** Whether the image is known to have more than 8 bits per component. */
const isDeep = (bits) => Number.isInteger(bits) && bits > 8;

/** The range an image opens with: its data set's Equalization, else 0..scale for a deep
 * image, else none (an 8-bit image passes unchanged; an unknown depth is the server's call). */
export function defaultRange(equalization, bits) {
  if (equalization) return equalization;
  const scale = scaleOf(bits);
  return isDeep(bits) ? [0, scale, 0, scale, 0, scale].join(",") : null;
}
