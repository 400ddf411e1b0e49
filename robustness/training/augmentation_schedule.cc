#include "robustness/training/augmentation_schedule.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/augmentation/mixup.h"
#include "robustness/augmentation/rand_augment.h"

namespace robustness {
namespace {

void ApplyRow(const proto::AugmentationEpoch& row, proto::TrainingConfig& config) {
  proto::RandAugmentConfig* ra = config.mutable_augmentation()->mutable_rand_augment();
  absl::StatusOr<RandAugmentParams> params = ParseRandAugmentSpec(ra->spec());
  CHECK(params.ok()) << params.status();
  params->magnitude = row.rand_augment_magnitude();
  ra->set_spec(FormatRandAugmentSpec(*params));
  config.mutable_mixup()->set_prob(row.mixup_prob());
  config.mutable_mixup()->set_cutmix_alpha(row.cutmix_alpha());
  config.mutable_mixup()->set_switch_prob(row.switch_prob());
}

const google::protobuf::RepeatedPtrField<proto::AugmentationEpoch>& Rows(
    const proto::TrainingConfig& config) {
  return config.augmentation_schedule().rows();
}

}  // namespace

absl::Status ValidateAugmentationSchedule(const proto::TrainingConfig& config) {
  switch (config.augmentation_curriculum_case()) {
    case proto::TrainingConfig::kFixedAugmentation:
      return absl::OkStatus();
    case proto::TrainingConfig::kAugmentationSchedule:
      break;
    case proto::TrainingConfig::AUGMENTATION_CURRICULUM_NOT_SET:
      return absl::InvalidArgumentError(
          "training.augmentation_curriculum: set one of fixed_augmentation {}, "
          "augmentation_schedule { rows { ... } }");
  }
  if (Rows(config).empty()) {
    return absl::InvalidArgumentError(
        "training.augmentation_schedule.rows: must have at least one row (or use "
        "fixed_augmentation {})");
  }
  if (!config.augmentation().has_rand_augment() || !config.has_mixup()) {
    return absl::InvalidArgumentError(
        "training.augmentation_schedule: needs augmentation.rand_augment and a mixup { ... } "
        "block (each row sets the RandAugment magnitude and the mixing probabilities)");
  }
  proto::TrainingConfig running = config;
  for (int i = 0; i < Rows(config).size(); ++i) {
    const proto::AugmentationEpoch& row = Rows(config)[i];
    const std::string field = absl::StrCat("training.augmentation_schedule.rows[", i, "].");
    auto invalid = [&](const std::string& name, const std::string& problem) {
      return absl::InvalidArgumentError(absl::StrCat(field, name, ": ", problem));
    };
    for (const char* name :
         {"from_epoch", "rand_augment_magnitude", "mixup_prob", "cutmix_alpha", "switch_prob"}) {
      if (!row.GetReflection()->HasField(row, row.GetDescriptor()->FindFieldByName(name))) {
        return invalid(name, "must be set");
      }
    }
    if (row.from_epoch() < 0 || row.from_epoch() >= config.epochs()) {
      return invalid("from_epoch", absl::StrCat("must be in [0, epochs=", config.epochs(),
                                                "), got ", row.from_epoch()));
    }
    if (i > 0 && row.from_epoch() <= Rows(config)[i - 1].from_epoch()) {
      return invalid("from_epoch", absl::StrCat("must be above the previous row's ",
                                                Rows(config)[i - 1].from_epoch(),
                                                " (rows in epoch order), got ", row.from_epoch()));
    }
    if (row.rand_augment_magnitude() < 0) {
      return invalid("rand_augment_magnitude",
                     absl::StrCat("must be >= 0, got ", row.rand_augment_magnitude()));
    }
    if (!(row.mixup_prob() >= 0 && row.mixup_prob() <= 1)) {
      return invalid("mixup_prob", absl::StrCat("must be in [0, 1], got ", row.mixup_prob()));
    }
    if (!(row.switch_prob() >= 0 && row.switch_prob() <= 1)) {
      return invalid("switch_prob", absl::StrCat("must be in [0, 1], got ", row.switch_prob()));
    }
    if (!(row.cutmix_alpha() >= 0)) {
      return invalid("cutmix_alpha", absl::StrCat("must be >= 0, got ", row.cutmix_alpha()));
    }
    ApplyRow(row, running);
    absl::Status status = ValidateMixupConfig(running.mixup(), running.batch_size());
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field.substr(0, field.size() - 1),
                                                     ": the mixup block it leaves is invalid: ",
                                                     status.message()));
    }
  }
  return absl::OkStatus();
}

proto::TrainingConfig TrainingConfigForEpoch(const proto::TrainingConfig& config, int epoch) {
  proto::TrainingConfig out = config;
  if (!config.has_augmentation_schedule()) return out;
  for (const proto::AugmentationEpoch& row : Rows(config)) {
    if (row.from_epoch() > epoch) break;
    ApplyRow(row, out);
  }
  return out;
}

}  // namespace robustness
