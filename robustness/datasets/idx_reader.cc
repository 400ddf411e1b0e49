#include "robustness/datasets/idx_reader.h"

#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

// An IDX file's header fields and the bytes after the header.
struct IdxFile {
  std::vector<uint32_t> dims;
  std::string payload;
};

absl::Status NotFoundError(const std::string& path) {
  std::string message = absl::StrCat("IDX file not found: ", path);
  if (absl::StartsWith(path, "/usr/share/datasets/")) {
    absl::StrAppend(&message, " (run tools/setup.sh to install dataset-fashion-mnist)");
  }
  return absl::NotFoundError(message);
}

// The whole (decompressed) content of `path`.
absl::StatusOr<std::string> ReadAll(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return NotFoundError(path);
    return absl::UnavailableError(absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  std::string content;
  std::vector<char> buffer(1 << 20);
  while (true) {
    const int n = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (n > 0) {
      content.append(buffer.data(), static_cast<size_t>(n));
      continue;
    }
    int error = Z_OK;
    const char* message = gzerror(file, &error);
    // Z_BUF_ERROR is a gzip stream that ends early: keep what was read and let the size check
    // below report expected vs actual bytes.
    if (n < 0 && error != Z_BUF_ERROR) {
      std::string text = message != nullptr ? message : "unknown zlib error";
      gzclose(file);
      return absl::DataLossError(absl::StrCat("cannot decompress ", path, ": ", text));
    }
    break;
  }
  gzclose(file);
  return content;
}

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Reads an IDX file with `num_dims` dimensions and magic `magic`, checking that it holds at least
// the product of the dimensions in bytes after the header.
absl::StatusOr<IdxFile> ReadIdx(const std::string& path, uint32_t magic, int num_dims) {
  ASSIGN_OR_RETURN(std::string content, ReadAll(path));
  const size_t header_bytes = 4 * static_cast<size_t>(1 + num_dims);
  if (content.size() < 4) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: expected at least ", header_bytes,
                                            " header bytes, got ", content.size()));
  }
  const uint32_t found = BigEndian32(content, 0);
  if (found != magic) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: bad IDX magic number 0x%08x, expected 0x%08x", path, found, magic));
  }
  if (content.size() < header_bytes) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: expected at least ", header_bytes,
                                            " header bytes, got ", content.size()));
  }
  IdxFile idx;
  uint64_t payload_bytes = 1;
  for (int d = 0; d < num_dims; ++d) {
    idx.dims.push_back(BigEndian32(content, 4 * static_cast<size_t>(1 + d)));
    // Saturate instead of overflowing on a corrupt header; the size check then reports it.
    const uint64_t dim = idx.dims.back();
    payload_bytes =
        (dim != 0 && payload_bytes > UINT64_MAX / dim) ? UINT64_MAX : payload_bytes * dim;
  }
  const uint64_t expected =
      payload_bytes > UINT64_MAX - header_bytes ? UINT64_MAX : header_bytes + payload_bytes;
  if (content.size() < expected) {
    return absl::DataLossError(absl::StrCat(path, ": truncated: header promises ", expected,
                                            " bytes, file has ", content.size()));
  }
  idx.payload = content.substr(header_bytes, payload_bytes);
  return idx;
}

}  // namespace

absl::StatusOr<InMemoryDataset> ReadIdxDataset(const proto::IdxSource& source) {
  CHECK_GE(source.num_classes(), 1);
  ASSIGN_OR_RETURN(IdxFile images, ReadIdx(source.images_path(), kImagesMagic, 3));
  ASSIGN_OR_RETURN(IdxFile labels, ReadIdx(source.labels_path(), kLabelsMagic, 1));
  const int64_t n = images.dims[0];
  if (labels.dims[0] != n) {
    return absl::InvalidArgumentError(absl::StrCat(source.images_path(), " holds ", n,
                                                   " images but ", source.labels_path(), " holds ",
                                                   labels.dims[0], " labels"));
  }
  auto* label_bytes = reinterpret_cast<const uint8_t*>(labels.payload.data());
  for (int64_t i = 0; i < n; ++i) {
    if (label_bytes[i] >= source.num_classes()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source.labels_path(), ": label ", static_cast<int>(label_bytes[i]),
                       " at index ", i, " is not below num_classes = ", source.num_classes()));
    }
  }
  const int64_t height = images.dims[1];
  const int64_t width = images.dims[2];
  at::Tensor pixels = at::empty({n, 1, height, width}, at::kByte);
  at::Tensor label_tensor = at::empty({n}, at::kByte);
  if (n > 0) {
    std::memcpy(pixels.data_ptr<uint8_t>(), images.payload.data(), images.payload.size());
    std::memcpy(label_tensor.data_ptr<uint8_t>(), labels.payload.data(), labels.payload.size());
  }
  return InMemoryDataset(pixels, label_tensor.to(at::kLong), source.num_classes());
}

}  // namespace robustness
