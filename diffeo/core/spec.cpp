#include "diffeo/core/spec.h"

namespace diffeo {

SpecReader::SpecReader(const json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) throw Error(where_ + ": expected a JSON object, got " + object_.dump());
}

void SpecReader::finish() const {
  std::string unknown;
  for (const auto& item : object_.items())
    if (!read_.count(item.key())) unknown += (unknown.empty() ? "'" : ", '") + item.key() + "'";
  if (!unknown.empty()) throw Error(where_ + ": unknown key(s) " + unknown);
}

}  // namespace diffeo
