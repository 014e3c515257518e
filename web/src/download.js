// The Image Download Service request for what the viewer shows: the visible part of the image,
// at the coarsest downsample that still has a pixel for every device pixel on screen.

const clamp = (value, low, high) => Math.min(Math.max(value, low), high);

/**
 * Geometry parameters for the visible `region` (full-resolution pixels) of `image` (a SubImage
 * record) shown `screenWidth` device pixels wide; null when none of the image is visible.
 */
export function visibleGeometry(image, region, screenWidth) {
  const left = clamp(Math.floor(region.x), 0, image.image_width);
  const top = clamp(Math.floor(region.y), 0, image.image_height);
  const right = clamp(Math.ceil(region.x + region.w), 0, image.image_width);
  const bottom = clamp(Math.ceil(region.y + region.h), 0, image.image_height);
  if (right <= left || bottom <= top) return null;
  const imagePixelsPerScreenPixel = region.w / screenWidth;
  const finest = Math.floor(Math.log2(imagePixelsPerScreenPixel));
  const downsample = clamp(finest, 0, image.tier_count - 1);
  const scale = 2 ** downsample;
  return {
    downsample,
    left,
    top,
    width: Math.ceil((right - left) / scale),
    height: Math.ceil((bottom - top) / scale),
  };
}

/** Put text on the clipboard where the browser allows; true if it did. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
