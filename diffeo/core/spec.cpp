#include "diffeo/core/spec.h"

#include <sstream>

namespace diffeo {

SpecReader::SpecReader(const json& object, std::string where)
    : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) throw Error(where_ + ": expected a JSON object, got " + object_.dump());
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

void SpecReader::finish() const {
  std::string unknown;
  for (const auto& item : object_.items())
    if (!read_.count(item.key())) unknown += (unknown.empty() ? "'" : ", '") + item.key() + "'";
  if (!unknown.empty()) throw Error(where_ + ": unknown key(s) " + unknown);
}

}  // namespace diffeo
