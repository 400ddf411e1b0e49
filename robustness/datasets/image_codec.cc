#include "robustness/datasets/image_codec.h"

#include <png.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

// jpeglib.h needs size_t and FILE (<cstdio>) first, and jerror.h after it.
#include <jpeglib.h>
// (keep this order)
#include <jerror.h>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

// Interleaved 8-bit pixels, `channels` per pixel, row-major.
struct RawImage {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
};

// libjpeg's default error_exit calls exit(); this one jumps back to the decoder so a corrupt file
// becomes a Status. Only C frames (libjpeg's) lie between setjmp and longjmp.
struct JpegErrorManager {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void JpegErrorExit(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (msg_level -1) are silenced, except premature end of data, which libjpeg would otherwise
// paper over with grey rows.
void JpegEmitMessage(j_common_ptr cinfo, int msg_level) {
  if (msg_level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) JpegErrorExit(cinfo);
}

void InstallJpegErrors(JpegErrorManager* errors) {
  jpeg_std_error(&errors->manager);
  errors->manager.error_exit = JpegErrorExit;
  errors->manager.emit_message = JpegEmitMessage;
  errors->message[0] = '\0';
}

// Decodes rows [box.top, box.top + box.height) and columns [box.left, box.left + box.width) of
// the image, box = choose(height, width), to RGB (3 channels) or, for CMYK/YCCK files, to CMYK
// (4 channels; converted by the caller). libjpeg-turbo skips the rows above the box
// (jpeg_skip_scanlines: entropy decoding only) and runs the IDCT only on the iMCU columns the box
// touches (jpeg_crop_scanline); the rows below are skipped too, so that a truncated file is still
// an error wherever the box lies. Same pixels as a full decode, cropped (image_codec_test).
// `row` is scratch space. Returns false with `errors->message` set on failure. No C++ object with
// a destructor lives in this frame: libjpeg's errors longjmp to it.
bool DecodeJpegRaw(const std::string& bytes, const RegionChooser& choose, RawImage* out,
                   bool* adobe_inverted, std::vector<uint8_t>* row, JpegErrorManager* errors) {
  jpeg_decompress_struct cinfo;
  cinfo.err = &errors->manager;
  InstallJpegErrors(errors);
  if (setjmp(errors->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const PixelBox box = choose(cinfo.output_height, cinfo.output_width);
  CHECK(BoxInside(box, cinfo.output_height, cinfo.output_width))
      << BoxOutsideMessage(box, cinfo.output_height, cinfo.output_width);
  out->height = static_cast<int>(box.height);
  out->width = static_cast<int>(box.width);
  out->channels = cinfo.output_components;
  *adobe_inverted = cmyk && cinfo.saw_Adobe_marker;
  // Fancy upsampling treats the ends of a cropped row as image edges, so the outermost decoded
  // columns differ from a full decode's (by a few grey levels): ask for a margin of at least one
  // iMCU on each side of the box (clipped at the image's real edges, where a full decode sees the
  // same edge). jpeg_crop_scanline then widens the range further, to iMCU boundaries: decoded
  // rows start at column `x_first` and hold `x_count` pixels.
  const int64_t margin = 16 * std::max(1, cinfo.max_h_samp_factor);
  const int64_t x_begin = std::max<int64_t>(0, box.left - margin);
  const int64_t x_end = std::min<int64_t>(cinfo.output_width, box.left + box.width + margin);
  JDIMENSION x_first = static_cast<JDIMENSION>(x_begin);
  JDIMENSION x_count = static_cast<JDIMENSION>(x_end - x_begin);
  if (x_count < cinfo.output_width) {
    jpeg_crop_scanline(&cinfo, &x_first, &x_count);
  } else {
    x_first = 0;
    x_count = cinfo.output_width;
  }
  const size_t channels = static_cast<size_t>(out->channels);
  const size_t stride = static_cast<size_t>(out->width) * channels;
  out->pixels.resize(stride * out->height);
  row->resize(static_cast<size_t>(x_count) * channels);
  if (box.top > 0) jpeg_skip_scanlines(&cinfo, static_cast<JDIMENSION>(box.top));
  const size_t skip = (static_cast<size_t>(box.left) - x_first) * channels;
  for (int64_t y = 0; y < box.height; ++y) {
    JSAMPROW target = row->data();
    jpeg_read_scanlines(&cinfo, &target, 1);
    std::memcpy(out->pixels.data() + stride * y, row->data() + skip, stride);
  }
  // Skipping to the very end decodes nothing (libjpeg-turbo just marks the image done), which
  // would let a file truncated below the box pass: skip all but the last row, then read it.
  if (cinfo.output_scanline + 1 < cinfo.output_height) {
    jpeg_skip_scanlines(&cinfo, cinfo.output_height - cinfo.output_scanline - 1);
  }
  if (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW target = row->data();
    jpeg_read_scanlines(&cinfo, &target, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// Photoshop writes CMYK JPEGs inverted (flagged by the Adobe marker); libjpeg-based decoders
// (PIL, Chromium, OpenCV) then take R = C * K / 255. Plain CMYK gives R = (255 - C)(255 - K) / 255.
void CmykToRgb(bool adobe_inverted, RawImage* image) {
  const size_t n = static_cast<size_t>(image->height) * image->width;
  std::vector<uint8_t> rgb(3 * n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &image->pixels[4 * i];
    const int k = adobe_inverted ? p[3] : 255 - p[3];
    for (int c = 0; c < 3; ++c) {
      const int v = adobe_inverted ? p[c] : 255 - p[c];
      rgb[3 * i + c] = static_cast<uint8_t>((v * k + 127) / 255);
    }
  }
  image->pixels = std::move(rgb);
  image->channels = 3;
}

absl::StatusOr<RawImage> DecodeJpeg(const std::string& path, const std::string& bytes,
                                    const RegionChooser& choose) {
  RawImage image;
  bool adobe_inverted = false;
  std::vector<uint8_t> row;
  JpegErrorManager errors;
  if (!DecodeJpegRaw(bytes, choose, &image, &adobe_inverted, &row, &errors)) {
    return absl::DataLossError(absl::StrCat("cannot decode JPEG ", path, ": ", errors.message));
  }
  if (image.channels == 4) CmykToRgb(adobe_inverted, &image);
  return image;
}

absl::StatusOr<RawImage> DecodePng(const std::string& path, const std::string& bytes) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size())) {
    return absl::DataLossError(absl::StrCat("cannot decode PNG ", path, ": ", png.message));
  }
  // 8-bit RGBA is non-premultiplied sRGB in the simplified API; dropping A below then equals
  // PIL's convert("RGB") (which discards alpha rather than compositing).
  png.format = PNG_FORMAT_RGBA;
  std::vector<uint8_t> rgba(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, /*background=*/nullptr, rgba.data(), /*row_stride=*/0,
                             /*colormap=*/nullptr)) {
    std::string message = png.message;
    png_image_free(&png);
    return absl::DataLossError(absl::StrCat("cannot decode PNG ", path, ": ", message));
  }
  RawImage image;
  image.height = static_cast<int>(png.height);
  image.width = static_cast<int>(png.width);
  image.channels = 3;
  const size_t n = static_cast<size_t>(image.height) * image.width;
  image.pixels.resize(3 * n);
  for (size_t i = 0; i < n; ++i) std::memcpy(&image.pixels[3 * i], &rgba[4 * i], 3);
  return image;
}

absl::StatusOr<std::string> ReadBytes(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0 && errno == ENOENT) {
    return absl::NotFoundError(absl::StrCat("image not found: ", path));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::UnavailableError(absl::StrCat("cannot open ", path));
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return content.str();
}

// float [C, H, W] in [0, 1] -> uint8 [H, W, C], round(255 * value).
at::Tensor ToInterleavedBytes(const at::Tensor& image) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  CHECK(image.size(0) == 1 || image.size(0) == 3) << "need 1 or 3 channels, got " << image.size(0);
  CHECK_GT(image.numel(), 0);
  return image.detach()
      .cpu()
      .to(at::kFloat)
      .mul(255.0)
      .round_()
      .clamp_(0, 255)
      .to(at::kByte)
      .permute({1, 2, 0})
      .contiguous();
}

// rgb[3 i + c] -> plane c [i]. Cloned for AVX2 (chosen at load time on CPUs that have it), where
// the compiler vectorises the stride-3 loads with byte shuffles; plain x86-64 has none, and this
// loop was a fifth of a JPEG's decode time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void Deinterleave3(const uint8_t* __restrict rgb, int64_t n, uint8_t* __restrict r,
                   uint8_t* __restrict g, uint8_t* __restrict b) {
  for (int64_t i = 0; i < n; ++i) {
    r[i] = rgb[3 * i];
    g[i] = rgb[3 * i + 1];
    b[i] = rgb[3 * i + 2];
  }
}

PixelBox WholeImage(int64_t height, int64_t width) { return {0, 0, height, width}; }

// Rows and columns of `box` (CHECKed inside) of an interleaved image.
void CropRaw(const PixelBox& box, RawImage* image) {
  CHECK(BoxInside(box, image->height, image->width))
      << BoxOutsideMessage(box, image->height, image->width);
  if (box.height == image->height && box.width == image->width) return;
  const size_t c = static_cast<size_t>(image->channels);
  const size_t in_stride = static_cast<size_t>(image->width) * c;
  const size_t out_stride = static_cast<size_t>(box.width) * c;
  std::vector<uint8_t> out(out_stride * box.height);
  for (int64_t y = 0; y < box.height; ++y) {
    std::memcpy(out.data() + out_stride * y,
                image->pixels.data() + in_stride * (box.top + y) + c * box.left, out_stride);
  }
  image->pixels = std::move(out);
  image->height = static_cast<int>(box.height);
  image->width = static_cast<int>(box.width);
}

// The file's pixels inside choose(height, width), interleaved RGB.
absl::StatusOr<RawImage> DecodeRaw(const std::string& path, const RegionChooser& choose) {
  ASSIGN_OR_RETURN(std::string bytes, ReadBytes(path));
  if (bytes.size() >= 8 &&
      png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) == 0) {
    ASSIGN_OR_RETURN(RawImage image, DecodePng(path, bytes));
    CropRaw(choose(image.height, image.width), &image);
    return image;
  }
  if (bytes.size() >= 3 && static_cast<uint8_t>(bytes[0]) == 0xFF &&
      static_cast<uint8_t>(bytes[1]) == 0xD8) {
    return DecodeJpeg(path, bytes, choose);
  }
  return absl::DataLossError(absl::StrCat(path, ": neither a PNG nor a JPEG file"));
}

}  // namespace

