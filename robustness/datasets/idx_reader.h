// Reads an IDX image/label pair (the MNIST / Fashion-MNIST file format, PAPER.md 3.1: the
// embedded default data set) into memory. Format (all integers big-endian):
//   images: magic 0x00000803, N, H, W (4 x uint32), then N*H*W uint8 pixels, row-major.
//   labels: magic 0x00000801, N (2 x uint32), then N uint8 labels.
// Files may be gzip-compressed or plain: zlib's gzread recognises the gzip magic 1f 8b and reads
// anything else as-is, so "train-images-idx3-ubyte.gz" and its unpacked form both work.
#ifndef ROBUSTNESS_DATASETS_IDX_READER_H_
#define ROBUSTNESS_DATASETS_IDX_READER_H_

#include "absl/status/statusor.h"
#include "robustness/datasets/in_memory_dataset.h"
#include "robustness/proto/dataset.pb.h"

namespace robustness {

// Loads `source.images_path` and `source.labels_path` as an InMemoryDataset with images uint8
// [N, 1, H, W] and labels int64 [N], num_classes = source.num_classes (>= 1, CHECKed; configs are
// validated by ValidateDatasetConfig first).
//
// Errors, each naming the file:
//   NotFound         a file does not exist (under /usr/share/datasets the message says to run
//                    tools/setup.sh, which installs the dataset-fashion-mnist package);
//   InvalidArgument  wrong magic number (found vs expected, in hex); image and label counts
//                    differ; a label >= num_classes (names the index and the value);
//   DataLoss         the file is shorter than its header promises (expected vs actual bytes), or
//                    the gzip stream is corrupt.
//
// Example:
//   proto::IdxSource source;
//   source.set_images_path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
//   source.set_labels_path("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
//   source.set_num_classes(10);
//   ASSIGN_OR_RETURN(InMemoryDataset test_set, ReadIdxDataset(source));  // 10000 x [1, 28, 28]
absl::StatusOr<InMemoryDataset> ReadIdxDataset(const proto::IdxSource& source);

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_IDX_READER_H_
