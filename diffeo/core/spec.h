#pragma once
// Reading options from JSON specs with clear errors.

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "diffeo/core/error.h"

namespace diffeo {

using json = nlohmann::json;

/// The non-empty items of a comma-separated list: "maf,nsf" -> {"maf", "nsf"}.
std::vector<std::string> split_list(const std::string& text);

/// Reads typed fields of a JSON object, remembering which keys were read, so
/// that finish() can refuse unknown keys (a typo in a spec must not be
/// silently ignored).  Errors name `where` and the key.
class SpecReader {
 public:
  SpecReader(const json& object, std::string where);

  /// The value at `key`, or `fallback` when absent; diffeo::Error when present
  /// with the wrong type.
  template <typename T>
  T get(const std::string& key, const T& fallback) {
    read_.insert(key);
    if (!object_.contains(key)) return fallback;
    try {
      return object_.at(key).get<T>();
    } catch (const json::exception&) {
      throw Error(where_ + ": key '" + key + "' has the wrong type (" + object_.at(key).dump() +
                  ")");
    }
  }
  /// The value at `key`, which must be present.
  template <typename T>
  T require(const std::string& key) {
    if (!object_.contains(key)) throw Error(where_ + ": missing key '" + key + "'");
    return get<T>(key, T{});
  }
  /// Throws diffeo::Error listing keys that were never read.
  void finish() const;

 private:
  const json& object_;
  std::string where_;
  std::set<std::string> read_;
};

}  // namespace diffeo