absl::StatusOr<torch::Tensor> DecodeImageFile(const std::string& path) {
  ASSIGN_OR_RETURN(RawImage image, DecodeRaw(path, WholeImage));
  at::Tensor hwc = at::from_blob(image.pixels.data(), {image.height, image.width, 3}, at::kByte);
  return hwc.permute({2, 0, 1}).to(at::kFloat).contiguous().div_(255.0);
}

absl::StatusOr<torch::Tensor> DecodeImageFileRegion(const std::string& path,
                                                    const RegionChooser& choose) {
  ASSIGN_OR_RETURN(RawImage image, DecodeRaw(path, choose));
  const int64_t plane = static_cast<int64_t>(image.height) * image.width;
  at::Tensor out = at::empty({3, image.height, image.width}, at::kByte);
  uint8_t* r = out.data_ptr<uint8_t>();
  uint8_t* g = r + plane;
  uint8_t* b = g + plane;
  Deinterleave3(image.pixels.data(), plane, r, g, b);
  return out;
}

absl::Status WritePng(const std::string& path, const torch::Tensor& image) {
  at::Tensor bytes = ToInterleavedBytes(image);
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(bytes.size(1));
  png.height = static_cast<png_uint_32>(bytes.size(0));
  png.format = bytes.size(2) == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  if (!png_image_write_to_file(&png, path.c_str(), /*convert_to_8bit=*/0, bytes.data_ptr<uint8_t>(),
                               /*row_stride=*/0, /*colormap=*/nullptr)) {
    return absl::UnavailableError(absl::StrCat("cannot write PNG ", path, ": ", png.message));
  }
  return absl::OkStatus();
}

