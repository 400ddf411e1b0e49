// Test-only: a complete 1-channel texture dictionary (texture_dictionary.h's format) whose
// textures are flat, one grey value per class, for tests of attacks and evaluations that need a
// dictionary without synthesising one.
#ifndef ROBUSTNESS_TEXTURES_CONSTANT_DICTIONARY_H_
#define ROBUSTNESS_TEXTURES_CONSTANT_DICTIONARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace robustness {

// Writes into `dir` (created if missing; an existing dictionary there is replaced) class c's
// `per_class` textures of `size` x `size` px, every value class_values[c] (in [0, 1]), for
// class_values.size() classes.
absl::Status WriteConstantTextureDictionary(const std::string& dir,
                                            const std::vector<float>& class_values,
                                            int64_t per_class, int64_t size);

}  // namespace robustness

#endif  // ROBUSTNESS_TEXTURES_CONSTANT_DICTIONARY_H_
