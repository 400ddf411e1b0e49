#include "robustness/datasets/idx_writer.h"

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/base/atomic_file.h"

namespace robustness {
namespace {

void AppendBigEndian(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xFF));
}

absl::Status WriteGzip(const std::string& path, const std::string& header, const uint8_t* data,
                       size_t size) {
  return WriteFileAtomicallyWith(path, [&](const std::string& temp) -> absl::Status {
    gzFile file = gzopen(temp.c_str(), "wb6");
    if (file == nullptr) return absl::UnavailableError(absl::StrCat("cannot create ", temp));
    bool ok = gzwrite(file, header.data(), static_cast<unsigned>(header.size())) ==
              static_cast<int>(header.size());
    size_t done = 0;
    while (ok && done < size) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1 << 24));
      ok = gzwrite(file, data + done, chunk) == static_cast<int>(chunk);
      done += chunk;
    }
    if (gzclose(file) != Z_OK || !ok) {
      return absl::UnavailableError(absl::StrCat("writing ", path, " failed"));
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::Status WriteIdxImages(const std::string& path, const torch::Tensor& images) {
  CHECK(images.scalar_type() == torch::kUInt8) << "IDX images are uint8";
  CHECK(images.dim() == 3 || (images.dim() == 4 && images.size(1) == 1)) << images.sizes();
  const torch::Tensor flat = images.reshape({images.size(0), images.size(-2), images.size(-1)})
                                 .contiguous()
                                 .cpu();
  std::string header;
  AppendBigEndian(0x00000803, &header);
  for (int d = 0; d < 3; ++d) AppendBigEndian(static_cast<uint32_t>(flat.size(d)), &header);
  return WriteGzip(path, header, flat.data_ptr<uint8_t>(), static_cast<size_t>(flat.numel()));
}

absl::Status WriteIdxLabels(const std::string& path, const torch::Tensor& labels) {
  CHECK_EQ(labels.dim(), 1);
  CHECK(labels.numel() == 0 ||
        (labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() <= 255));
  const torch::Tensor bytes = labels.to(torch::kUInt8).contiguous().cpu();
  std::string header;
  AppendBigEndian(0x00000801, &header);
  AppendBigEndian(static_cast<uint32_t>(bytes.size(0)), &header);
  return WriteGzip(path, header, bytes.data_ptr<uint8_t>(), static_cast<size_t>(bytes.numel()));
}

}  // namespace robustness
