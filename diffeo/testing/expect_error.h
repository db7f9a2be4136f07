#pragma once
// expect_error: a statement must throw diffeo::Error whose message contains
// every given part (the argument's name, the expected and the received value).

#include <diffeo/core/error.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace diffeo::testing {

template <typename F>
void expect_error(F statement, std::initializer_list<const char*> parts) {
  try {
    statement();
    ADD_FAILURE() << "no diffeo::Error thrown";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const char* part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message lacks \"" << part << "\": " << message;
  }
}

}  // namespace diffeo::testing
