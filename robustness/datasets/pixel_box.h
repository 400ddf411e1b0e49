// A rectangle of an image in pixels, and the callback that picks one from an image's size: the
// contract between crop-first transforms (RandomResizedCrop, PAPER.md 3.1) and the data sources
// that decode only the part of an image a transform will use (image_codec.h, dataset.h).
#ifndef ROBUSTNESS_DATASETS_PIXEL_BOX_H_
#define ROBUSTNESS_DATASETS_PIXEL_BOX_H_

#include <cstdint>
#include <functional>
#include <string>

namespace robustness {

// Rows [top, top + height), columns [left, left + width). A box "inside" an H x W image has
// 0 <= top, 0 <= left, 1 <= height, 1 <= width, top + height <= H and left + width <= W.
struct PixelBox {
  int64_t top;
  int64_t left;
  int64_t height;
  int64_t width;
};

// Given an image's height and width, returns a box inside it. Called once per decode.
using RegionChooser = std::function<PixelBox(int64_t height, int64_t width)>;

// True if `box` lies inside a `height` x `width` image (see above).
inline bool BoxInside(const PixelBox& box, int64_t height, int64_t width) {
  return box.top >= 0 && box.left >= 0 && box.height >= 1 && box.width >= 1 &&
         box.top + box.height <= height && box.left + box.width <= width;
}

// "box (top, left, height, width) outside the H x W image", for CHECK messages.
inline std::string BoxOutsideMessage(const PixelBox& box, int64_t height, int64_t width) {
  return "region chooser returned box (top " + std::to_string(box.top) + ", left " +
         std::to_string(box.left) + ", height " + std::to_string(box.height) + ", width " +
         std::to_string(box.width) + ") outside the " + std::to_string(height) + " x " +
         std::to_string(width) + " image";
}

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_PIXEL_BOX_H_