namespace {

// Returns false with `errors->message` set on failure. `file` is closed by the caller.
bool EncodeJpegRaw(std::FILE* file, const at::Tensor& bytes, int quality,
                   JpegErrorManager* errors) {
  jpeg_compress_struct cinfo;
  cinfo.err = &errors->manager;
  InstallJpegErrors(errors);
  if (setjmp(errors->jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_height = static_cast<JDIMENSION>(bytes.size(0));
  cinfo.image_width = static_cast<JDIMENSION>(bytes.size(1));
  cinfo.input_components = static_cast<int>(bytes.size(2));
  cinfo.in_color_space = bytes.size(2) == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const size_t stride = static_cast<size_t>(bytes.size(1) * bytes.size(2));
  uint8_t* data = bytes.data_ptr<uint8_t>();
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = data + stride * cinfo.next_scanline;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

absl::Status WriteJpeg(const std::string& path, const torch::Tensor& image, int quality) {
  CHECK_GE(quality, 1);
  CHECK_LE(quality, 100);
  at::Tensor bytes = ToInterleavedBytes(image);
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  JpegErrorManager errors;
  const bool ok = EncodeJpegRaw(file, bytes, quality, &errors);
  if (std::fclose(file) != 0 || !ok) {
    return absl::UnavailableError(absl::StrCat("cannot write JPEG ", path, ": ", errors.message));
  }
  return absl::OkStatus();
}

}  // namespace robustness
